"""Reading a request body with a size limit and two deadlines, and gunzipping it with another.

aiohttp has no timeout for a body a handler reads: a client that sends its head and a part of its
body can hold the connection (and the handler) for ever. :func:`read_body` reads it chunk by chunk
under one :func:`asyncio.timeout` that is pushed back by each chunk, never past the total::

    head received ── chunk ── chunk ──────── stall_timeout, no byte ──> RequestTimeout (408)
         |<──────────────────── body_timeout, whatever the pace ─────────> RequestTimeout (408)

Failures are AWS errors the gateway answers in the request's protocol: ``RequestEntityTooLarge``
(as declared by Content-Length, or as it arrives), ``RequestTimeout`` (which SDKs retry), and
``SerializationException`` for a body whose HTTP framing is broken (a bad chunk, a connection
half-closed before Content-Length bytes arrived). A client that went away gets nothing:
:class:`ClientGone` tells the handler there is no one to answer.
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from stackwatch import errors


class RequestTimeout(errors.ServiceError):
    """AWS error ``RequestTimeout`` (HTTP 408): the body did not arrive in time.

    botocore's standard retry mode treats this code as transient and retries it.
    """

    code = "RequestTimeout"
    status = 408
    sender_fault = True


class ClientGone(Exception):  # noqa: N818 - a signal, not an error anyone sees
    """The client closed its connection before sending the whole body."""


async def read_body(request: web.BaseRequest, *, max_bytes: int, stall_timeout: float,
                    body_timeout: float) -> bytes:
    """The whole body of ``request``, as sent.

    Raises:
        RequestEntityTooLarge: more than ``max_bytes`` declared or sent.
        RequestTimeout: no byte for ``stall_timeout`` s, or not all within ``body_timeout`` s.
        SerializationException: the body's framing is broken (chunked encoding, early EOF).
        ClientGone: the connection was lost.
    """
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise errors.RequestEntityTooLarge(f"Request size exceeds {max_bytes} bytes.")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + body_timeout
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(min(stall_timeout, body_timeout)) as timer:
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > max_bytes:
                    raise errors.RequestEntityTooLarge(f"Request size exceeds {max_bytes} bytes.")
                chunks.append(chunk)
                timer.reschedule(min(deadline, loop.time() + stall_timeout))
    except TimeoutError:
        if loop.time() >= deadline:
            raise RequestTimeout(f"The request body was not received within {body_timeout:g} seconds.") from None
        raise RequestTimeout(f"No part of the request body arrived for {stall_timeout:g} seconds.") from None
    except ConnectionError:
        raise ClientGone() from None
    except (HttpProcessingError, web.RequestPayloadError) as e:
        raise errors.SerializationException(f"The request body could not be read: {_reason(e)}") from None
    return b"".join(chunks)


def _reason(e: Exception) -> str:
    text = e.message if isinstance(e, HttpProcessingError) else str(e)
    return text.splitlines()[0][:200] if text else type(e).__name__


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a ``Content-Encoding: gzip`` body, refusing more than ``limit`` bytes out.

    Raises:
        SerializationException: not gzip data, or truncated.
        RequestEntityTooLarge: more than ``limit`` bytes once decompressed.
    """
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise errors.SerializationException(f"The request body could not be decompressed: {e}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise errors.RequestEntityTooLarge(f"Request size exceeds {limit} bytes after decompression.")
    if not d.eof:
        raise errors.SerializationException("The request body could not be decompressed: truncated gzip data.")
    return out
