"""Where alarm deliveries may connect: subscriber URLs are chosen by tenants, so some addresses are off limits.

A tenant names any http/https endpoint in Subscribe, and the alarm service POSTs to it from inside
the deployment. Without a rule a tenant could aim it at the cloud's metadata service or at
StackWatch's own backends (ClickHouse's HTTP port runs SQL it is POSTed). :class:`Egress` holds the
denied networks (``AlarmSettings.delivery_denied_networks``) and checks the address actually
connected to, after DNS, so a name that resolves into a denied network is refused as a literal
address is; a refusal is final (not retried).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DeniedAddress(OSError):
    """The endpoint's address is in a denied network."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``10.0.0.0/8, 169.254.0.0/16`` -> networks (comma-separated CIDRs; empty: none).

    Raises:
        ValueError: a part is not a CIDR.
    """
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class Egress(AbstractResolver):
    """A resolver for aiohttp that drops denied addresses, and a check for literal-address URLs.

    Args:
        denied: networks no delivery may reach.
    """

    def __init__(self, denied: Sequence[Network]) -> None:
        self._denied = tuple(denied)
        self._inner = ThreadedResolver()

    def denied(self, address: str) -> bool:
        """Whether ``address`` (an IP literal) lies in a denied network."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._denied)

    def check_url(self, url: str) -> None:
        """Refuse a URL whose host is a literal address in a denied network (aiohttp resolves no literal).

        Raises:
            DeniedAddress: it is.
        """
        host = urlsplit(url).hostname or ""
        if self.denied(host):
            raise DeniedAddress(f"the endpoint's address {host} is in a network StackWatch does not deliver to")

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """``host``'s addresses outside the denied networks.

        Raises:
            DeniedAddress: every address is denied.
        """
        found = await self._inner.resolve(host, port, family)
        allowed = [r for r in found if not self.denied(r["host"])]
        if not allowed:
            raise DeniedAddress(f"{host} resolves only to networks StackWatch does not deliver to")
        return allowed

    async def close(self) -> None:
        """Release the inner resolver."""
        await self._inner.close()
