"""Thousands of broken requests against a running gateway: never a 5xx, never a traceback logged.

Each case starts from a well-formed request in one of the three protocols (json, query, cbor) and
mutates it twice over: first what it *means* (body bytes, gzip, JSON/CBOR/form oddities), then,
usually after signing it properly so the mutated body gets past authentication into the
parsers, how it is *framed* (header values with non-ASCII and control bytes, bad Content-Length,
chunked encoding gone wrong, truncation, huge or duplicated headers, odd request lines).

Every case is sent on its own connection from 127.0.0.1 and must end in responses with 4xx
statuses (or 2xx, when a mutation happened to leave a valid request) or in a closed connection.
The run is bounded in count (``STACKWATCH_FUZZ_CASES``, default 2,500) and in time, and seeded
(``STACKWATCH_FUZZ_SEED``): a failure names the seed and the case, which replays it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import cbor2
import pytest

from tests.e2e.rawhttp import Outcome, exchange, signed
from tests.e2e.stack import Stack

CASES = int(os.environ.get("STACKWATCH_FUZZ_CASES", "2500"))
SEED = int(os.environ.get("STACKWATCH_FUZZ_SEED", "20261203"))
CONCURRENCY = 16
LOG_LIMIT = 5
TARGET = "GraniteServiceVersion20100801"


@dataclass
class Case:
    """One request under construction; ``notes`` say which mutations made it."""

    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    notes: list[str] = field(default_factory=list)
    sign: bool = True
    chunked: bool = False
    content_length: bytes | None = None  # None: the body's length
    truncate_at: int | None = None
    half_close: bool = False
    raw: bytes | None = None  # replaces everything

    def set_header(self, name: bytes, value: bytes) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()] + [(name, value)]


def _params(rng: random.Random) -> tuple[str, dict]:
    now = int(time.time())
    return rng.choice([
        ("ListMetrics", {"Namespace": "Fuzz/NS"}),
        ("PutMetricData", {"Namespace": "Fuzz/NS", "MetricData": [
            {"MetricName": "M", "Value": 1.5, "Unit": "Seconds", "Timestamp": now,
             "Dimensions": [{"Name": "D", "Value": "v"}]}]}),
        ("GetMetricStatistics", {"Namespace": "Fuzz/NS", "MetricName": "M", "StartTime": now - 600,
                                 "EndTime": now, "Period": 60, "Statistics": ["Average"]}),
    ])


def _form(params: dict, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _form(value, name + ".")
        elif isinstance(value, list):
            for i, item in enumerate(value, 1):
                out += _form(item, f"{name}.member.{i}.") if isinstance(item, dict) else [(f"{name}.member.{i}", str(item))]
        else:
            out.append((name, str(value)))
    return out


def base(rng: random.Random) -> Case:
    """A well-formed request in a random protocol."""
    op, params = _params(rng)
    protocol = rng.choice(["json", "query", "cbor"])
    if protocol == "json":
        headers = [(b"Content-Type", b"application/x-amz-json-1.0"), (b"X-Amz-Target", f"{TARGET}.{op}".encode()),
                   (b"x-amzn-query-mode", b"true")]
        return Case("POST", "/", headers, json.dumps(params).encode(), [f"json {op}"])
    if protocol == "query":
        from urllib.parse import urlencode
        body = urlencode([("Action", op), ("Version", "2010-08-01"), *_form(params)]).encode()
        return Case("POST", "/", [(b"Content-Type", b"application/x-www-form-urlencoded; charset=utf-8")], body,
                    [f"query {op}"])
    tagged = json.loads(json.dumps(params))
    for key in ("StartTime", "EndTime"):
        if key in tagged:
            tagged[key] = cbor2.CBORTag(1, tagged[key])
    headers = [(b"smithy-protocol", b"rpc-v2-cbor"), (b"Content-Type", b"application/cbor"),
               (b"Accept", b"application/cbor"), (b"x-amzn-query-mode", b"true")]
    return Case("POST", f"/service/{TARGET}/operation/{op}", headers, cbor2.dumps(tagged), [f"cbor {op}"])


def _random_bytes(rng: random.Random, n: int, *, crlf: bool = False) -> bytes:
    pools = [bytes(range(0x20, 0x7f)), bytes(range(0x80, 0x100)), bytes(range(0x01, 0x20)) if crlf else
             bytes(b for b in range(0x01, 0x20) if b not in (0x0a, 0x0d)),
             "éü€😀中".encode()]
    return bytes(rng.choice(rng.choice(pools)) for _ in range(n))


# -- what the request means -----------------------------------------------------------------------

def _json_oddity(rng: random.Random) -> bytes:
    return rng.choice([
        b"[" * 5000 + b"]" * 5000, b'{"Namespace": "\\ud800"}', b'{"Namespace": 1e400}', b"{\"a\":" * 3000,
        b'{"MetricData": [{"MetricName": "M", "Value": "NaN"}], "Namespace": "N"}', b"null", b"\"x\"", b"{",
        b'{"Namespace": {"x": [1, 2, {}]}, "MetricData": 7}', b'{"Namespace": "\x00\x01"}',
        b'{"MetricData": [{"MetricName": "M", "Timestamp": "yesterday", "Value": 1}], "Namespace": "N"}',
        b'{"Namespace": "N", "MetricData": [' + b'{"MetricName": "M", "Value": 1},' * 2000 + b'{}]}',
        json.dumps({"Namespace": "N", "MetricData": [{"MetricName": "M", "Values": [1.0] * 200,
                                                      "Counts": [1.0] * 3}]}).encode(),
        b'{"Namespace": "N", "StartTime": -1e300, "EndTime": 1e300, "Period": -5, "MetricName": "M"}',
    ])


def _cbor_oddity(rng: random.Random) -> bytes:
    return rng.choice([
        b"\x81" * 5000 + b"\x00", b"\xbf" * 3000, b"\xa1\x69Namespace\x63\xff\xfe\xfd", b"\xa1\x69Namespace\xc1\x63abc",
        b"\xa1\x69Namespace\xf9\x7c\x00", b"\xa1\x69Namespace\xf7", b"\xa1\x69Namespace\x5f\x41a\x41b\xff",
        b"\xa1\x69Namespace\x7f\x61a\x61b\xff", b"\xbf\x69Namespace\x61N\xff", b"\xa1\x69Namespace\x1b" + b"\xff" * 8,
        b"\xa1\x69Namespace\xd8\x80\x61N", b"\xa1\x69Namespace", b"\xff", b"\x9f\x9f\x9f",
        cbor2.dumps({"Namespace": "N", "MetricData": [{"MetricName": "M", "Value": float("nan"),
                                                       "Timestamp": cbor2.CBORTag(1, float("inf"))}]}),
        cbor2.dumps({"Namespace": "N", "StartTime": cbor2.CBORTag(1, 10**30), "EndTime": cbor2.CBORTag(1, "x"),
                     "MetricName": "M", "Period": 2**70}),
        cbor2.dumps({"Namespace": b"bytes", "MetricData": {"not": "a list"}}),
    ])


def _form_oddity(rng: random.Random) -> bytes:
    return rng.choice([
        b"Action=ListMetrics&Version=2010-08-01&Namespace=%zz", b"Action=ListMetrics&Namespace=%ff%fe",
        b"Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.99999999999999999999.MetricName=M",
        b"Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.-1.Value=1",
        b"Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.1.Value=1e400"
        b"&MetricData.member.1.MetricName=M",
        b"Action=ListMetrics&Version=2010-08-01&" + b"a." * 5000 + b"b=1",
        b"Action=ListMetrics&Version=2010-08-01&" + b"&".join(b"P%d=%d" % (i, i) for i in range(5000)),
        b"Action=&Version=", b"Action=ListMetrics&Action=PutMetricData&Version=2011-01-01", b"&&&===&",
        b"Action=GetMetricStatistics&Version=2010-08-01&Namespace=N&MetricName=M&StartTime=x&EndTime=0&Period=0",
        b"Action=ListMetrics\x00&Version=2010-08-01",
    ])


def mutate_meaning(rng: random.Random, case: Case) -> None:
    """Change the body (or its encoding) so the parsers see something broken."""
    choice = rng.randrange(12)
    if choice == 0:
        case.body = _random_bytes(rng, rng.randrange(0, 400))
        case.notes.append("random body")
    elif choice == 1 and case.body:
        body = bytearray(case.body)
        for _ in range(rng.randint(1, 5)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        case.body = bytes(body)
        case.notes.append("bit flips")
    elif choice == 2:
        case.body = case.body[:rng.randrange(len(case.body) + 1)]
        case.notes.append("body cut (framing intact)")
    elif choice == 3:
        case.body = _random_bytes(rng, rng.randrange(1, 200))
        case.set_header(b"Content-Encoding", b"gzip")
        case.notes.append("gzip: not gzip")
    elif choice == 4:
        packed = gzip.compress(case.body)
        case.body = packed[:rng.randrange(1, len(packed))]
        case.set_header(b"Content-Encoding", b"gzip")
        case.notes.append("gzip: truncated")
    elif choice == 5:
        case.body = gzip.compress(b"\x00" * rng.choice([3_000_000, 20_000_000]))
        case.set_header(b"Content-Encoding", b"gzip")
        case.notes.append("gzip: bomb")
    elif choice == 6:
        case.body = gzip.compress(case.body)
        case.set_header(b"Content-Encoding", rng.choice([b"gzip", b"GZIP", b"deflate", b"br", b"gzip, gzip"]))
        case.notes.append("gzip: valid, odd encoding names")
    elif choice == 7:
        case.body = _json_oddity(rng)
        case.notes.append("json oddity")
    elif choice == 8:
        case.body = _cbor_oddity(rng)
        case.notes.append("cbor oddity")
    elif choice == 9:
        case.body = _form_oddity(rng)
        case.notes.append("form oddity")
    elif choice == 10:
        case.body = rng.choice([_json_oddity, _cbor_oddity, _form_oddity])(rng)
        case.set_header(b"Content-Type", rng.choice([b"application/x-amz-json-1.0", b"application/cbor",
                                                     b"application/x-www-form-urlencoded", b"text/plain", b""]))
        case.notes.append("body and content type mismatched")
    else:
        case.notes.append("meaning intact")


# -- how the request is framed --------------------------------------------------------------------

HEADER_NAMES = [b"Authorization", b"X-Amz-Date", b"Host", b"Content-Type", b"X-Amz-Target", b"smithy-protocol",
                b"Content-Encoding", b"X-Amz-Content-Sha256", b"X-Amz-Security-Token", b"x-amzn-query-mode",
                b"Accept", b"User-Agent", b"Expect", b"Connection"]


def _frame_header_value(rng: random.Random, case: Case) -> None:
    name = rng.choice(HEADER_NAMES + [k for k, _ in case.headers])
    case.set_header(name, _random_bytes(rng, rng.randrange(0, 80), crlf=rng.random() < 0.05))
    case.notes.append(f"random value for {name.decode('latin-1')}")


def _frame_non_ascii_in_place(rng: random.Random, case: Case) -> None:
    if not case.headers:
        return
    i = rng.randrange(len(case.headers))
    k, v = case.headers[i]
    pos = rng.randrange(len(v) + 1)
    case.headers[i] = (k, v[:pos] + _random_bytes(rng, rng.randint(1, 4)) + v[pos:])
    case.notes.append(f"bytes inserted into {k.decode('latin-1')}")


def _frame_content_length(rng: random.Random, case: Case) -> None:
    n = len(case.body)
    case.content_length = rng.choice([b"abc", b"-1", b"99999999999999999999999", b"+5", b" 5", b"0x10", b"",
                                      str(max(0, n - 3)).encode(), str(n + 10).encode(), b"%d, %d" % (n, n + 1)])
    case.notes.append(f"Content-Length {case.content_length!r}")
    if rng.random() < 0.3:
        case.headers.append((b"Content-Length", str(n).encode()))
        case.notes.append("and a second Content-Length")


def _frame_chunked(rng: random.Random, case: Case) -> None:
    case.chunked = True
    case.notes.append("chunked")
    body, out = case.body, b""
    while body:
        size = rng.randint(1, 64)
        piece, body = body[:size], body[size:]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n\r\n"
    kind = rng.randrange(6)
    if kind == 0:
        out = b"zz\r\n" + out
        case.notes.append("bad chunk size")
    elif kind == 1:
        out = out[:-5]
        case.notes.append("no last chunk")
    elif kind == 2:
        out = out.replace(b"\r\n", b"\n", 1)
        case.notes.append("bare LF")
    elif kind == 3:
        case.content_length = str(len(out)).encode()
        case.notes.append("and Content-Length")
    elif kind == 4:
        out = b"ffffffffffffffffff\r\n" + out
        case.notes.append("huge chunk size")
    case.body = out
    case.headers.append((b"Transfer-Encoding", rng.choice([b"chunked", b"gzip, chunked", b"chunked, chunked",
                                                           b"identity", b"Chunked"])))


def _frame_truncate(rng: random.Random, case: Case) -> None:
    case.truncate_at = rng.randrange(1, 400)
    case.half_close = rng.random() < 0.5
    case.notes.append(f"cut after {case.truncate_at} bytes{' and half-closed' if case.half_close else ''}")


def _frame_huge_headers(rng: random.Random, case: Case) -> None:
    if rng.random() < 0.5:
        case.headers.append((b"X-Big", b"a" * rng.choice([8000, 9000, 70000])))
        case.notes.append("one huge header")
    else:
        case.headers += [(b"X-Many-%d" % i, b"v") for i in range(rng.choice([100, 129, 500]))]
        case.notes.append("many headers")


def _frame_request_line(rng: random.Random, case: Case) -> None:
    kind = rng.randrange(5)
    if kind == 0:
        case.method = rng.choice(["GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "FOO", "G\u00e9T", "CONNECT"])
    elif kind == 1:
        case.path = rng.choice(["/%zz", "/%ff%fe", "//..//../", "/service/x/operation/", "/?Action=ListMetrics&%zz",
                                "/\u00e9", "/?" + "a=1&" * 3000, "*", "/service/" + TARGET + "/operation/%00",
                                "/?Action=ListMetrics&Version=2010-08-01&X-Amz-Credential=%ff/x",
                                "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/20240101/r/monitoring/"
                                "aws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=0"
                                "&X-Amz-Expires=99999999999"])
    elif kind == 2:
        case.raw = b"%s %s HTTP/%s\r\nHost: x\r\n\r\n" % (
            case.method.encode(), case.path.encode(), rng.choice([b"1.0", b"2.0", b"1.1x", b"9", b""]))
    elif kind == 3:
        case.headers.append((_random_bytes(rng, rng.randint(1, 10)), b"v"))
    else:
        case.headers.append(rng.choice(case.headers) if case.headers else (b"Host", b"a"))
    case.notes.append(f"request line/header names ({kind})")


def _frame_sigv2(rng: random.Random, case: Case) -> None:
    case.sign = False
    case.method, case.path = "POST", "/"
    case.headers = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    case.body = (b"Action=ListMetrics&Version=2010-08-01&AWSAccessKeyId=AKIATENANTA000000001&SignatureVersion="
                 + rng.choice([b"2", b"1", b"%ff"]) + b"&SignatureMethod=" + rng.choice([b"HmacSHA256", b"MD5"])
                 + b"&Timestamp=" + rng.choice([b"2024-01-01T00:00:00Z", b"yesterday", b"%ff%fe"])
                 + b"&Signature=" + _random_bytes(rng, 10).replace(b"&", b"").replace(b"=", b""))
    if rng.random() < 0.5:
        case.headers.append((b"Host", _random_bytes(rng, 12)))
    case.notes.append("sigv2")


FRAMINGS: list[Callable[[random.Random, Case], None]] = [
    _frame_header_value, _frame_non_ascii_in_place, _frame_content_length, _frame_chunked, _frame_truncate,
    _frame_huge_headers, _frame_request_line, _frame_sigv2]


def generate(rng: random.Random, endpoint: str) -> tuple[Case, bytes]:
    """One mutated case and its bytes."""
    case = base(rng)
    mutate_meaning(rng, case)
    if rng.random() < 0.8:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in case.headers]
        signed_headers = signed(endpoint, case.body, dict(headers), method=case.method, path=case.path)
        case.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in signed_headers]
    else:
        case.headers.append((b"Host", endpoint.split("://", 1)[1].encode()))
        case.notes.append("unsigned")
    for framing in rng.sample(FRAMINGS, k=rng.choice([0, 1, 1, 1, 2])):
        framing(rng, case)
    if rng.random() < 0.01:
        return case, _random_bytes(rng, rng.randrange(1, 300), crlf=True)
    if case.raw is not None:
        return case, case.raw
    lines = [f"{case.method} {case.path} HTTP/1.1".encode()] + [k + b": " + v for k, v in case.headers]
    if not case.chunked or case.content_length is not None:
        lines.append(b"Content-Length: " + (case.content_length if case.content_length is not None
                                            else str(len(case.body)).encode()))
    lines.append(b"Connection: close")
    data = b"\r\n".join(lines) + b"\r\n\r\n" + case.body
    if case.truncate_at is not None:
        data = data[:case.truncate_at]
    return case, data


@pytest.fixture(scope="module")
def fuzz_stack(e2e_store_url, tmp_path_factory):
    """A stack with small timeouts, so cases that stall cost half a second, not minutes."""
    s = Stack(e2e_store_url, "e2e_fuzz_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("fuzz-stack"),
              header_timeout=0.5, stall_timeout=0.5, body_timeout=3.0, keepalive_timeout=2.0,
              bad_request_log_limit=LOG_LIMIT).start()
    yield s
    s.stop()


def _failure(outcome: Outcome) -> str | None:
    bad = [r.status for r in outcome.responses if r.status >= 500 or r.status < 200]
    if bad:
        return f"statuses {outcome.statuses}: {outcome.responses[0].body[:300]!r}"
    if outcome.leftover and not outcome.closed:
        return f"a response cut short without closing: {outcome.leftover[:200]!r}"
    return None


def test_thousands_of_broken_requests_get_4xx_or_a_closed_connection_and_no_traceback(fuzz_stack, caplog):
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    port = int(fuzz_stack.endpoint.rsplit(":", 1)[1])
    cases = [generate(rng, fuzz_stack.endpoint) for _ in range(CASES)]
    failures: list[str] = []
    answered = closed = 0

    async def run() -> None:
        nonlocal answered, closed
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int, case: Case, data: bytes) -> None:
            nonlocal answered, closed
            async with gate:
                try:
                    outcome = await exchange(port, data, quiet=2.0, limit=15.0, half_close=case.half_close)
                except OSError as e:  # refused outright would be a failure too: the limit is 4096
                    failures.append(f"case {i} ({'; '.join(case.notes)}): {e!r}")
                    return
            answered += bool(outcome.responses)
            closed += not outcome.responses
            problem = _failure(outcome)
            if problem:
                failures.append(f"case {i} ({'; '.join(case.notes)}): {problem}; sent {data[:300]!r}")

        async with asyncio.timeout(600):
            await asyncio.gather(*(one(i, c, d) for i, (c, d) in enumerate(cases)))

    began = time.monotonic()
    asyncio.run(run())
    elapsed = time.monotonic() - began
    time.sleep(0.3)
    assert not failures, f"seed {SEED}: {len(failures)} failures, first ones:\n" + "\n".join(failures[:10])
    assert answered > CASES // 2  # most cases reach an answer; the rest were closed (timeouts, framing)
    records = [r for r in caplog.records if r.name.startswith(("gateway", "aiohttp"))]
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, tracebacks[0].getMessage()
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors[:5]]
    kinds = {"malformed-http", "bad-body", "head-timeout", "stall-timeout"}
    windows = int(elapsed // 10) + 2
    assert len(records) <= len(kinds) * LOG_LIMIT * windows + 5, len(records)
    assert all("\n" not in r.getMessage() for r in records)
