"""GetMetricData through the whole stack over two weeks of data, beside GetMetricStatistics.

Loads ``--datapoints`` (10 million by default) one-value datapoints over the last two weeks for
1,000 metrics (``Bench/GMD``, ``Latency``, dimensions Host=h0..h999 and Service=s0..s9) straight
into the embedded store, starts ``stackwatch up`` on it, and times with boto3 (json), each
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
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stacks import ACCOUNT, Target, stackwatch_up  # noqa: E402

from services.ingest.store import MetricStore  # noqa: E402
from stackwatch.domain.metrics import DatumBatch, Dimension  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402

NS, METRICS, CHUNK = "Bench/GMD", 1000, 100_000


def load(data_dir: Path, datapoints: int) -> None:
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
        engine.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run())


def timed(label: str, fn, calls: int) -> None:
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"  {label}: p50 {times[len(times) // 2] * 1000:.1f} ms  p99 {times[min(len(times) - 1, int(len(times) * .99))] * 1000:.1f} ms"
          f"  ({out})", flush=True)


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

    ten = [{"Id": f"m{i}", "MetricStat": {"Metric": metric(i), "Period": 60, "Stat": "Average"}} for i in range(10)]
    timed("GetMetricData, 10 metrics, 1 day at 60 s", lambda: gmd(ten, day), calls)
    ten_h = [{**q, "MetricStat": {**q["MetricStat"], "Period": 3600}} for q in ten]
    timed("GetMetricData, 10 metrics, 2 weeks at 1 h", lambda: gmd(ten_h, weeks), calls)
    two = [{**q, "ReturnData": False} for q in ten[:2]]
    timed("GetMetricData, m1/m2*100, 1 day at 60 s",
          lambda: gmd([*two, {"Id": "e1", "Expression": "m0/m1*100"}], day), calls)
    timed("GetMetricData, RATE(m1), 1 day at 60 s", lambda: gmd([*two, {"Id": "e1", "Expression": "RATE(m0)"}], day),
          calls)
    search = f"SEARCH('{{{NS},Host,Service}} MetricName=\"Latency\"', 'Average', 3600)"
    timed("GetMetricData, SEARCH over 1,000 metrics (500 returned), 1 day at 1 h",
          lambda: gmd([{"Id": "s1", "Expression": search, "Period": 3600}], day), calls)
    insights = f'SELECT AVG(Latency) FROM SCHEMA("{NS}", Host, Service) GROUP BY Service ORDER BY AVG() DESC LIMIT 10'
    timed("GetMetricData, Insights GROUP BY Service, 3 h at 5 min",
          lambda: gmd([{"Id": "q1", "Expression": insights, "Period": 300}], now - dt.timedelta(hours=3)), calls)

    def gms(n: int) -> str:
        points = 0
        for i in range(n):
            points += len(cw.get_metric_statistics(**metric(i), StartTime=day, EndTime=now, Period=60,
                                                   Statistics=["Average"])["Datapoints"])
        return f"{points} datapoints"

    timed("GetMetricStatistics, 1 metric, 1 day at 60 s", lambda: gms(1), calls)
    timed("GetMetricStatistics, 10 metrics one after another, 1 day at 60 s", lambda: gms(10), calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapoints", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with stackwatch_up(prepare=lambda d: load(d, args.datapoints)) as t:
        queries(t, args.calls)


if __name__ == "__main__":
    main()
