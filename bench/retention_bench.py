"""Retention tiers: 15 months of data for 1,000 metrics, rolled up and expired, read through the whole stack.

Loads ``--datapoints`` (100 million by default) one-value datapoints at regular whole-second steps
over the last 15 months (455 days) for 1,000 metrics straight into the embedded store through
:meth:`MetricStore.insert` (100,000 a call, as the committer does, as write-ahead log records of
1,000 datums: one step of every metric), so the rollup views fill
``roll_5m`` and ``roll_1h`` as they would have as the data arrived; then runs the retention job as
of now with CloudWatch's schedule (raw kept 15 days, 5-minute rollup 63 days, hourly 455 days),
merges the parts as a store running for a while would have them, and reports what follows. The
values are what agents publish, not random bits (see :class:`Walks`): a third of the metrics are
percentages with two decimals, a third milliseconds with one, a third whole byte counts.

* the load's rate, and the rollup's cost per million datapoints: a million datapoints of one hour
  (as ingest writes them) inserted into a scratch database with and without the rollup views
  attached (best of three each);
* bytes on disk (``system.parts``) per raw datapoint kept and per rolled-up row of each tier, and
  per raw column;
* through ``stackwatch up`` with boto3 (json), each ``--calls`` times, p50 and p99: GetMetricData of
  10 metrics over 1 day at 60 s (raw), 2 weeks at 1 h and 15 months at 1 day (both from the
  hourly rollup: the ranges are whole hours).

    .venv/bin/python bench/retention_bench.py [--datapoints 100000000] [--calls 30]
    .venv/bin/python bench/retention_bench.py --data-dir D --load-only   # load into D and keep it
    .venv/bin/python bench/retention_bench.py --data-dir D               # then the queries alone, on D
    .venv/bin/python bench/retention_bench.py --server --datapoints N    # load into ClickHouse 18.16
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gmd_stack_bench import timed  # noqa: E402
from put_bench import capture  # noqa: E402
from stacks import ACCOUNT, Target, stackwatch_up  # noqa: E402

from services.ingest.domain import CLOUDWATCH  # noqa: E402
from services.ingest.store import ROLLUPS, MetricStore, Row, raw_ddl  # noqa: E402
from stackwatch.domain.metrics import DatumBatch, Dimension  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402
from stackwatch.store.testing import ClickHouseServer  # noqa: E402

NS, METRICS, CHUNK = "Bench/Retention", 1000, 100_000
SPAN = 455 * 86400
DIMS = [(Dimension("Host", f"h{m}"), Dimension("Service", f"s{m % 10}")) for m in range(METRICS)]


#: The three kinds of metric, by ``m % 3``: name, unit, and how a value is drawn (see :func:`_values`).
KINDS = (("CPUUtilization", "Percent"), ("Latency", "Milliseconds"), ("NetworkIn", "Bytes"))
#: Datums per write-ahead log record (one PutMetricData request of up to 1,000 datums).
RECORD = 1000


class Walks:
    """What agents publish, not random bits: a random walk per metric around its own level, seeded.

    Each step moves a metric by 3 % of its level at random and pulls it back 5 % of the way to
    its level (so it wanders, but neither drifts off nor sticks at a bound over 100,000 steps).
    By kind (``m % 3``): CPU utilisation in percent with two decimals, latency in milliseconds
    with one decimal, bytes received per interval as whole numbers.
    """

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        self._base = [[35.0, 120.0, 2.0e6][m % 3] * (0.5 + (m % 17) / 16) for m in range(METRICS)]
        self._level = list(self._base)

    def next(self, m: int) -> float:
        """Metric ``m``'s next value."""
        base, level = self._base[m], self._level[m]
        level = self._level[m] = abs(level + 0.05 * (base - level) + self._rng.gauss(0, 0.03 * base))
        kind = m % 3
        return round(min(level, 100.0), 2) if kind == 0 else round(level, 1) if kind == 1 else float(round(level))


def _record(walks: Walks, stamp: int) -> DatumBatch:
    """One PutMetricData request: every metric's one-value datum at ``stamp`` (whole seconds)."""
    vals = [walks.next(m) for m in range(METRICS)]
    n = METRICS
    return DatumBatch(NS, [KINDS[m % 3][0] for m in range(n)], DIMS, [float(stamp)] * n, [1.0] * n, vals, vals, vals,
                      [(v,) for v in vals], [(1.0,)] * n, [KINDS[m % 3][1] for m in range(n)], [60] * n)


def _chunks(walks: Walks, stamps: list[int], first_seq: int) -> Iterator[list[Row]]:
    """``stamps`` as write-ahead log records (one a stamp, seqs from ``first_seq``), CHUNK datums an insert."""
    per = CHUNK // METRICS
    for i in range(0, len(stamps), per):
        yield [(ACCOUNT, _record(walks, s), first_seq + i + j) for j, s in enumerate(stamps[i:i + per])]


async def _rollup_cost(engine: AsyncEngine, now: float) -> float:
    """Seconds the rollup views add to inserting one million datapoints (best of three, with and without)."""
    # as ingest sees it: the last hour's data (1,000 metrics, a datapoint each every 3.6 s)
    start = int(now) - SPAN + 3600
    chunks = list(_chunks(Walks(2), [start + round(k * 3.6) for k in range(1000)], 1))
    best = {}
    for views in (True, False):
        times = []
        for attempt in range(3):
            store = MetricStore(engine, f"scratch_{int(views)}_{attempt}")
            await store.ensure_schema()
            if not views:
                for _, view, _, _ in ROLLUPS.values():
                    await engine.execute(f"DROP TABLE {store.database}.{view}")
            t0 = time.perf_counter()
            for chunk in chunks:
                await store.insert(chunk, now, wal_id=1)
            times.append(time.perf_counter() - t0)
            await engine.execute(f"DROP DATABASE {store.database}")
        best[views] = min(times)
    print(f"one million datapoints: {best[True]:.2f} s with the rollup views, {best[False]:.2f} s without",
          flush=True)
    return best[True] - best[False]


async def report_columns(engine: AsyncEngine, db: str) -> None:
    """Bytes on disk per row of each column of raw, compressed and not.

    Small parts of modern engines are "compact" (one file for every column), which report no
    size per column: raw's rows are copied into a scratch table of wide parts to be measured,
    made with this release's DDL (so a store loaded by an earlier release is measured as this
    one would write it; the total is printed too). 18.16 writes wide parts only, and reports
    them in ``system.columns``.
    """
    (rows,), = await engine.execute(
        "SELECT sum(rows) FROM system.parts WHERE database = %(db)s AND table = 'raw' AND active", {"db": db})
    print(f"  raw columns, bytes per row compressed (uncompressed), {rows:,} rows:", flush=True)
    if (await engine.dialect()).modern:
        await engine.execute(f"DROP TABLE IF EXISTS {db}.raw_wide")
        ddl = raw_ddl(db, await engine.dialect()).replace(f"{db}.raw ", f"{db}.raw_wide ")
        await engine.execute(f"{ddl} SETTINGS min_bytes_for_wide_part = 0")
        await engine.execute(f"INSERT INTO {db}.raw_wide SELECT * FROM {db}.raw")
        await engine.execute(f"OPTIMIZE TABLE {db}.raw_wide FINAL")
        (total,), = await engine.execute("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = %(db)s"
                                         " AND table = 'raw_wide' AND active", {"db": db})
        print(f"    as this release writes it (wide parts): {total / max(rows, 1):.2f} bytes per raw datapoint",
              flush=True)
        sizes = await engine.execute(
            "SELECT column, any(type), sum(column_data_compressed_bytes), sum(column_data_uncompressed_bytes)"
            " FROM system.parts_columns WHERE database = %(db)s AND table = 'raw_wide' AND active GROUP BY column"
            " ORDER BY column", {"db": db})
        await engine.execute(f"DROP TABLE {db}.raw_wide")
    else:
        sizes = await engine.execute(
            "SELECT name, type, data_compressed_bytes, data_uncompressed_bytes FROM system.columns"
            " WHERE database = %(db)s AND table = 'raw' ORDER BY name", {"db": db})
    for name, kind, packed, plain in sizes:
        print(f"    {name:12} {kind:28} {packed / max(rows, 1):6.3f} ({plain / max(rows, 1):6.2f})", flush=True)


def load(data_dir: Path, datapoints: int, url: str | None = None) -> None:
    """15 months of datapoints for 1,000 metrics, rolled up as inserted, then expired and merged."""
    per_metric = datapoints // METRICS
    now = time.time()
    step = max(SPAN // per_metric, 1)  # whole seconds, regular

    async def run() -> None:
        engine = AsyncEngine(open_engine(url or f"chdb://{(data_dir / 'store').resolve()}"))
        cost = await _rollup_cost(engine, now)
        print(f"rollup cost: {cost:.2f} s per million datapoints", flush=True)
        store = MetricStore(engine)
        await store.ensure_schema()
        t0, done = time.perf_counter(), 0
        base = int(now) // 60 * 60 - per_metric * step
        for i, chunk in enumerate(_chunks(Walks(), [base + k * step for k in range(per_metric)], 1)):
            await store.insert(chunk, now, wal_id=1)
            done += CHUNK
            if i % 100 == 99:
                print(f"  {done:,} loaded, {done / (time.perf_counter() - t0):,.0f}/s", flush=True)
        took = time.perf_counter() - t0
        print(f"loaded {done:,} datapoints for {METRICS} metrics over 455 days in {took:.0f} s"
              f" ({done / took:,.0f}/s, rollups included)", flush=True)
        t0 = time.perf_counter()
        dropped = await store.expire(now, CLOUDWATCH)
        print(f"retention job: {len(dropped)} partitions dropped in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        for table in ("raw", *(t for t, _, _, _ in ROLLUPS.values())):
            await engine.execute(f"OPTIMIZE TABLE {store.database}.{table} FINAL")
        print(f"merged in {time.perf_counter() - t0:.0f} s", flush=True)
        for table, rows_, bytes_, parts in await engine.execute(
                "SELECT table, sum(rows), sum(bytes_on_disk), count() FROM system.parts"
                " WHERE database = %(db)s AND active GROUP BY table ORDER BY table", {"db": store.database}):
            what = "raw datapoint" if table == "raw" else "rolled-up row" if table != "catalog" else "catalog row"
            print(f"  {table}: {rows_:,} rows, {bytes_:,} bytes in {parts} parts: {bytes_ / max(rows_, 1):.2f} bytes"
                  f" per {what}", flush=True)
        await report_columns(engine, store.database)
        engine.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run())


def queries(t: Target, calls: int) -> None:
    cw = boto3.client("cloudwatch", endpoint_url=t.endpoint, region_name="us-east-1", aws_access_key_id=t.access_key,
                      aws_secret_access_key=t.secret_key, config=Config(retries={"max_attempts": 1}))
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)

    def metric(m: int) -> dict:
        return {"Namespace": NS, "MetricName": KINDS[m % 3][0],
                "Dimensions": [{"Name": "Host", "Value": f"h{m}"}, {"Name": "Service", "Value": f"s{m % 10}"}]}

    def ten(period: int) -> list[dict]:
        return [{"Id": f"m{i}", "MetricStat": {"Metric": metric(i), "Period": period, "Stat": "Average"}}
                for i in range(10)]

    for label, qs, start, end in (
            ("GetMetricData, 10 metrics, 1 day at 60 s (raw)", ten(60), hour - dt.timedelta(days=1), hour),
            ("GetMetricData, 10 metrics, 2 weeks at 1 h (hourly rollup)", ten(3600), hour - dt.timedelta(days=14),
             hour),
            ("GetMetricData, 10 metrics, 15 months at 1 day (hourly rollup)", ten(86400),
             day - dt.timedelta(days=454), day)):
        def gmd(qs: list[dict] = qs, start: dt.datetime = start, end: dt.datetime = end) -> str:
            points = 0
            for page in cw.get_paginator("get_metric_data").paginate(MetricDataQueries=qs, StartTime=start,
                                                                     EndTime=end):
                points += sum(len(r["Values"]) for r in page["MetricDataResults"])
            return f"{points} datapoints"
        raw = capture(t, "json", [("get_metric_data", {"MetricDataQueries": qs, "StartTime": start, "EndTime": end})],
                      Path(tempfile.mkdtemp()))[0]
        timed(label, gmd, calls, raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datapoints", type=int, default=100_000_000)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, help="data directory to load into and keep; when it already"
                        " holds a store, the load is skipped and only the queries run against it")
    parser.add_argument("--load-only", action="store_true", help="load (into --data-dir), run no queries")
    parser.add_argument("--server", action="store_true", help="load into a scratch ClickHouse 18.16 server"
                        " instead (figures of the load and bytes on disk only)")
    args = parser.parse_args()
    if args.server:
        with tempfile.TemporaryDirectory(prefix="sw-retention-") as tmp, ClickHouseServer(Path(tmp)) as ch:
            load(Path(tmp) / "data", args.datapoints, ch.url)
        return

    def prepare(d: Path) -> None:
        if (d / "store").exists():
            print(f"{d} already holds a store: queries only", flush=True)
        else:
            load(d, args.datapoints)

    if args.load_only:
        prepare(args.data_dir or Path(tempfile.mkdtemp(prefix="sw-retention-")) / "data")
        return
    with stackwatch_up(prepare=prepare, data_dir=args.data_dir) as t:
        queries(t, args.calls)


if __name__ == "__main__":
    main()
