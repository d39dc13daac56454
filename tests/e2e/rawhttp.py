"""Raw HTTP/1.1 over a socket, for tests that must send what no HTTP client library would.

:func:`exchange` writes bytes exactly as given (optionally in timed pieces), then reads every
response the server sends until it closes the connection or goes quiet, and reports how the
connection ended. :func:`signed` builds a SigV4-signed request the way botocore signs it, from
any body (so a deliberately broken body still passes authentication and reaches the parsers).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.stack import TENANTS

_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")
_CONTENT_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics", "x-amzn-query-mode": "true"}


@dataclass
class Response:
    """One response: status, raw head (status line and headers) and body."""

    status: int
    head: bytes
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value (first occurrence), or None."""
        m = re.search(rb"^" + re.escape(name.encode()) + rb":\s*(.*?)\r?$", self.head, re.IGNORECASE | re.MULTILINE)
        return m.group(1).decode("latin-1") if m else None


@dataclass
class Outcome:
    """What came back on one connection.

    Attributes:
        responses: every complete response, in order.
        closed: the server closed (or reset) the connection.
        reset: it was a reset, not an orderly close.
        leftover: bytes after the last complete response (a response cut short).
    """

    responses: list[Response] = field(default_factory=list)
    closed: bool = False
    reset: bool = False
    leftover: bytes = b""

    @property
    def statuses(self) -> list[int]:
        """The statuses of the responses, in order."""
        return [r.status for r in self.responses]


def parse_responses(data: bytes) -> tuple[list[Response], bytes]:
    """Complete responses at the start of ``data`` (Content-Length framed) and the rest."""
    out = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        head = data[:end]
        m = _STATUS.match(head)
        if m is None:
            return out, data
        n = _CONTENT_LENGTH.search(head)
        length = int(n.group(1)) if n else 0
        if len(data) < end + 4 + length:
            return out, data
        out.append(Response(int(m.group(1)), head, data[end + 4:end + 4 + length]))
        data = data[end + 4 + length:]


async def exchange(port: int, pieces: bytes | list[tuple[float, bytes]], *, quiet: float = 2.0,
                   limit: float = 30.0, half_close: bool = False, until_responses: int | None = None) -> Outcome:
    """Send ``pieces`` to 127.0.0.1:``port`` and collect what comes back.

    Args:
        port: the gateway's port.
        pieces: bytes to send at once, or ``(delay, bytes)`` pairs sent after each delay.
        quiet: stop reading after this many seconds without a byte (the connection stays open).
        limit: stop reading after this many seconds in all.
        half_close: shut down the writing side after sending.
        until_responses: stop as soon as this many complete responses arrived.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    outcome = Outcome()
    received = bytearray()
    sent = asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit

    async def read() -> None:
        # reads while we write: a reset after the server answered must not lose the answer
        while True:
            wait = deadline - loop.time()
            if sent.is_set():
                wait = min(wait, quiet)
            try:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.0, wait))
            except TimeoutError:
                if sent.is_set() or loop.time() >= deadline:
                    return
                continue
            except ConnectionError:
                outcome.closed = outcome.reset = True
                return
            if not chunk:
                outcome.closed = True
                return
            received.extend(chunk)
            if until_responses is not None and len(parse_responses(bytes(received))[0]) >= until_responses:
                return

    reading = asyncio.create_task(read())
    try:
        try:
            for delay, chunk in ([(0.0, pieces)] if isinstance(pieces, bytes) else pieces):
                if delay:
                    await asyncio.sleep(delay)
                if reading.done():
                    break
                writer.write(chunk)
                await writer.drain()
            if half_close and writer.can_write_eof():
                writer.write_eof()
        except ConnectionError:
            outcome.reset = True
        sent.set()
        await reading
    finally:
        reading.cancel()
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
    outcome.responses, outcome.leftover = parse_responses(bytes(received))
    return outcome


def signed(endpoint: str, body: bytes, headers: dict[str, str], *, method: str = "POST", path: str = "/",
           tenant: str = "a") -> list[tuple[str, str]]:
    """The headers of a request signed with SigV4 for ``body`` as it is (``Host`` included)."""
    t = TENANTS[tenant]
    host = endpoint.split("://", 1)[1]
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers={**headers, "Host": host})
    SigV4Auth(Credentials(t["access_key_id"], t["secret_access_key"]), "monitoring", "us-east-1").add_auth(req)
    return list(req.headers.items())


def build(method: str, path: str, headers: list[tuple[str, str]] | list[tuple[bytes, bytes]], body: bytes, *,
          content_length: bool = True) -> bytes:
    """The request's bytes: request line, headers as given, Content-Length (unless told not to), body."""
    lines = [f"{method} {path} HTTP/1.1".encode("latin-1")]
    for name, value in headers:
        n = name if isinstance(name, bytes) else name.encode("latin-1")
        v = value if isinstance(value, bytes) else value.encode("utf-8")
        lines.append(n + b": " + v)
    if content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
