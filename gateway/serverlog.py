"""What aiohttp's HTTP server logs about bad requests, made one rate-limited line each.

aiohttp answers a request it cannot parse (``BadHttpMessage``, ``LineTooLong``, a bad chunk...)
with a 400 and logs it through its ``logger`` (``aiohttp.server``) with ``logger.exception``: a full
traceback at ERROR for every malformed request, so anyone can flood the logs. aiohttp takes the
logger as an argument (``RequestHandler(logger=...)``, passed through ``AppRunner``'s keyword
arguments); :class:`ServerLog` is the one the gateway passes. It sorts what aiohttp reports:

- the client's fault (an ``HttpProcessingError``, a payload error, a connection reset): one line
  at INFO, ``malformed HTTP request from <peer>: <first line of the reason>``, at most
  ``limit`` per 10 s, with the count of the suppressed ones on the next line that gets through;
- anything else (a bug of ours reaching aiohttp): a traceback at ERROR, as before, but also
  rate-limited, so that a bug a client can trigger cannot be used to flood the logs either.

Other records (debug, warnings) pass through unchanged. The gateway's handler uses the same
limiter for the errors it answers itself (body timeouts, unreadable bodies).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from stackwatch.logs import RateLimitedLog

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
_CLIENT_FAULTS = (HttpProcessingError, web.RequestPayloadError, ConnectionError)


def describe(exc: BaseException) -> str:
    """A short, single-line, printable description of a client's bad request.

    Only the first line of aiohttp's reason: the lines after it quote the offending bytes, which
    may be an ``Authorization`` header, and signatures are never logged.
    """
    text = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    words = " ".join(first.split()).rstrip(":") or type(exc).__name__
    line = f"{type(exc).__name__}: {words}"
    line = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), line)
    return line if len(line) <= 160 else line[:157] + "..."


class ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to aiohttp's request handlers (see the module docstring).

    Args:
        limited: the rate-limited log the condensed lines go to; its logger is also where
            everything else is forwarded.
    """

    def __init__(self, limited: RateLimitedLog) -> None:
        super().__init__(limited.logger, {})
        self.limited = limited

    def debug(self, msg: object, *args: object, exc_info: Any = None, **kwargs: Any) -> None:
        """Forward, without the traceback of a client's fault (aiohttp logs non-HTTP traffic so)."""
        if isinstance(exc_info, _CLIENT_FAULTS):
            exc_info = None
        super().debug(msg, *args, exc_info=exc_info, **kwargs)

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        """Condense what aiohttp reports about a request (see the module docstring)."""
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        peer = args[0] if args else "?"
        if isinstance(exc, _CLIENT_FAULTS):
            self.limited.log(logging.INFO, "malformed-http", "malformed HTTP request from %s: %s",
                             peer, describe(exc))
            return
        self.limited.log(logging.ERROR, "server-error", str(msg), *args, exc_info=exc_info)
