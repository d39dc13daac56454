"""ClickHouse cluster (issue 11): the local 2 x 2 cluster beside one ClickHouse 18.16 server.

Each store configuration is started from scratch in a temporary directory, on this machine:

``single``   one Debian ``clickhouse-server`` 18.16 (as ``put_bench.py --target server`` runs it)
``quorum2``  the local cluster (``ClickHouseCluster``: ZooKeeper + 2 shards x 2 replicas), store URL
             with ``insert_quorum=2``: an insert is acknowledged once both replicas of its shard have it
``quorum1``  the same cluster with ``insert_quorum=1``: no quorum, acknowledged on one replica,
             copied to the other behind; ``quorum2`` minus ``quorum1`` is what the quorum costs

and ingest runs without its write-ahead log (a PutMetricData is acknowledged after the INSERT
that carries it, which is where the cluster's durability comes in); ``--wal`` adds ``single+wal``
and ``quorum2+wal``, ingest with its log as ``stackwatch up`` runs it. For each, in order:

1. **Raw INSERT** (the stack not running): :meth:`MetricStore.insert`, the group commit's unit
   (raw rows, the rollup views, the catalog when due), of 1,000 and 10,000 one-value datums of one
   account, so on one shard, one insert after another; and 10,000 datums of two accounts on
   different shards, which the cluster writes to both shards at once. ms per insert p50/p90.
2. **PutMetricData** through the whole stack (``stackwatch up``'s processes: auth, ingest, alarm,
   autoscale and a gateway per core; :func:`stacks.stackwatch_up`) with ``put_bench.py``'s load
   generator: ``--clients`` closed-loop senders of 1,000-datum json requests as boto3 makes them,
   over 16 accounts (8 on each shard), each account's senders cycling through ``--bodies``
   distinct bodies. Distinct matters: a replicated table silently drops a block identical to one
   of its last 100, and closed-loop senders move in step, so with 32 bodies an account the same
   batch of 8 requests came round every 32 commits and was dropped (2,000 of 1,091,000
   acknowledged datums missing at quorum 2 in a first run; none at 128). Acknowledged datums/s,
   latency p50/p99, CPU of every process (ClickHouse servers and ZooKeeper included), the load
   average; then the raw rows stored against the datums acknowledged. Without the log, a request
   holds one of its gateway's turns until its INSERT is done; with the stack's default of 8 turns
   a gateway, 2 gateways let 16 requests wait on ingest (at most 8,000 rows per shard's commit)
   and refuse the rest with Throttling, so the bench raises them (``--turns 32``) for 64 senders.
3. **GetMetricData** through the stack on the same store: 10 metrics at one datapoint a minute
   over the last 13 days put through the stack, then (boto3, json, ``--calls`` times) 10 metrics
   over 1 day at 60 s (raw) and over 13 days at 1 h (the hourly rollup), p50/p99 as boto3 sees
   it and for the HTTP round trip alone.

Then a table of every configuration and a paper estimate of the cluster for 10 million
datapoints a minute (166,667/s) from the measured figures, with its assumptions printed.

    .venv/bin/python bench/cluster_bench.py                          # single, quorum2, quorum1; ~6 min
    .venv/bin/python bench/cluster_bench.py --clients 16 --turns 8   # the stack's default turns: 16 in flight
    .venv/bin/python bench/cluster_bench.py --configs single+wal,quorum2+wal --calls 0 --no-inserts
    .venv/bin/python bench/cluster_bench.py --configs quorum2 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gmd_stack_bench import timed  # noqa: E402
from put_bench import capture, put_load  # noqa: E402
from stacks import ACCOUNT, Target, stackwatch_up  # noqa: E402
from store_bench import make_batch  # noqa: E402

from services.ingest.store import MetricStore  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine, shard_of  # noqa: E402
from stackwatch.store.testing import ClickHouseCluster, ClickHouseServer  # noqa: E402

CONFIGS = {  # name -> (what, insert_quorum on a cluster or None for the single server, write-ahead log)
    "single": ("one ClickHouse 18.16 server", None, False),
    "quorum2": ("2 x 2 cluster, insert_quorum=2", 2, False),
    "quorum1": ("2 x 2 cluster, insert_quorum=1 (no quorum)", 1, False),
    "single+wal": ("one server, ingest with its write-ahead log", None, True),
    "quorum2+wal": ("2 x 2 cluster, insert_quorum=2, ingest with its write-ahead log", 2, True),
}
SHARDS, REPLICAS = 2, 2
METRICS_DB = "stackwatch_metrics"
GMD_NS, GMD_METRICS, GMD_DAYS = "Bench/Cluster", 10, 13
TARGET_PER_S = 10_000_000 / 60


@dataclass
class Figures:
    """What one configuration measured (seconds for times)."""

    inserts: dict[str, list[float]] = field(default_factory=dict)
    put: dict[str, float] = field(default_factory=dict)
    load: tuple[str, str] = ("", "")
    stored: int = 0
    gmd: dict[str, tuple[list[float], list[float], str]] = field(default_factory=dict)
    servers: int = 1
    commits: tuple[int, int, int, float, float] | None = None
    """ingest's commits: count, rows, largest batch, mean and max write time in ms (the stack's whole life)."""


def accounts(n: int, shards: int = SHARDS) -> list[str]:
    """``n`` account ids, :data:`ACCOUNT` first, as many on each of ``shards`` shards as can be."""
    per = {s: 0 for s in range(shards)}
    out = [ACCOUNT]
    per[shard_of(ACCOUNT, shards)] += 1
    i = 2
    while len(out) < n:
        a = f"b0000000-0000-4000-8000-{i:012d}"
        i += 1
        s = shard_of(a, shards)
        if per[s] < math.ceil(n / shards):
            out.append(a)
            per[s] += 1
    return out


def loadavg() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pcts(times: Sequence[float]) -> tuple[float, float]:
    """(p50, p99) in ms."""
    t = sorted(times)
    return t[len(t) // 2] * 1000, t[min(len(t) - 1, int(len(t) * .99))] * 1000


@contextlib.contextmanager
def store(quorum: int | None, tmp: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """The store of a configuration: (store URL, pids of its processes)."""
    if quorum is None:
        with ClickHouseServer(tmp / "ch") as ch:
            yield ch.url, {"clickhouse": ch.pid}
        return
    with ClickHouseCluster(tmp / "cluster", shards=SHARDS, replicas=REPLICAS) as cluster:
        pids = {f"ch s{i // REPLICAS + 1}r{i % REPLICAS + 1}": s.pid for i, s in enumerate(cluster.servers)}
        yield cluster.url("default", insert_quorum=quorum), {**pids, "zookeeper": cluster.zookeeper.pid}


# -- 1. raw INSERT ------------------------------------------------------------------------------

async def raw_inserts(url: str, repeats: int, other: str) -> dict[str, list[float]]:
    """Seconds per ``MetricStore.insert``: 1k, 10k, 100k datums of one account; 10k split over two shards."""
    engine = AsyncEngine(open_engine(url), threads=4)
    out: dict[str, list[float]] = {}
    try:
        metrics = MetricStore(engine, "bench_insert")
        await metrics.ensure_schema()
        seed = 0
        for label, n, accts in (("1k, one shard", 1000, [ACCOUNT]), ("10k, one shard", 10_000, [ACCOUNT]),
                                ("10k, two shards", 10_000, [ACCOUNT, other]), ("100k, one shard", 100_000, [ACCOUNT])):
            times = []
            for i in range(min(repeats, 5) if n > 10_000 else repeats + 1):  # the first one (catalog rows, cold caches) is not counted
                seed += 1  # distinct rows every time: a replicated table drops a block it already has
                batch = [(accts[j % len(accts)], b) for j, (_, b) in enumerate(make_batch(n, seed))]
                t0 = time.perf_counter()
                await metrics.insert(batch, time.time())
                if i:
                    times.append(time.perf_counter() - t0)
            out[label] = times
            p50 = statistics.median(times) * 1000
            p90 = sorted(times)[int(len(times) * 0.9) - 1] * 1000
            print(f"  INSERT {label:<16} p50 {p50:6.1f} ms  p90 {p90:6.1f} ms  = {n / (p50 / 1000):>9,.0f} rows/s"
                  " one after another", flush=True)
    finally:
        engine.close()
    return out


# -- 2. PutMetricData ---------------------------------------------------------------------------

async def stored_rows(url: str) -> int:
    """Raw rows in the metrics database (through the Distributed table on a cluster)."""
    engine = AsyncEngine(open_engine(url))
    try:
        (n,), = await engine.execute(f"SELECT count() FROM {METRICS_DB}.raw")
        return int(n)
    finally:
        engine.close()


# -- 3. GetMetricData ---------------------------------------------------------------------------

def _metric(m: int) -> dict:
    return {"Namespace": GMD_NS, "MetricName": "Latency",
            "Dimensions": [{"Name": "Host", "Value": f"h{m}"}, {"Name": "Service", "Value": f"s{m % 5}"}]}


async def put_history(t: Target, tmp: Path) -> int:
    """10 metrics, one datapoint a minute over the last 13 days, through the stack (4 requests at a time)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    start = now - dt.timedelta(days=GMD_DAYS)
    data = [{**_metric(m), "Timestamp": start + dt.timedelta(minutes=k), "Value": float((m * 7 + k) % 1000),
             "Unit": "Milliseconds"} for k in range(GMD_DAYS * 1440) for m in range(GMD_METRICS)]
    calls = [("put_metric_data", {"Namespace": GMD_NS, "MetricData": [
        {k: v for k, v in d.items() if k != "Namespace"} for d in data[i:i + 1000]]})
        for i in range(0, len(data), 1000)]
    requests = capture(t, "json", calls, tmp)
    queue = list(requests)

    async def sender(session: aiohttp.ClientSession) -> None:
        while queue:
            url, headers, body = queue.pop()
            async with session.post(url, data=body, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"PutMetricData of the history: {r.status} {(await r.read())[:300]!r}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(sender(session) for _ in range(4)))
    return len(data)


def gmd_latency(t: Target, calls: int, tmp: Path) -> dict[str, tuple[list[float], list[float], str]]:
    """GetMetricData of the 10 metrics: 1 day at 60 s, 13 days at 1 h (whole hours: the hourly rollup)."""
    cw = boto3.client("cloudwatch", endpoint_url=t.endpoint, region_name="us-east-1", aws_access_key_id=t.access_key,
                      aws_secret_access_key=t.secret_key, config=Config(retries={"max_attempts": 1}))
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    out = {}
    for label, period, start in (("1 day at 60 s", 60, hour - dt.timedelta(days=1)),
                                 (f"{GMD_DAYS} days at 1 h", 3600, hour - dt.timedelta(days=GMD_DAYS - 1))):
        qs = [{"Id": f"m{m}", "MetricStat": {"Metric": _metric(m), "Period": period, "Stat": "Average"}}
              for m in range(GMD_METRICS)]

        def gmd(qs: list[dict] = qs, start: dt.datetime = start) -> str:
            points = 0
            for page in cw.get_paginator("get_metric_data").paginate(MetricDataQueries=qs, StartTime=start,
                                                                     EndTime=hour):
                points += sum(len(r["Values"]) for r in page["MetricDataResults"])
            return f"{points} datapoints"

        raw = capture(t, "json", [("get_metric_data", {"MetricDataQueries": qs, "StartTime": start,
                                                        "EndTime": hour})], tmp)[0]
        boto, http = timed(f"GetMetricData, {GMD_METRICS} metrics, {label}", gmd, calls, raw)
        out[label] = (boto, http, gmd())
    return out


# -- one configuration ---------------------------------------------------------------------------

def run_config(name: str, args: argparse.Namespace, accts: list[str]) -> Figures:
    what, quorum, wal = CONFIGS[name]
    fig = Figures(servers=1 if quorum is None else SHARDS * REPLICAS)
    print(f"\n=== {name}: {what}; ingest {'with' if wal else 'without'} its write-ahead log"
          f" (load average {loadavg()}) ===", flush=True)
    with tempfile.TemporaryDirectory(prefix="sw-cluster-bench-") as tmpdir, store(quorum, Path(tmpdir)) as (url, pids):
        tmp = Path(tmpdir)
        other = next(a for a in accts if shard_of(a, SHARDS) != shard_of(ACCOUNT, SHARDS))
        if not args.no_inserts:
            fig.inserts = asyncio.run(raw_inserts(url, args.repeats, other))
        with stackwatch_up(store_url=url, wal=wal, accounts=accts, log_level="INFO",
                           name=f"stack on {what}") as target:
            target.pids.update(pids)
            before = loadavg()
            fig.put = asyncio.run(put_load(target, "json", args.clients, args.seconds, 1000, 0, None, tmp,
                                           per_worker=args.bodies))
            fig.load = (before, loadavg())
            print(f"  load average before / after the run: {fig.load[0]} / {fig.load[1]}", flush=True)
            if not wal:
                time.sleep(2)  # without a quorum a replica may still be fetching the last parts
                fig.stored = asyncio.run(stored_rows(url))
                print(f"  raw rows stored {fig.stored:,}, datums acknowledged {int(fig.put['ok']) * 1000:,}",
                      flush=True)
            if args.calls:
                t0 = time.perf_counter()
                n = asyncio.run(put_history(target, tmp))
                print(f"  history for GetMetricData: {n:,} datapoints put in {time.perf_counter() - t0:.1f} s",
                      flush=True)
                time.sleep(2)  # without a quorum a replica may still be fetching the last parts
                fig.gmd = gmd_latency(target, args.calls, tmp)
        found = re.search(r"(\d+) commits, (\d+) rows, largest batch (\d+), write time mean ([\d.]+) ms, max ([\d.]+)",
                          (Path(tempfile.gettempdir()) / "stackwatch-bench-up.log").read_text())
        if found:
            c, r, big, mean, worst = found.groups()
            fig.commits = (int(c), int(r), int(big), float(mean), float(worst))
    return fig


# -- summary and estimate ------------------------------------------------------------------------

def summary(results: dict[str, Figures]) -> None:
    print("\n=== summary (ms; datums/s acknowledged) ===")
    print(f"{'config':<12} {'PutMetricData/s':>15} {'p50':>7} {'p99':>7}  {'ClickHouse cores':>16} {'µs/datum':>8}"
          f"  {'ingest+gw cores':>15}  load avg")
    for name, f in results.items():
        if not f.put:
            continue
        ch = sum(v for k, v in f.put.items() if k.startswith(("cpu:ch ", "cpu:clickhouse")))
        stack = sum(v for k, v in f.put.items() if k.startswith(("cpu:ingest", "cpu:gateway")))
        dps = f.put["datums_per_s"]
        commits = (f"  {f.commits[0]} commits of {f.commits[1] / max(f.commits[0], 1):,.0f} rows, {f.commits[3]:.0f} ms"
                   if f.commits else "")
        print(f"{name:<12} {dps:>15,.0f} {f.put['p50'] * 1000:>7.0f} {f.put['p99'] * 1000:>7.0f}  {ch:>16.2f}"
              f" {ch / dps * 1e6:>8.1f}  {stack:>15.2f}  {f.load[0]} -> {f.load[1]}{commits}")
    labels = next((list(f.inserts) for f in results.values() if f.inserts), [])
    print(f"\nINSERT ms p50 / p90\n{'config':<12} " + "  ".join(f"{label:>18}" for label in labels))
    for name, f in results.items():
        if f.inserts:
            cells = []
            for times in f.inserts.values():
                s = sorted(times)
                cells.append(f"{statistics.median(s) * 1000:.1f} / {s[int(len(s) * 0.9) - 1] * 1000:.1f}")
            print(f"{name:<12} " + "  ".join(f"{c:>18}" for c in cells))
    if any(f.gmd for f in results.values()):
        labels = next(list(f.gmd) for f in results.values() if f.gmd)
        print(f"\n{'config':<12} " + "  ".join(f"{'GMD ' + lb + ' boto3 / HTTP p50, p99':>44}" for lb in labels))
        for name, f in results.items():
            if f.gmd:
                cells = []
                for lb in labels:
                    boto, http, _ = f.gmd[lb]
                    (b50, b99), (h50, h99) = pcts(boto), pcts(http)
                    cells.append(f"{b50:.0f}, {b99:.0f} / {h50:.0f}, {h99:.0f}")
                print(f"{name:<12} " + "  ".join(f"{c:>44}" for c in cells))


def estimate(results: dict[str, Figures], cores: int, utilization: float) -> None:
    """Shards and servers for 166,667 datapoints/s, from the quorum2 figures (see the assumptions printed)."""
    f = results.get("quorum2")
    if f is None or not f.put:
        print("\n(no paper estimate: it needs the quorum2 run)")
        return
    dps = f.put["datums_per_s"]
    ch = sum(v for k, v in f.put.items() if k.startswith("cpu:ch "))
    per_copy = ch / dps / REPLICAS  # seconds of ClickHouse CPU per datapoint per replica holding it
    zk = f.put.get("cpu:zookeeper", 0.0)
    stack = sum(v for k, v in f.put.items() if k.startswith(("cpu:ingest", "cpu:gateway"))) / dps
    print(f"\n=== paper estimate: 10 M datapoints a minute = {TARGET_PER_S:,.0f}/s ===")
    print(f"measured on the 2 x 2 cluster with insert_quorum=2 (2 cores shared by 4 servers, ZooKeeper, the stack"
          f" and the load generator):\n  {dps:,.0f} datapoints/s acknowledged = {dps / SHARDS:,.0f} per shard;"
          f" ClickHouse CPU {ch:.2f} cores = {ch / dps * 1e6:.1f} µs per datapoint, {per_copy * 1e6:.1f} µs per"
          f" datapoint per replica;\n  ZooKeeper {zk:.2f} cores; ingest + gateways {stack * 1e6:.1f} µs per datapoint")
    if f.commits:
        commits, rows, largest, mean_ms, _ = f.commits
        print(f"  ingest's commits over the stack's life: {commits} of {rows / max(commits, 1):,.0f} rows on average"
              f" (largest {largest:,}), {mean_ms:.0f} ms each on average")
    ceiling = 0.0
    if f.inserts:
        for label, n in (("10k, one shard", 10_000), ("100k, one shard", 100_000)):
            if label in f.inserts:
                t = statistics.median(f.inserts[label])
                ceiling = max(ceiling, n / t)
                print(f"  a shard takes {label.split(',')[0]}-row quorum inserts one after another at {n / t:,.0f}"
                      f" rows/s ({t * 1000:.0f} ms each), nothing else running")
    print(f"assumptions:\n  * servers of {cores} cores kept {utilization:.0%} busy (the rest for merges, queries, a"
          " replica's catch-up, a lost peer's share);\n  * ClickHouse CPU per datapoint as measured here (the"
          " cores were shared, so throughput here is a floor, while CPU seconds per datapoint are a fair\n"
          "    measure of the work); each replica costs alike (inserts rotate over a shard's replicas; each"
          " merges its own parts);\n  * 18.16 keeps one quorum insert in flight per table and shard, so a"
          " shard's write rate is also capped by (rows per insert) / (quorum insert time): ingest\n"
          "    writes at most 100,000 rows an insert (batch_max_rows), one insert at a time per shard, and the"
          " ceiling above is taken at the same utilization;\n  * the load spread evenly over the shards (many"
          " accounts: an account's rows stay on one shard, so one account cannot be spread).")
    for r in (2, 3):
        ch_cores = TARGET_PER_S * per_copy * r
        by_cpu = max(1, math.ceil(math.ceil(ch_cores / (cores * utilization)) / r))
        by_insert = math.ceil(TARGET_PER_S / (ceiling * utilization)) if ceiling else 0
        shards = max(by_cpu, by_insert)
        ceiling_text = f"{by_insert} by the insert ceiling" if ceiling else "the insert ceiling not measured"
        print(f"  R={r}: ClickHouse CPU {ch_cores:.1f} cores -> {by_cpu} shards by CPU, {ceiling_text}; so {shards}"
              f" shards x {r} = {shards * r} servers of {cores} cores ({TARGET_PER_S / shards:,.0f} datapoints/s"
              " per shard)")
    if f.commits and f.commits[0]:
        seconds = f.put["seconds"]
        print(f"  ZooKeeper: {zk:.2f} cores here for ~{f.commits[0] / seconds:.0f} commits/s (its work follows"
              " inserts a second, not rows): a 3-node ensemble")
    print(f"  ingest + gateways: {TARGET_PER_S * stack:.1f} cores of Python processes at the CPU per datapoint"
          " measured here")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="single,quorum2,quorum1",
                        help=f"comma-separated, of: {', '.join(CONFIGS)}")
    parser.add_argument("--wal", action="store_true", help="also single+wal and quorum2+wal")
    parser.add_argument("--seconds", type=float, default=40, help="PutMetricData load per configuration")
    parser.add_argument("--clients", type=int, default=64,
                        help="closed-loop senders; 16 accounts (fewer if fewer senders), senders spread over them")
    parser.add_argument("--bodies", type=int, default=128, help="distinct request bodies per account")
    parser.add_argument("--turns", type=int, default=32,
                        help="requests each gateway works on at once (STACKWATCH_GATEWAY_MAX_ACTIVE_REQUESTS; the"
                        " stack's default is 8); without the log a request holds its turn until its INSERT is done,"
                        " so with 8, 2 gateways let 16 requests wait on ingest and refuse the rest with Throttling")
    parser.add_argument("--calls", type=int, default=30, help="GetMetricData calls per query (0: none)")
    parser.add_argument("--repeats", type=int, default=20, help="raw inserts of each size")
    parser.add_argument("--no-inserts", action="store_true", help="skip the raw INSERT figures")
    parser.add_argument("--cores", type=int, default=8, help="cores per ClickHouse server in the estimate")
    parser.add_argument("--utilization", type=float, default=0.5, help="target CPU use in the estimate")
    args = parser.parse_args()
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    if args.wal:
        names += [n for n in ("single+wal", "quorum2+wal") if n not in names]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations: {unknown}")
    if args.turns != 8:
        os.environ["STACKWATCH_GATEWAY_MAX_ACTIVE_REQUESTS"] = str(args.turns)  # the stack's processes inherit it
    accts = accounts(min(args.clients, 16))
    split = [sum(1 for a in accts if shard_of(a, SHARDS) == s) for s in range(SHARDS)]
    print(f"{args.clients} senders, {len(accts)} accounts, {' + '.join(map(str, split))} on the cluster's shards;"
          f" gateway turns {args.turns or 'default'}; {os.cpu_count()} cores; load average {loadavg()}", flush=True)
    results = {name: run_config(name, args, accts) for name in names}
    summary(results)
    estimate(results, args.cores, args.utilization)


if __name__ == "__main__":
    main()
