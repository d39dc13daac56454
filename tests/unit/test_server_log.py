"""What aiohttp reports about bad requests becomes one rate-limited line, never a traceback."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import BadHttpMessage, LineTooLong

from gateway.serverlog import ServerLog, describe
from stackwatch.logs import RateLimitedLog


def _log(limit: int = 3) -> ServerLog:
    return ServerLog(RateLimitedLog(logging.getLogger("test.aiohttp.server"), limit=limit, interval=10.0,
                                    clock=lambda: 0.0))


def test_a_malformed_request_is_one_info_line_without_traceback(caplog):
    caplog.set_level(logging.DEBUG, logger="test.aiohttp.server")
    exc = BadHttpMessage("Invalid header value char:\n\n  b'Authorization: AWS4-HMAC-SHA256 Signature=abc\\x01'\n  ^")
    _log().exception("Error handling request from %s", "10.0.0.1", exc_info=exc)
    [record] = caplog.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert record.getMessage() == "malformed HTTP request from 10.0.0.1: BadHttpMessage: Invalid header value char"
    assert "Signature" not in record.getMessage()


def test_malformed_requests_are_rate_limited(caplog):
    caplog.set_level(logging.DEBUG, logger="test.aiohttp.server")
    log = _log(limit=3)
    for _ in range(50):
        log.exception("Error handling request from %s", "10.0.0.1", exc_info=LineTooLong(b"x" * 9000, 8190))
    assert len(caplog.records) == 3


def test_a_bug_keeps_its_traceback(caplog):
    caplog.set_level(logging.DEBUG, logger="test.aiohttp.server")
    try:
        raise RuntimeError("ours")
    except RuntimeError as e:
        _log().exception("Unhandled exception", exc_info=e)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_debug_records_of_client_faults_lose_the_traceback(caplog):
    caplog.set_level(logging.DEBUG, logger="test.aiohttp.server")
    _log().debug("Error handling request from %s", "10.0.0.1", exc_info=BadHttpMessage("Invalid method"))
    [record] = caplog.records
    assert record.exc_info is None


def test_descriptions_are_short_printable_single_lines():
    text = describe(BadHttpMessage("é\x00" * 500 + "\nsecond line"))
    assert text.isascii() and text.isprintable() and len(text) <= 160
