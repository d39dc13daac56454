"""CPU per datum, stage by stage, of a PutMetricData on its way from the socket to ClickHouse.

Each stage is the real function the gateway or ingest calls, run in this process on the exact
bytes a boto3 client sends (captured before they leave, as put_bench.py does), timed with
``time.process_time`` (CPU, not wall: the host's noise moves it less) over many rounds, and
divided by the datums per request. What is left out: aiohttp's and gRPC's own per-request work
and the event loops, which put_bench.py's per-process CPU figures include.

    .venv/bin/python bench/stages_bench.py [--datums 1000] [--values 150]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from multidict import CIMultiDict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from put_bench import capture, put_calls  # noqa: E402
from stacks import Target  # noqa: E402

from gateway import awsproto, sigv4  # noqa: E402
from gateway.apis import cloudwatch  # noqa: E402
from services.ingest.servicer import validate  # noqa: E402
from services.ingest.store import build_columns  # noqa: E402
from services.ingest.wal import WriteAheadLog, encode  # noqa: E402
from stackwatch.proto.metrics.v1 import metrics_pb2  # noqa: E402


def cpu_per_call(fn: Callable[[], Any], seconds: float = 1.0) -> float:
    """CPU seconds one call of ``fn`` takes (after a warm-up), averaged over ~``seconds``."""
    fn()
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < seconds:
        fn()
        n += 1
    return (time.process_time() - t0) / n


def gateway_stages(protocol: str, datums: int, values: int, tmp: Path) -> tuple[dict[str, float], metrics_pb2.PutMetricDataRequest]:
    target = Target("capture only", "http://127.0.0.1:1")
    url, headers, body = capture(target, protocol, put_calls(1, datums, values, 0), tmp)[0]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    hdrs = CIMultiDict(headers)
    hdrs.setdefault("Host", url.split("://", 1)[1].split("/", 1)[0])  # added by the HTTP client, signed
    plain = gzip.decompress(body) if hdrs.get("Content-Encoding") == "gzip" else body
    http = awsproto.HttpRequest(method="POST", path=path, headers=hdrs, query=[], body=plain)
    detected = awsproto.detect(http)
    _, params = awsproto.parse_request(detected, http)
    columns = cloudwatch._columns(params["MetricData"])  # noqa: SLF001 - the stage itself
    request = metrics_pb2.PutMetricDataRequest(namespace=params["Namespace"], metric_columns=columns)
    stages = {
        "gunzip": cpu_per_call(lambda: gzip.decompress(body)) if plain is not body else 0.0,
        "detect": cpu_per_call(lambda: awsproto.detect(http)),
        "string to sign": cpu_per_call(lambda: sigv4.authenticate_request(
            "POST", path, "", hdrs, body, service="monitoring", form=detected.form)),
        "parse (model walk)": cpu_per_call(lambda: awsproto.parse_request(detected, http)),
        "columns (from the walk)": cpu_per_call(lambda: cloudwatch._columns(params["MetricData"])),  # noqa: SLF001
        "parse + columns (fast path, what runs)": cpu_per_call(
            lambda: cloudwatch.PARSERS["PutMetricData"](detected, http)),
        "RPC encode": cpu_per_call(request.SerializeToString),
    }
    return stages, request


def ingest_stages(request: metrics_pb2.PutMetricDataRequest, tmp: Path) -> dict[str, float]:
    wire = request.SerializeToString()
    now = time.time()
    batch = validate(request, now)
    log = WriteAheadLog(tmp / "wal")
    frame = encode(1, now, "acct", wire)
    stages = {
        "RPC decode": cpu_per_call(lambda: metrics_pb2.PutMetricDataRequest.FromString(wire)),
        "validate": cpu_per_call(lambda: validate(request, now)),
        "log (frame + write + fdatasync)": cpu_per_call(lambda: log.append(frame)),
        "rows for ClickHouse": cpu_per_call(lambda: build_columns([("acct", batch, 1)])),
    }
    log.close()
    return stages


def insert_stage(request: metrics_pb2.PutMetricDataRequest, url: str) -> float:
    """CPU of this process per datum, INSERTing 10 requests' rows at a time (as the committer does)."""
    import asyncio

    from services.ingest.store import MetricStore
    from stackwatch.store import AsyncEngine, open_engine

    batch = validate(request, time.time())

    async def run() -> float:
        engine = AsyncEngine(open_engine(url))
        store = MetricStore(engine, "stages_bench")
        await store.ensure_schema()
        rows = [("acct", batch, i) for i in range(10)]
        await store.insert(rows, time.time(), 1)
        t0, n = time.process_time(), 0
        while time.process_time() - t0 < 2.0:
            await store.insert(rows, time.time(), 1)
            n += 1
        took = (time.process_time() - t0) / n / (10 * batch.size)
        engine.close()
        return took

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datums", type=int, default=1000)
    parser.add_argument("--values", type=int, default=0, help="Values/Counts per datum (default: one Value)")
    parser.add_argument("--server", action="store_true", help="also time INSERTs into a ClickHouse 18.16 server")
    args = parser.parse_args()
    n = args.datums
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for protocol in ("json", "cbor", "query"):
            stages, request = gateway_stages(protocol, n, args.values, tmpdir)
            total = sum(v for k, v in stages.items() if "walk" not in k)
            print(f"gateway, {protocol}, {n} datums/request: " + ", ".join(
                f"{k} {v / n * 1e6:.2f}" for k, v in stages.items()) + f"  = {total / n * 1e6:.2f} µs/datum")
        stages = ingest_stages(request, tmpdir)
        print("ingest: " + ", ".join(f"{k} {v / n * 1e6:.2f}" for k, v in stages.items())
              + f"  = {sum(stages.values()) / n * 1e6:.2f} µs/datum")
        chdb_url = f"chdb://{tmpdir / 'chdb'}"
        print(f"insert into chDB (this process's CPU, engine threads included): "
              f"{insert_stage(request, chdb_url) * 1e6:.2f} µs/datum")
        if args.server:
            from stackwatch.store.testing import ClickHouseServer

            with ClickHouseServer(tmpdir / "ch") as ch:
                print(f"insert into ClickHouse 18.16 (client side only): {insert_stage(request, ch.url) * 1e6:.2f} "
                      "µs/datum")


if __name__ == "__main__":
    main()
