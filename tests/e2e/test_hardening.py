"""Bad clients cannot wedge the running gateway: slow heads and bodies, odd bytes, many connections.

Each test talks raw HTTP (``tests/e2e/rawhttp.py``) to a real stack whose timeouts are set small,
so "closed within the timeout" is observable in a test's time; nothing here measures speed: the
read limits are several times the timeouts being tested.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import uuid

import pytest

from tests.e2e.rawhttp import JSON_HEADERS, build, exchange, signed
from tests.e2e.stack import Stack

HEADER_TIMEOUT = 0.5
STALL_TIMEOUT = 0.5
BODY_TIMEOUT = 2.0
LOG_LIMIT = 5


@pytest.fixture(scope="module")
def tight(e2e_store_url, tmp_path_factory):
    """A stack with timeouts small enough to watch them fire."""
    s = Stack(e2e_store_url, "e2e_hard_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("hard-stack"),
              header_timeout=HEADER_TIMEOUT, stall_timeout=STALL_TIMEOUT, body_timeout=BODY_TIMEOUT,
              keepalive_timeout=30.0, bad_request_log_limit=LOG_LIMIT).start()
    yield s
    s.stop()


def _port(stack: Stack) -> int:
    return int(stack.endpoint.rsplit(":", 1)[1])


def _run(coro):
    return asyncio.run(coro)


def test_a_connection_that_sends_nothing_is_closed(tight):
    outcome = _run(exchange(_port(tight), b"", quiet=10 * HEADER_TIMEOUT))
    assert outcome.closed and outcome.responses == []


def test_a_half_sent_head_is_closed_without_an_answer(tight):
    outcome = _run(exchange(_port(tight), b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty",
                            quiet=10 * HEADER_TIMEOUT))
    assert outcome.closed and outcome.responses == [] and outcome.leftover == b""


def test_a_head_dribbled_byte_by_byte_is_closed_although_bytes_keep_coming(tight):
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    pieces = [(HEADER_TIMEOUT / 5, head[i:i + 1]) for i in range(len(head))]  # 40 s if never cut

    async def run():
        task = asyncio.create_task(exchange(_port(tight), pieces, quiet=30, limit=30))
        return await asyncio.wait_for(task, 20)

    outcome = _run(run())
    assert outcome.closed and outcome.responses == []


def test_a_stalled_body_is_answered_request_timeout_and_closed(tight):
    body = b'{"Namespace": "Slow"}'
    headers = signed(tight.endpoint, body, JSON_HEADERS)
    data = build("POST", "/", headers, body)
    outcome = _run(exchange(_port(tight), data[:-5], quiet=10 * STALL_TIMEOUT))
    assert outcome.statuses == [408]
    response = outcome.responses[0]
    assert response.header("x-amzn-query-error") == "RequestTimeout;Sender"
    assert json.loads(response.body)["__type"].endswith("RequestTimeout")
    assert outcome.closed


def test_a_body_trickling_in_past_the_total_bound_is_answered_request_timeout(tight):
    body = b"Action=ListMetrics&Version=2010-08-01&Namespace=" + b"x" * 100
    headers = [("Host", "127.0.0.1"), ("Content-Type", "application/x-www-form-urlencoded")]
    data = build("POST", "/", headers, body)
    split = data.index(b"\r\n\r\n") + 4
    pieces = [(0.0, data[:split])] + [(STALL_TIMEOUT / 4, data[i:i + 1]) for i in range(split, len(data))]
    outcome = _run(exchange(_port(tight), pieces, quiet=10 * BODY_TIMEOUT, limit=60))
    assert outcome.statuses == [408]
    assert b"<Code>RequestTimeout</Code>" in outcome.responses[0].body
    assert b"within" in outcome.responses[0].body  # the total bound, not the stall
    assert outcome.closed


def test_the_connection_stays_usable_after_a_complete_request(tight):
    one = build("POST", "/", [("Host", "127.0.0.1"), *JSON_HEADERS.items()], b"{}")
    outcome = _run(exchange(_port(tight), [(0.0, one), (3 * HEADER_TIMEOUT, one)], quiet=5, until_responses=2))
    assert outcome.statuses == [403, 403]  # MissingAuthenticationToken twice, on one connection


NON_ASCII = {
    "authorization-invalid-utf8": (b"Authorization", b"AWS4-HMAC-SHA256 Credential=\xff\xfe/20240101/us-east-1/"
                                   b"monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"),
    "authorization-utf8": (b"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDé/20240101/us-east-1/monitoring/"
                           "aws4_request, SignedHeaders=host;x-amz-date, Signature=ab".encode()),
    "signature-byte": (b"Authorization", b"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/monitoring/"
                       b"aws4_request, SignedHeaders=host;x-amz-date, Signature=ab\x80cd"),
    "control-chars": (b"Authorization", b"AWS4-HMAC-SHA256 Credential=AK\x01ID/20240101/us-east-1/monitoring/"
                      b"aws4_request, SignedHeaders=host, Signature=ab\x7f"),
    "date-digits": (b"X-Amz-Date", "２０２４０１０１T000000Z".encode()),
    "target": (b"X-Amz-Target", b"GraniteServiceVersion20100801.List\xffMetrics"),
    "content-type": (b"Content-Type", b"application/x-amz-json-1.0\xe9"),
    "security-token": (b"X-Amz-Security-Token", b"\xff\xfe\xfd"),
    "content-sha256": (b"X-Amz-Content-Sha256", b"\xc3\xa9" * 32),
}


@pytest.mark.parametrize("name, value", list(NON_ASCII.values()), ids=list(NON_ASCII))
def test_non_ascii_header_bytes_get_an_aws_client_error(tight, name, value):
    body = b"{}"
    headers = [(k.encode(), v.encode()) for k, v in signed(tight.endpoint, body, JSON_HEADERS)
               if k.lower() != name.decode().lower()]
    if name.lower() == b"x-amz-date":
        headers = [(k, v) for k, v in headers if k.lower() != b"authorization"] + [
            (b"Authorization", b"AWS4-HMAC-SHA256 Credential=AKIATENANTA000000001/20240101/us-east-1/monitoring/"
                               b"aws4_request, SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64)]
    outcome = _run(exchange(_port(tight), build("POST", "/", [*headers, (name, value)], body), quiet=5,
                            until_responses=1))
    assert len(outcome.responses) == 1, outcome
    response = outcome.responses[0]
    assert 400 <= response.status < 500, response
    if name == b"Authorization" and b"\x01" in value:
        # RFC 9110 forbids control characters in a field value: aiohttp's parser refuses the head
        # itself, before there is a request to answer in a protocol; it says 400 and closes.
        assert response.status == 400, response
        return
    code = (response.header("x-amzn-query-error") or "").split(";")[0]
    assert code in {"IncompleteSignature", "SignatureDoesNotMatch", "InvalidClientTokenId",
                    "MissingAuthenticationToken", "UnknownOperationException"}, response


def test_a_signed_header_that_is_not_utf8_is_refused_as_a_bad_signature(tight):
    body = b"{}"
    headers = [(k.encode(), v.encode()) for k, v in signed(tight.endpoint, body, {**JSON_HEADERS, "X-Odd": "x"})]
    headers = [(k, b"\xff\xfe" if k.lower() == b"x-odd" else v) for k, v in headers]
    outcome = _run(exchange(_port(tight), build("POST", "/", headers, body), quiet=5, until_responses=1))
    assert outcome.statuses == [403]
    assert outcome.responses[0].header("x-amzn-query-error") == "SignatureDoesNotMatch;Sender"


def _records(caplog, since: int):
    return caplog.records[since:]


def test_malformed_http_is_logged_as_single_rate_limited_lines(tight, caplog):
    caplog.set_level(logging.INFO)
    start = len(caplog.records)

    async def flood():
        garbage = [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                   b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                   b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
                   b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]
        outcomes = []
        for i in range(100):
            outcomes.append(await exchange(_port(tight), garbage[i % len(garbage)], quiet=5, until_responses=1))
        return outcomes

    began = time.monotonic()
    outcomes = _run(flood())
    elapsed = time.monotonic() - began
    time.sleep(0.2)
    assert all(o.statuses in ([400], [413], []) for o in outcomes), [o.statuses for o in outcomes]
    assert any(o.statuses == [400] for o in outcomes)
    records = _records(caplog, start)
    assert not [r for r in records if r.exc_info or "Traceback" in r.getMessage()]
    assert not [r for r in records if r.levelno >= logging.ERROR]
    malformed = [r for r in records if "malformed HTTP" in r.getMessage() or "unreadable request body" in r.getMessage()]
    assert malformed, "malformed requests should be logged"
    assert all("\n" not in r.getMessage() for r in malformed)
    windows = int(elapsed // 10) + 2
    assert len(malformed) <= 2 * LOG_LIMIT * windows  # two kinds: aiohttp's parser, our body reader


@pytest.fixture(scope="module")
def limited(e2e_store_url, tmp_path_factory):
    """A stack that admits four connections."""
    s = Stack(e2e_store_url, "e2e_lim_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("lim-stack"),
              max_connections=4, header_timeout=30.0, keepalive_timeout=60.0).start()
    yield s
    s.stop()


def _request_on(sock: socket.socket) -> int:
    sock.sendall(build("POST", "/", [("Host", "127.0.0.1"), *JSON_HEADERS.items()], b"{}"))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return int(data.split(b" ", 2)[1])


def _connect(stack: Stack) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(stack)), timeout=10)
    return sock


def test_past_the_connection_limit_new_connections_are_closed_and_admitted_again_after_release(limited):
    held = [_connect(limited) for _ in range(4)]
    try:
        assert [_request_on(s) for s in held] == [403] * 4  # admitted, kept alive
        extra = _connect(limited)
        with pytest.raises(OSError):
            _request_on(extra)  # closed before any answer: EOF or reset
        extra.close()
        held.pop().close()
        deadline = time.monotonic() + 10
        while True:
            again = _connect(limited)
            try:
                assert _request_on(again) == 403
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                again.close()
        assert [_request_on(s) for s in held] == [403] * 3  # the held ones still work
    finally:
        for s in held:
            s.close()


def test_many_slow_clients_at_once_are_all_closed(tight):
    body = b'{"Namespace": "Slow"}'
    stalled_body = build("POST", "/", signed(tight.endpoint, body, JSON_HEADERS), body)[:-5]
    kinds = [b"", b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n", stalled_body]

    async def run():
        return await asyncio.gather(*(exchange(_port(tight), kinds[i % 3], quiet=20, limit=20) for i in range(150)))

    outcomes = _run(run())
    assert all(o.closed for o in outcomes)
    assert [o.statuses for o in outcomes[2::3]] == [[408]] * 50
    assert all(o.statuses == [] for i, o in enumerate(outcomes) if i % 3 != 2)
