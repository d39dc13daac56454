"""Where credentials come from: providers behind one interface.

A provider answers one question, "which credential has this access key?", with the
:class:`~services.auth.domain.Credential`, ``None`` when the key is unknown, or
:class:`ProviderUnavailable` when it cannot tell right now (its backend is down or slow). The
auth service always wraps a provider in :class:`~services.auth.cache.CachingProvider`, which
adds TTLs, negative caching, one lookup per key in flight and stale-while-error; providers
themselves stay simple.

* :class:`StaticCredentialProvider` - a JSON file, read once at start::

    {"credentials": [{"access_key_id": "AK...", "secret_access_key": "...",
                      "account_id": "<tenant id>", "user": "alice",
                      "account_number": "123456789012"}]}      # account_number optional

* :class:`~services.auth.cloudstack.CloudStackCredentialProvider` - the tenants' own CloudStack API
  keys, looked up with ``getUser`` / ``getUserKeys`` / ``listAccounts``.
* :class:`ChainProvider` - the first provider that knows a key wins (a static file of service
  accounts in front of CloudStack, say).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from services.auth.domain import Credential
from stackwatch import errors

LOG = logging.getLogger(__name__)


class ProviderUnavailable(errors.ServiceUnavailable):  # type: ignore[valid-type,misc]
    """The provider's backend could not answer now; the same lookup may succeed later."""


class CredentialProvider(Protocol):
    """Looks credentials up by access key."""

    async def lookup(self, access_key_id: str) -> Credential | None:
        """The credential of ``access_key_id``; None when no such key exists.

        Raises:
            ProviderUnavailable: the backend could not be asked (retryable).
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class StaticCredentialProvider:
    """Credentials from a fixed list (a JSON file), for demos, tests and small installations."""

    def __init__(self, credentials: Iterable[Credential]) -> None:
        self._by_key: dict[str, Credential] = {}
        for c in credentials:
            if c.access_key_id in self._by_key:
                raise errors.StackWatchError(f"access key {c.access_key_id} is listed twice")
            self._by_key[c.access_key_id] = c

    @classmethod
    def from_file(cls, path: str | Path) -> StaticCredentialProvider:
        """Read ``{"credentials": [...]}`` from ``path``.

        Raises:
            StackWatchError: the file is missing, not JSON, or an entry lacks a required field.
        """
        try:
            doc = json.loads(Path(path).read_text())
        except OSError as e:
            raise errors.StackWatchError(f"cannot read the credentials file {path}: {e.strerror}") from None
        except ValueError as e:
            raise errors.StackWatchError(f"the credentials file {path} is not valid JSON: {e}") from None
        entries = doc.get("credentials") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise errors.StackWatchError(f'the credentials file {path} needs a "credentials" list')
        provider = cls(_credential(e, i, path) for i, e in enumerate(entries))
        LOG.info("static credentials: %d keys from %s", len(provider._by_key), path)
        return provider

    async def lookup(self, access_key_id: str) -> Credential | None:
        """The listed credential, or None."""
        return self._by_key.get(access_key_id)

    async def close(self) -> None:
        """Nothing to release."""


class ChainProvider:
    """Asks each provider in turn; the first that knows the key answers."""

    def __init__(self, providers: Iterable[CredentialProvider]) -> None:
        self._providers = list(providers)

    async def lookup(self, access_key_id: str) -> Credential | None:
        """The first provider's credential for the key, or None when none knows it."""
        for provider in self._providers:
            found = await provider.lookup(access_key_id)
            if found is not None:
                return found
        return None

    async def close(self) -> None:
        """Close every provider."""
        for provider in self._providers:
            await provider.close()


def _credential(entry: Any, index: int, path: str | Path) -> Credential:
    if not isinstance(entry, dict):
        raise errors.StackWatchError(f"{path}: credentials[{index}] is not an object")
    missing = [k for k in ("access_key_id", "secret_access_key", "account_id")
               if not isinstance(entry.get(k), str) or not entry[k]]
    if missing:
        raise errors.StackWatchError(f"{path}: credentials[{index}] lacks {', '.join(missing)}")
    return Credential(access_key_id=entry["access_key_id"], secret_access_key=entry["secret_access_key"],
                      account_id=entry["account_id"], user=str(entry.get("user", "")),
                      account_number=str(entry.get("account_number", "")),
                      active=bool(entry.get("active", True)),
                      reason="The access key is disabled." if not entry.get("active", True) else "")
