"""GetMetricData latency: 500 MetricStat queries over a day of 1-minute data, on chDB (and the server).

For each engine: inserts 500 series x 1,440 minutes (720,000 Value datums, one per minute), then
times, median of ``--repeats`` runs:

* ``MetricStore.series_buckets`` for the 500 series in one query (basic statistics only, and with
  histograms, as a percentile query needs);
* the whole domain path of one page (plan, one store query, statistics per bucket, metric math
  evaluate, first page of 100,800 datapoints) for ``Average`` and for ``p99``.

    .venv/bin/python bench/gmd_bench.py --repeats 5 [--server]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.ingest.domain import (  # noqa: E402
    DataQuery,
    MetricDataRequest,
    MetricStatQuery,
    evaluate_results,
    fetches,
    metric_series,
    page,
    plan_metric_data,
)
from services.ingest.store import MetricStore  # noqa: E402
from stackwatch.domain.metrics import Datum, DatumBatch, Dimension, StatisticSet, series_id  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402
from stackwatch.store.testing import ClickHouseServer  # noqa: E402

ACCOUNT = "b0000000-0000-4000-8000-000000000001"
SERIES = 500
MINUTES = 1440


async def load(store: MetricStore, end: int) -> None:
    start = end - MINUTES * 60
    for m0 in range(0, MINUTES, 100):
        datums = [Datum("Bench/App", "Latency", (Dimension("Host", f"h{h:03d}"),), start + m * 60 + 1,
                        StatisticSet(1.0, float(h + m), float(h + m), float(h + m)), (float(h + m),), (1.0,), "None",
                        60) for m in range(m0, min(m0 + 100, MINUTES)) for h in range(SERIES)]
        await store.insert([(ACCOUNT, DatumBatch.from_datums("Bench/App", datums))], now=end)


def request(stat: str, end: int) -> MetricDataRequest:
    return MetricDataRequest(tuple(
        DataQuery(f"m{h}", MetricStatQuery("Bench/App", "Latency", (("Host", f"h{h:03d}"),), 60, stat))
        for h in range(SERIES)), end - MINUTES * 60, end)


async def one_page(store: MetricStore, stat: str, end: int) -> int:
    plan = plan_metric_data(request(stat, end), end)
    wanted = fetches(plan.stats, ACCOUNT)
    answers = await asyncio.gather(*[store.series_buckets(ACCOUNT, f.series, f.start, f.end, f.period, f.unit,
                                                          histograms=f.histograms) for f in wanted])
    series = metric_series(plan.stats, ACCOUNT, dict(zip(wanted, answers, strict=True)))
    results, _ = page(evaluate_results(plan, series, {}, [], end), plan.scan_by, 0, plan.page_size)
    return sum(len(r.values) for r in results)


async def timed(label: str, repeats: int, call) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = await call()
        times.append(time.perf_counter() - t)
    print(f"  {label:55s} median {statistics.median(times) * 1000:8.0f} ms  (best {min(times) * 1000:.0f} ms)"
          f"  -> {out}")


async def bench(url: str, repeats: int) -> None:
    engine = AsyncEngine(open_engine(url))
    store = MetricStore(engine, "gmd_bench")
    await store.ensure_schema()
    end = int(time.time()) // 60 * 60
    t = time.perf_counter()
    await load(store, end)
    print(f"  loaded {SERIES * MINUTES:,} datums in {time.perf_counter() - t:.1f} s")
    ids = [series_id(ACCOUNT, "Bench/App", "Latency", (Dimension("Host", f"h{h:03d}"),)) for h in range(SERIES)]
    start = end - MINUTES * 60
    for hist in (False, True):
        await timed(f"series_buckets, 500 series, histograms={hist}", repeats, lambda h=hist: _count(
            store.series_buckets(ACCOUNT, ids, start, end, 60, None, histograms=h)))
    for stat in ("Average", "p99"):
        await timed(f"first page (100,800 datapoints), Stat={stat}", repeats, lambda s=stat: one_page(store, s, end))


async def _count(call) -> int:  # type: ignore[no-untyped-def]
    return sum(len(v) for v in (await call).values())


def main() -> None:
    """Run the benchmark on chDB, and on a private clickhouse-server with ``--server``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--server", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("chDB")
        asyncio.run(bench(f"chdb://{tmp}/chdb", args.repeats))
        if args.server:
            server = ClickHouseServer(Path(tmp) / "server")
            server.start()
            try:
                print("clickhouse-server")
                asyncio.run(bench(server.url, args.repeats))
            finally:
                server.stop()


if __name__ == "__main__":
    main()
