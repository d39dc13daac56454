"""GetMetricData through the whole stack over two weeks of data, beside GetMetricStatistics.

Loads ``--datapoints`` (10 million by default) one-value datapoints over the last two weeks for
1,000 metrics (``Bench/GMD``, ``Latency``, dimensions Host=h0..h999 and Service=s0..s9) straight
into the embedded store, merges its parts as a store running for a while would have them
(``--unmerged`` leaves the 100 parts of 100,000 rows as inserted), starts ``stackwatch up`` on
it, and times with boto3 (json), each
``--calls`` times, p50 and p99:

* GetMetricData of 10 metrics over 1 day at 60 s, and over 2 weeks at 1 h;
* expressions over two of them: ``m1/m2*100`` and ``RATE(m1)`` (1 day at 60 s);
* one ``SEARCH`` over the 1,000 metrics (1 day at 1 h; CloudWatch caps a SEARCH at 500 matches);
* one Metrics Insights query with GROUP BY (the last 3 hours at 5 min);
* GetMetricStatistics of the same data: 1 metric and 10 metrics (one call each) over 1 day at 60 s.

    .venv/bin/python bench/gmd_stack_bench.py [--datapoints 10000000] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from put_bench import capture  # noqa: E402
from stacks import ACCOUNT, Target, stackwatch_up  # noqa: E402

from services.ingest.store import MetricStore  # noqa: E402
from stackwatch.domain.metrics import DatumBatch, Dimension  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402

NS, METRICS, CHUNK = "Bench/GMD", 1000, 100_000


def load(data_dir: Path, datapoints: int, settle: bool) -> None:
    """Two weeks of datapoints for 1,000 metrics, inserted as the committer does (100,000 a call)."""
    per_metric = datapoints // METRICS
    now = time.time()
    step = 14 * 86400 / per_metric
    dims = [(Dimension("Host", f"h{m}"), Dimension("Service", f"s{m % 10}")) for m in range(METRICS)]

    async def run() -> None:
        engine = AsyncEngine(open_engine(f"chdb://{(data_dir / 'store').resolve()}"))
        store = MetricStore(engine)
        await store.ensure_schema()
        t0, done = time.perf_counter(), 0
        rows: list[tuple[int, int]] = [(m, k) for k in range(per_metric) for m in range(METRICS)]
        for start in range(0, len(rows), CHUNK):
            part = rows[start:start + CHUNK]
            stamps = [now - 14 * 86400 + k * step + m * 0.001 for m, k in part]
            vals = [float((m * 7 + k) % 1000) for m, k in part]
            batch = DatumBatch(NS, ["Latency"] * len(part), [dims[m] for m, _ in part], stamps, [1.0] * len(part),
                               vals, vals, vals, [(v,) for v in vals], [(1.0,)] * len(part),
                               ["Milliseconds"] * len(part), [60] * len(part))
            await store.insert([(ACCOUNT, batch)], now)
            done += len(part)
        took = time.perf_counter() - t0
        print(f"loaded {done:,} datapoints for {METRICS} metrics in {took:.0f} s ({done / took:,.0f}/s)", flush=True)
        if settle:  # what a store that has been running for a while looks like: its parts merged
            t0 = time.perf_counter()
            await engine.execute(f"OPTIMIZE TABLE {store.database}.raw FINAL")
            parts = await engine.execute("SELECT count() FROM system.parts WHERE database = %(db)s AND table = 'raw'"
                                         " AND active", {"db": store.database})
            print(f"merged into {parts[0][0]} parts in {time.perf_counter() - t0:.0f} s", flush=True)
        engine.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run())


def _pcts(times: list[float]) -> str:
    times = sorted(times)
    return f"p50 {times[len(times) // 2] * 1000:.1f} ms  p99 {times[min(len(times) - 1, int(len(times) * .99))] * 1000:.1f} ms"


def timed(label: str, fn, calls: int,
          raw: tuple[str, dict[str, str], bytes] | None = None) -> tuple[list[float], list[float]]:
    """Print boto3's time and, with ``raw``, the same request's HTTP round trip alone; return both lists.

    boto3's is what a user waits, its own parsing of thousands of timestamps included; the round
    trip alone is the server's time.
    """
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    line = f"  {label}: boto3 {_pcts(times)}"
    server: list[float] = []
    if raw is not None:
        url, headers, body = raw
        with requests.Session() as http:
            http.post(url, data=body, headers=headers).raise_for_status()
            server = []
            for _ in range(calls):
                t0 = time.perf_counter()
                http.post(url, data=body, headers=headers).raise_for_status()
                server.append(time.perf_counter() - t0)
        line += f";  HTTP round trip alone {_pcts(server)}"
    print(f"{line}  ({out})", flush=True)
    return times, server


def queries(t: Target, calls: int) -> None:
    cw = boto3.client("cloudwatch", endpoint_url=t.endpoint, region_name="us-east-1", aws_access_key_id=t.access_key,
                      aws_secret_access_key=t.secret_key, config=Config(retries={"max_attempts": 1}))
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    day, weeks = now - dt.timedelta(days=1), now - dt.timedelta(days=14) + dt.timedelta(hours=1)

    def metric(m: int) -> dict:
        return {"Namespace": NS, "MetricName": "Latency",
                "Dimensions": [{"Name": "Host", "Value": f"h{m}"}, {"Name": "Service", "Value": f"s{m % 10}"}]}

    def gmd(queries: list[dict], start: dt.datetime) -> str:
        points = 0
        for page in cw.get_paginator("get_metric_data").paginate(MetricDataQueries=queries, StartTime=start,
                                                                 EndTime=now):
            points += sum(len(r["Values"]) for r in page["MetricDataResults"])
        return f"{points} datapoints"

    def raw(queries: list[dict], start: dt.datetime) -> tuple[str, dict[str, str], bytes]:
        return capture(t, "json", [("get_metric_data", {"MetricDataQueries": queries, "StartTime": start,
                                                        "EndTime": now})], Path(tempfile.mkdtemp()))[0]

    ten = [{"Id": f"m{i}", "MetricStat": {"Metric": metric(i), "Period": 60, "Stat": "Average"}} for i in range(10)]
    timed("GetMetricData, 10 metrics, 1 day at 60 s", lambda: gmd(ten, day), calls, raw(ten, day))
    ten_h = [{**q, "MetricStat": {**q["MetricStat"], "Period": 3600}} for q in ten]
    timed("GetMetricData, 10 metrics, 2 weeks at 1 h", lambda: gmd(ten_h, weeks), calls, raw(ten_h, weeks))
    two = [{**q, "ReturnData": False} for q in ten[:2]]
    ratio = [*two, {"Id": "e1", "Expression": "m0/m1*100"}]
    timed("GetMetricData, m1/m2*100, 1 day at 60 s", lambda: gmd(ratio, day), calls, raw(ratio, day))
    rate = [*two, {"Id": "e1", "Expression": "RATE(m0)"}]
    timed("GetMetricData, RATE(m1), 1 day at 60 s", lambda: gmd(rate, day), calls, raw(rate, day))
    search = [{"Id": "s1", "Period": 3600,
               "Expression": f"SEARCH('{{{NS},Host,Service}} MetricName=\"Latency\"', 'Average', 3600)"}]
    timed("GetMetricData, SEARCH over 1,000 metrics (500 returned), 1 day at 1 h", lambda: gmd(search, day), calls,
          raw(search, day))
    insights = [{"Id": "q1", "Period": 300, "Expression": f'SELECT AVG(Latency) FROM SCHEMA("{NS}", Host, Service)'
                                                          " GROUP BY Service ORDER BY AVG() DESC LIMIT 10"}]
    timed("GetMetricData, Insights GROUP BY Service, 3 h at 5 min",
          lambda: gmd(insights, now - dt.timedelta(hours=3)), calls, raw(insights, now - dt.timedelta(hours=3)))

    def gms(n: int) -> str:
        points = 0
        for i in range(n):
            points += len(cw.get_metric_statistics(**metric(i), StartTime=day, EndTime=now, Period=60,
                                                   Statistics=["Average"])["Datapoints"])
        return f"{points} datapoints"

    one = capture(t, "json", [("get_metric_statistics", {**metric(0), "StartTime": day, "EndTime": now, "Period": 60,
                                                         "Statistics": ["Average"]})], Path(tempfile.mkdtemp()))[0]
    timed("GetMetricStatistics, 1 metric, 1 day at 60 s", lambda: gms(1), calls, one)
    timed("GetMetricStatistics, 10 metrics one after another, 1 day at 60 s", lambda: gms(10), calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapoints", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--unmerged", action="store_true",
                        help="query the 100 parts as inserted instead of merging them first")
    args = parser.parse_args()
    with stackwatch_up(prepare=lambda d: load(d, args.datapoints, not args.unmerged)) as t:
        queries(t, args.calls)


if __name__ == "__main__":
    main()
