"""One client, one request at a time: what a script in a loop, an agent or a test suite waits.

boto3 (json 1.0, standard retries off so every attempt is timed) sends PutMetricData with one
datum, waits for the answer, sends the next; then the same with a GetMetricStatistics of that
datum right after each put (read-your-writes: the read must see the write). Against, in one run:

* ``stackwatch up`` on the embedded store (chDB),
* ``stackwatch up --store-url`` on a Debian ClickHouse 18.16 server (separate processes),
* moto_server, an in-memory emulator with no durability, as the yardstick.

    .venv/bin/python bench/latency_bench.py --requests 500
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stacks import Target, moto, stackwatch_up  # noqa: E402


def client(t: Target):
    return boto3.client("cloudwatch", endpoint_url=t.endpoint, region_name="us-east-1",
                        aws_access_key_id=t.access_key, aws_secret_access_key=t.secret_key,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def run(t: Target, n: int) -> dict[str, list[float]]:
    cw = client(t)
    for i in range(20):  # warm up connections and caches
        cw.put_metric_data(Namespace="Warm", MetricData=[{"MetricName": "w", "Value": float(i)}])
    puts: list[float] = []
    for i in range(n):
        t0 = time.perf_counter()
        cw.put_metric_data(Namespace="Lone", MetricData=[{"MetricName": "Requests", "Value": float(i)}])
        puts.append(time.perf_counter() - t0)
    ryw_put: list[float] = []
    ryw_get: list[float] = []
    missing = 0
    for i in range(n // 5):
        now = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        cw.put_metric_data(Namespace="RYW", MetricData=[{"MetricName": f"m{i}", "Value": float(i), "Timestamp": now}])
        t1 = time.perf_counter()
        got = cw.get_metric_statistics(Namespace="RYW", MetricName=f"m{i}", Period=60, Statistics=["Sum"],
                                       StartTime=now - dt.timedelta(minutes=1), EndTime=now + dt.timedelta(minutes=1))
        t2 = time.perf_counter()
        ryw_put.append(t1 - t0)
        ryw_get.append(t2 - t1)
        if [d["Sum"] for d in got["Datapoints"]] != [float(i)]:
            missing += 1
    print(f"  {t.name}: {n} sequential puts p50 {pct(puts, .5):.1f} ms  p90 {pct(puts, .9):.1f}  "
          f"p99 {pct(puts, .99):.1f}  ({n / sum(puts):.0f} requests/s); put-then-get x{n // 5}: put p50 "
          f"{pct(ryw_put, .5):.1f} ms, get p50 {pct(ryw_get, .5):.1f} ms p99 {pct(ryw_get, .99):.1f} ms, "
          f"{missing} reads missed their write", flush=True)
    return {"put": puts, "get": ryw_get}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--skip-server", action="store_true", help="leave out the ClickHouse-server stack")
    args = parser.parse_args()
    results = {}
    with moto() as m:
        results["moto"] = run(m, args.requests)
    with stackwatch_up() as t:
        results["chdb"] = run(t, args.requests)
    if not args.skip_server:
        with stackwatch_up(clickhouse=True) as t:
            results["server"] = run(t, args.requests)
    base = pct(results["moto"]["put"], .5)
    for key, label in (("chdb", "up, chDB"), ("server", "up, ClickHouse server")):
        if key in results:
            print(f"  ratio put p50 {label} / moto: {pct(results[key]['put'], .5) / base:.2f}")


if __name__ == "__main__":
    main()
