"""Codec throughput on the payloads that matter: a 1000-datum PutMetricData, a 1440-point response.

Run ``python bench/codec_bench.py``. It prints the best-of-N wall time, in milliseconds, of:

- parsing a 1000-datum PutMetricData (2 dimensions each) per protocol, from the exact bytes
  botocore's client serializer produces (detection included, as the gateway does it);
- serializing the same 1000-datum structure with our outbound walk (the input shape serialized as
  if it were a response: the same code path a large response takes);
- serializing a 1440-datapoint GetMetricStatistics response per protocol;
- parse + columns, what the gateway does with a detected 1000-datum PutMetricData before calling
  ingest: the generic walk then ``cloudwatch._columns``, against the fast path
  (``gateway.apis._put_fast``), per protocol, measured alternately so both see the same load.

It is a measurement, not a test: nothing fails; compare the figures with the budgets in the
module ``gateway.awsproto`` was written against (parse < 10 ms json/cbor, < ~30 ms query).
"""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.serialize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages, not the venv's

from gateway import awsproto  # noqa: E402
from gateway.apis import _put_fast, cloudwatch  # noqa: E402
from gateway.awsproto import _outbound, json10, query, rpcv2cbor  # noqa: E402
from gateway.awsproto.request import HttpRequest, Protocol  # noqa: E402

ROUNDS = 30
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def best_ms(fn: Callable[[], Any], rounds: int = ROUNDS) -> float:
    """The fastest of ``rounds`` runs of ``fn``, in ms (after one warm-up run)."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def put_metric_data(n: int = 1000) -> dict[str, Any]:
    """A PutMetricData input with ``n`` datums of 2 dimensions each."""
    return {"Namespace": "StackWatch/Bench", "MetricData": [
        {"MetricName": f"Latency{i % 10}",
         "Dimensions": [{"Name": "Service", "Value": f"api-{i % 7}"}, {"Name": "Host", "Value": f"h{i}"}],
         "Timestamp": START + timedelta(seconds=i, microseconds=i * 7 % 1000),
         "Value": 42.5 + i, "Unit": "Milliseconds", "StorageResolution": 60}
        for i in range(n)]}


def statistics_result(n: int = 1440) -> dict[str, Any]:
    """A GetMetricStatistics result with ``n`` one-minute datapoints, five statistics each."""
    return {"Label": "Latency", "Datapoints": [
        {"Timestamp": START + timedelta(minutes=i), "SampleCount": 60.0, "Average": 12.5 + i / 7,
         "Sum": 750.0 + i, "Minimum": 1.25, "Maximum": 99.5 + i, "Unit": "Milliseconds"}
        for i in range(n)]}


def wire_request(protocol: Protocol, params: dict[str, Any]) -> HttpRequest:
    """The request botocore's client would send for PutMetricData ``params``."""
    op = awsproto.CLOUDWATCH.operation_model("PutMetricData")
    s = botocore.serialize.create_serializer(protocol.value).serialize_to_request(params, op)
    body = s["body"]
    if isinstance(body, dict):
        body = urllib.parse.urlencode(list(body.items())).encode()
    return HttpRequest.build(s["method"], s["url_path"], s["headers"], body=body)


def main() -> None:
    """Print the figures."""
    cw = awsproto.CLOUDWATCH
    params = put_metric_data()
    put_shape = cw.operation_model("PutMetricData").input_shape
    assert put_shape is not None
    stats_op = cw.operation_model("GetMetricStatistics")
    result = statistics_result()
    writers = {Protocol.QUERY: query.WRITER, Protocol.JSON: json10.WRITER, Protocol.CBOR: rpcv2cbor.WRITER}
    print("PutMetricData, 1000 datums x 2 dimensions")
    for protocol in Protocol:
        req = wire_request(protocol, params)

        def parse(req: HttpRequest = req) -> None:
            awsproto.parse_request(awsproto.detect(req), req)

        write = _outbound.handler(writers[protocol], cw.name, put_shape)

        def serialize(write: Callable[[Any], Any] = write) -> None:
            write(params)

        print(f"  {protocol.value:20} body {len(req.body):>7} B   parse {best_ms(parse):6.2f} ms   "
              f"serialize (walk) {best_ms(serialize):6.2f} ms")
    print("GetMetricStatistics response, 1440 datapoints")
    for protocol in Protocol:
        detected = awsproto.Detected(cw, protocol, "GetMetricStatistics")
        out = awsproto.serialize_response(detected, stats_op, result, "rid")

        def respond(detected: awsproto.Detected = detected) -> None:
            awsproto.serialize_response(detected, stats_op, result, "rid")

        ms = best_ms(respond)
        print(f"  {protocol.value:20} body {len(out.body):>7} B   serialize {ms:6.2f} ms")
    put_columns(params)


def put_columns(params: dict[str, Any], rounds: int = 5) -> None:
    """Print parse + columns of a detected PutMetricData, generic against fast, per protocol.

    Both are timed ``rounds`` times in alternation (best of ROUNDS each time), and the best of
    all is reported, so a noisy neighbour slows both alike.
    """
    print("PutMetricData parse + columns (after detection), generic walk + _columns vs fast path")
    for protocol in Protocol:
        req = wire_request(protocol, params)
        detected = awsproto.detect(req)
        assert _put_fast.accept(detected, req) is not None, "the fast path refused the bench request"

        def walk(detected: awsproto.Detected = detected, req: HttpRequest = req) -> None:
            cloudwatch._columns(awsproto.parse_request(detected, req)[1]["MetricData"])

        def fast(detected: awsproto.Detected = detected, req: HttpRequest = req) -> None:
            _put_fast.parse_request(detected, req)

        slow_ms = fast_ms = float("inf")
        for _ in range(rounds):
            slow_ms, fast_ms = min(slow_ms, best_ms(walk)), min(fast_ms, best_ms(fast))
        n = len(params["MetricData"])
        print(f"  {protocol.value:20} generic {slow_ms:6.2f} ms ({slow_ms * 1000 / n:5.2f} us/datum)   "
              f"fast {fast_ms:6.2f} ms ({fast_ms * 1000 / n:5.2f} us/datum)   x{slow_ms / fast_ms:.1f}")


if __name__ == "__main__":
    main()
