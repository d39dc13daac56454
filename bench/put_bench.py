"""PutMetricData throughput and GetMetricStatistics latency through the whole stack.

Runs ``stackwatch up`` as a user starts it (auth, ingest and one gateway per core, each its own
process; ``--target up``, the default, on the embedded store; ``--target server`` on a Debian
ClickHouse 18.16 server) or moto_server (``--target moto``, the in-memory yardstick), all on this
machine. Clients send exactly what boto3 sends in the chosen wire protocol (``--protocol json |
cbor | query``): the requests are made by a real boto3 client of that protocol (bodies
serialized, gzipped past 10 KiB, SigV4-signed) and captured before they leave, then replayed by
aiohttp senders, re-signed every few minutes: the load generator spends its CPU on HTTP, and we
measure the server, not boto3.

Prints datapoints (and values) per second acknowledged (each 200 means the data is durable),
request latency p50/p99, every process's RSS at the start, middle and end of the run and its
CPU, then the latency of GetMetricStatistics over one day of 1-minute data.

    .venv/bin/python bench/put_bench.py --seconds 60 --clients 8                       # json, 1000 datums
    .venv/bin/python bench/put_bench.py --protocol cbor --seconds 60 --clients 8
    .venv/bin/python bench/put_bench.py --protocol query --datums 250 --values 20 --clients 8
    .venv/bin/python bench/put_bench.py --datums 100 --values 150 --clients 8          # Values arrays
    .venv/bin/python bench/put_bench.py --seconds 60 --rate 60 --clients 64            # open loop
    .venv/bin/python bench/put_bench.py --target moto --seconds 30 --clients 8
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stacks import Target, cpu_seconds, moto, rss_mb, stackwatch_up  # noqa: E402

from tests.e2e.clients import cloudwatch  # noqa: E402

Request = tuple[str, dict[str, str], bytes]


class _Captured(Exception):
    pass


def capture(target: Target, protocol: str, calls: list[tuple[str, dict]], tmp: Path) -> list[Request]:
    """The HTTP requests a boto3 client of ``protocol`` makes for ``calls``, signed, not sent."""
    client = cloudwatch(target.endpoint, protocol, target.access_key, target.secret_key, tmp)
    grabbed: list[Request] = []

    def grab(request, **_: object) -> None:
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        grabbed.append((request.url, headers, body))
        raise _Captured

    client.meta.events.register("before-send.cloudwatch", grab)
    for op, params in calls:
        try:
            getattr(client, op)(**params)
        except _Captured:
            pass
    return grabbed


def put_calls(n_bodies: int, datums: int, values: int, worker: int) -> list[tuple[str, dict]]:
    now = datetime.now(UTC).replace(microsecond=0)
    calls = []
    for b in range(n_bodies):
        data = []
        for i in range(datums):
            d = {"MetricName": f"Metric{i % 20}",
                 "Dimensions": [{"Name": "Host", "Value": f"w{worker}-h{(i // 20) % 50}"},
                                {"Name": "Service", "Value": "api"}],
                 "Timestamp": now - timedelta(seconds=random.randint(0, 600)), "Unit": "Milliseconds"}
            if values:
                d["Values"] = [round(random.random() * 100, 3) for _ in range(values)]
                d["Counts"] = [float(random.randint(1, 5)) for _ in range(values)]
            else:
                d["Value"] = random.random() * 100
            data.append(d)
        calls.append(("put_metric_data", {"Namespace": f"Bench/{b % 4}", "MetricData": data}))
    return calls


def vary(request: Request, access_key: str, secret_key: str, seed: int) -> Request:
    """Another json PutMetricData like ``request``, with new random values, signed again (SigV4).

    For loads that need many distinct bodies (a replicated ClickHouse table drops a block identical
    to a recent one): boto3 takes ~36 ms to make a 1,000-datum body, this ~8 ms. Same headers,
    same shape, same gzip; only the values differ.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url, headers, body = request
    gz = headers.get("Content-Encoding") == "gzip"
    doc = json.loads(gzip.decompress(body) if gz else body)
    rng = random.Random(seed)
    for d in doc["MetricData"]:
        if "Value" in d:
            d["Value"] = rng.random() * 100
        if "Values" in d:
            d["Values"] = [round(rng.random() * 100, 3) for _ in d["Values"]]
    data = json.dumps(doc).encode()
    if gz:
        data = gzip.compress(data)
    unsigned = {k: v for k, v in headers.items() if k.lower().startswith("amz-sdk-")}  # as boto3 signs
    kept = {k: v for k, v in headers.items()
            if k.lower() not in ("authorization", "x-amz-date", "content-length") and k not in unsigned}
    aws = AWSRequest(method="POST", url=url, data=data, headers=kept)
    SigV4Auth(Credentials(access_key, secret_key), "monitoring", "us-east-1").add_auth(aws)
    return url, {**dict(aws.headers.items()), **unsigned}, data


async def put_load(target: Target, protocol: str, clients: int, seconds: float, datums: int, values: int,
                   rate: float | None, tmp: Path, *, per_worker: int = 4) -> dict[str, float]:
    """Closed loop (``clients`` senders, each waiting for its answer) or, with ``rate``, open loop.

    Open loop sends ``rate`` requests a second on schedule, whatever the answers do, with at most
    ``clients`` connections; latency counts from the scheduled send time, so a server falling
    behind shows as latency instead of as a slower client (no coordinated omission).

    Up to 16 workers each send their own ``per_worker`` distinct bodies in turn, signed with the
    keys of account ``w % len(target.keys)``: boto3 makes up to 4 of them, and (json only) the rest
    are :func:`vary`'s copies of those. Returns the figures printed: ``ok``, ``failed``,
    ``datums_per_s``, ``p50``/``p99`` (seconds), ``seconds``, and ``cpu:<process>`` (cores busy).
    """
    procs = target.pids
    workers = min(clients, 16)
    made = min(per_worker, 4)
    if per_worker > made and protocol != "json":
        raise ValueError("more than 4 bodies per worker are made for json only")
    calls = [put_calls(made, datums, values, w) for w in range(workers)]

    def signed() -> list[list[Request]]:
        out = []
        for w, c in enumerate(calls):
            ak, sk = target.keys[w % len(target.keys)]
            made_ = capture(replace(target, access_key=ak, secret_key=sk), protocol, c, tmp)
            out.append(made_ + [vary(made_[i % made], ak, sk, w * per_worker + i) for i in range(made, per_worker)])
        return out

    bodies = signed()
    signed_at = time.monotonic()
    latencies: list[float] = []
    by_status: dict[int, list[float]] = {}
    timeline: list[tuple[float, float]] = []
    started_at = time.perf_counter()
    ok = failed = 0
    errors: dict[str, int] = {}
    rss: dict[str, list[float]] = {name: [rss_mb(pid)] for name, pid in procs.items()}
    cpu0 = {name: cpu_seconds(pid) for name, pid in procs.items()}
    client_cpu0 = time.process_time()
    deadline = time.monotonic() + seconds

    async def send(session: aiohttp.ClientSession, request: Request, t0: float) -> None:
        nonlocal ok, failed, bodies, signed_at
        if time.monotonic() - signed_at > 300:  # signatures are good for 15 minutes
            signed_at = time.monotonic()
            bodies = await asyncio.to_thread(signed)
        url, headers, body = request
        async with session.post(url, data=body, headers=headers) as resp:
            text = await resp.read()
        latencies.append(time.perf_counter() - t0)
        timeline.append((t0 - started_at, time.perf_counter() - t0))
        by_status.setdefault(resp.status, []).append(time.perf_counter() - t0)
        if resp.status == 200:
            ok += 1
        else:
            failed += 1
            key = f"{resp.status} {text[:120]!r}"
            errors[key] = errors.get(key, 0) + 1

    async def worker(w: int, session: aiohttp.ClientSession) -> None:
        i = (w // workers) * per_worker // -(-clients // workers)  # senders sharing a worker's bodies start apart
        while time.monotonic() < deadline:
            body = bodies[w % len(bodies)][i % per_worker]
            i += 1
            await send(session, body, time.perf_counter())

    async def scheduler(session: aiohttp.ClientSession) -> None:
        assert rate is not None
        tasks = set()
        start, i = time.perf_counter(), 0
        while time.monotonic() < deadline:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(send(session, bodies[i % len(bodies)][i // len(bodies) % per_worker], due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)

    async def sampler() -> None:
        await asyncio.sleep(seconds / 2)
        for name, pid in procs.items():
            rss[name].append(rss_mb(pid))

    async def rss_timeline() -> None:  # every 10 % of the run, for long runs (--rss-every)
        while time.monotonic() < deadline:
            await asyncio.sleep(seconds / 10)
            print(f"  t={time.monotonic() - started:5.0f}s RSS MB: " + "  ".join(
                f"{name} {rss_mb(pid):.0f}" for name, pid in procs.items()), flush=True)

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        load = [scheduler(session)] if rate else [worker(w, session) for w in range(clients)]
        await asyncio.gather(sampler(), *([rss_timeline()] if seconds >= 120 else []), *load)
    elapsed = time.monotonic() - started
    for name, pid in procs.items():
        rss[name].append(rss_mb(pid))
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in procs.items()}
    cpu["load client"] = time.process_time() - client_cpu0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    dps = ok * datums / elapsed
    mode = f"open loop at {rate:g} requests/s, up to {clients} connections" if rate else f"{clients} clients"
    shape = f"{datums} datums/request" + (f" of {values} values each" if values else "")
    print(f"\nPutMetricData to {target.name}, {protocol}: {mode}, {shape}, {elapsed:.1f} s")
    print(f"  requests ok {ok}, failed {failed}  {dict(list(errors.items())[:3]) if errors else ''}")
    print(f"  throughput  {dps:,.0f} datums/s  = {dps * 60 / 1e6:.2f} M datums/min"
          + (f"  = {dps * values:,.0f} values/s" if values else ""))
    print(f"  latency     p50 {q[49] * 1000:.1f} ms   p99 {q[98] * 1000:.1f} ms   max {latencies[-1] * 1000:.1f} ms")
    if len(by_status) > 1:
        print("  by status:  " + "   ".join(
            f"{status}: {len(ts)} requests, p50 {statistics.median(ts) * 1000:.1f} ms, max {max(ts) * 1000:.1f} ms"
            for status, ts in sorted(by_status.items())))
    for name, values in rss.items():
        print(f"  RSS {name:<10} start/mid/end MB: " + " / ".join(f"{v:.0f}" for v in values))
    print("  CPU (cores busy): " + "  ".join(f"{name} {sec / elapsed:.2f}" for name, sec in cpu.items()))
    windows: dict[int, list[float]] = {}
    for sent, took in timeline:
        windows.setdefault(int(sent // 15) * 15, []).append(took)
    print("  p50 / p99 latency by 15 s of sending: " + "  ".join(
        f"{w}s {statistics.median(v) * 1000:.0f}/{sorted(v)[int(len(v) * 0.99) - 1 if len(v) > 1 else 0] * 1000:.0f}"
        for w, v in sorted(windows.items())))
    return {"ok": ok, "failed": failed, "datums_per_s": dps, "p50": q[49], "p99": q[98], "seconds": elapsed,
            **{f"cpu:{name}": sec / elapsed for name, sec in cpu.items()}}


async def stats_latency(target: Target, calls: int, tmp: Path) -> None:
    """GetMetricStatistics over one day of 1-minute data (a Value and a Values/Counts per minute)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=1)
    dims = [{"Name": "Host", "Value": "one"}]
    day = [{"MetricName": "Day", "Dimensions": dims, "Timestamp": start + timedelta(minutes=m), "Value": float(m % 97)}
           for m in range(1440)]
    day += [{"MetricName": "Day", "Dimensions": dims, "Timestamp": start + timedelta(minutes=m, seconds=30),
             "Values": [1.0, 2.0, 3.0, float(m % 50)], "Counts": [5.0, 3.0, 1.0, 1.0]} for m in range(1440)]
    puts = [("put_metric_data", {"Namespace": "Bench/Day", "MetricData": day[i:i + 1000]})
            for i in range(0, len(day), 1000)]
    query = {"Namespace": "Bench/Day", "MetricName": "Day", "Dimensions": dims, "StartTime": start, "EndTime": end,
             "Period": 60, "Statistics": ["SampleCount", "Average", "Maximum"]}
    gets = [("get_metric_statistics", query), ("get_metric_statistics", {**query, "ExtendedStatistics": ["p99"]})]
    requests = capture(target, "json", puts + gets, tmp)
    async with aiohttp.ClientSession() as session:
        for url, headers, body in requests[:len(puts)]:
            async with session.post(url, data=body, headers=headers) as r:
                assert r.status == 200, await r.text()
        for label, (url, headers, body) in zip(("basic stats", "basic + p99"), requests[len(puts):], strict=True):
            times, points = [], 0
            for _ in range(calls):
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as r:
                    doc = json.loads(await r.read())
                times.append(time.perf_counter() - t0)
                points = len(doc.get("Datapoints", []))
            times.sort()
            print(f"GetMetricStatistics, 1 day at 60 s ({points} datapoints), {label}: "
                  f"p50 {statistics.median(times) * 1000:.1f} ms  p99 {times[int(len(times) * 0.99) - 1] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=("up", "server", "moto"), default="up",
                        help="stackwatch up on chDB (default), on a ClickHouse 18.16 server, or moto_server")
    parser.add_argument("--protocol", choices=("json", "cbor", "query"), default="json")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--datums", type=int, default=1000)
    parser.add_argument("--values", type=int, default=0, help="Values/Counts per datum (default: one Value)")
    parser.add_argument("--stats-calls", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: requests per second on schedule (default: closed loop)")
    parser.add_argument("--gateways", type=int, default=None, help="gateway processes (default: up's, one per core)")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if args.target == "moto":
            stack = moto()
        else:
            stack = stackwatch_up(clickhouse=args.target == "server", gateways=args.gateways, log_level="INFO")
        with stack as target:
            asyncio.run(put_load(target, args.protocol, args.clients, args.seconds, args.datums, args.values,
                                 args.rate, Path(tmp)))
            if args.stats_calls:
                asyncio.run(stats_latency(target, args.stats_calls, Path(tmp)))


if __name__ == "__main__":
    main()
