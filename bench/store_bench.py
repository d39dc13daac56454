"""Store throughput and latency on the ClickHouse server (18.16, clickhouse-driver) and on chDB.

Starts a private ``clickhouse-server`` on a free port (temporary directory) and a chDB store in
another temporary directory, then for each engine:

* ``MetricStore.insert`` of 1,000 and 100,000 datums per call (the group-commit unit: column
  building, one catalog INSERT and one raw INSERT), reported as datums/s, best and median of
  ``--repeats`` calls, and the time per call;
* the latency (median and p90 of ``--queries`` calls) of ``statistics`` and ``histograms`` over
  one day of 1-minute data for one series (1,440 buckets), and of a 500-row ``list_metrics`` page
  over 5,000 metrics;
* with ``--paths``, the raw insert paths considered for each engine, on the same 100k rows, so
  the choice in ``stackwatch/store`` can be re-checked on new versions.

Data: Value datums, 20 metric names x 50 hosts, two dimensions each, timestamps spread over an hour.

    .venv/bin/python bench/store_bench.py --repeats 5 --paths
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.ingest.store import RAW_COLUMNS, MetricStore, build_columns  # noqa: E402
from stackwatch.domain.metrics import Datum, DatumBatch, Dimension, StatisticSet, series_id  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402
from stackwatch.store.testing import ClickHouseServer  # noqa: E402

ACCOUNT = "b0000000-0000-4000-8000-000000000001"
T0 = 1_800_000_000


def make_batch(n: int, seed: int, t0: int = T0) -> list[tuple[str, DatumBatch]]:
    """``n`` Value datums over 1,000 series, timestamps within an hour after ``t0``.

    As the group committer hands them over: one :class:`DatumBatch` per 1,000-datum request.
    """
    rng = random.Random(seed)
    dims = [(Dimension("Host", f"host-{h:03d}"), Dimension("Service", "api")) for h in range(50)]
    out = []
    for i in range(n):
        v = rng.random() * 100
        t = t0 + rng.random() * 3600
        out.append((ACCOUNT, Datum("Bench/App", f"Metric{i % 20}", dims[(i // 20) % 50], t,
                                   StatisticSet(1.0, v, v, v), (v,), (1.0,), "Milliseconds", 60)))
    return [(ACCOUNT, DatumBatch.from_datums("Bench/App", [d for _, d in out[i:i + 1000]]))
            for i in range(0, n, 1000)]


def rate(label: str, n: int, times: Sequence[float]) -> str:
    """A line with rows/s (best and median) and the median time per call."""
    best, med = min(times), statistics.median(times)
    return f"  {label:<34} {n / best:>10,.0f}/s best {n / med:>10,.0f}/s median   {med * 1000:8.1f} ms/call"


def latency(label: str, times: Sequence[float]) -> str:
    """A line with the median and p90 latency."""
    qs = sorted(times)
    p90 = qs[min(len(qs) - 1, int(len(qs) * 0.9))]
    return f"  {label:<34} {statistics.median(qs) * 1000:8.2f} ms median {p90 * 1000:8.2f} ms p90"


async def bench_store(url: str, repeats: int, queries: int) -> None:
    """MetricStore insert rates and query latencies on one engine."""
    engine = AsyncEngine(open_engine(url), threads=4)
    store = MetricStore(engine, "bench_store")
    await engine.execute("DROP DATABASE IF EXISTS bench_store")
    await store.ensure_schema()
    print(f"{url}  (version {'.'.join(map(str, await engine.version()))})")
    for n in (1_000, 100_000):
        batches = [make_batch(n, seed=r) for r in range(repeats + 1)]
        await store.insert(batches[0], now=T0)  # warm-up
        times = []
        for b in batches[1:]:
            t = time.perf_counter()
            await store.insert(b, now=T0)
            times.append(time.perf_counter() - t)
        print(rate(f"insert {n:,} datums/call", n, times))

    # one day of 1-minute data for one series, and 5,000 metrics in the catalog
    dims = (Dimension("Host", "day"), Dimension("Service", "api"))
    day = [(ACCOUNT, Datum("Bench/App", "Day", dims, T0 + 60 * i + 5, StatisticSet(1.0, v, v, v), (v,),
                           (1.0,), "Milliseconds", 60))
           for v, i in ((float(i), i) for i in range(1440))]
    one = StatisticSet(1.0, 1.0, 1.0, 1.0)
    catalog = [(ACCOUNT, Datum("Bench/Catalog", f"M{i % 10}", (Dimension("Id", f"{i:05d}"),), T0,
                               one, (1.0,), (1.0,), "None", 60)) for i in range(5000)]
    await store.insert(day + catalog, now=T0)
    sid = series_id(ACCOUNT, "Bench/App", "Day", dims)
    calls: dict[str, Callable[[], Any]] = {
        "statistics 1 day / 60 s": lambda: store.statistics(ACCOUNT, sid, T0, T0 + 86400, 60, None),
        "histograms 1 day / 60 s": lambda: store.histograms(ACCOUNT, sid, T0, T0 + 86400, 60, None),
        "list_metrics page of 500 (of 5,000)": lambda: store.list_metrics(
            ACCOUNT, namespace="Bench/Catalog", active_since=T0 - 1, limit=501),
    }
    for label, call in calls.items():
        await call()
        times = []
        for _ in range(queries):
            t = time.perf_counter()
            await call()
            times.append(time.perf_counter() - t)
        print(latency(label, times))
    await engine.execute("DROP DATABASE IF EXISTS bench_store")
    engine.close()


def _raw_columns(n: int) -> dict[str, list[Any]]:
    return build_columns(make_batch(n, seed=99))[0]


def compare_server_paths(url: str, repeats: int) -> None:
    """Compare the clickhouse-driver insert forms on the raw table, build time excluded."""
    import numpy as np
    from clickhouse_driver import Client

    from stackwatch.store._server import _parse

    kwargs = _parse(url)[0]
    client = Client(**kwargs)
    cols = _raw_columns(100_000)
    names = ", ".join(RAW_COLUMNS)
    sql = f"INSERT INTO bench_paths.raw ({names}) VALUES"
    rows = list(zip(*(cols[c] for c in RAW_COLUMNS), strict=True))

    np_client = Client(**kwargs, settings={"use_numpy": True})
    np_types: dict[str, Any] = {"series": np.uint64, "resolution": np.uint8, "ts": "datetime64[s]",
                                "ts_ms": np.uint16, "count": np.float64, "sum": np.float64, "min": np.float64,
                                "max": np.float64}

    def np_cols() -> list[Any]:
        out: list[Any] = []
        for c in RAW_COLUMNS:
            v = cols[c]
            if c in np_types:
                out.append(np.array(v, dtype=np_types[c]))
            elif isinstance(v[0], list | tuple):
                out.append(v)  # arrays: the numpy writer has no form for them
            else:
                out.append(np.array(v, dtype=object))
        return out

    paths: dict[str, Callable[[], None]] = {
        "columnar Python lists (chosen)": lambda: client.execute(sql, [cols[c] for c in RAW_COLUMNS],
                                                                 columnar=True),
        "row tuples": lambda: client.execute(sql, rows),
        "use_numpy columnar": lambda: np_client.execute(sql, np_cols(), columnar=True),
    }
    _run_paths(paths, 100_000, repeats, lambda q: client.execute(q), "server")
    client.disconnect()
    np_client.disconnect()


def compare_chdb_paths(url: str, repeats: int) -> None:
    """Compare chDB insert forms on the raw table, each including its own conversion from Python columns."""
    import orjson
    import pyarrow as pa

    from stackwatch.store._chdb import ChdbEngine, arrow_type

    engine = open_engine(url)
    assert isinstance(engine, ChdbEngine)
    cols = _raw_columns(100_000)
    names = ", ".join(RAW_COLUMNS)

    def arrow() -> None:
        engine.insert("bench_paths.raw", RAW_COLUMNS, cols)

    def arrow_flat_lists() -> None:
        types = engine._column_types("bench_paths.raw")
        arrays = []
        for c in RAW_COLUMNS:
            t = arrow_type(types[c])
            if t is not None and pa.types.is_list(t):
                offsets, flat = [0], []
                for v in cols[c]:
                    flat.extend(v)
                    offsets.append(len(flat))
                arrays.append(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                                       pa.array(flat, t.value_type)))
            else:
                arrays.append(pa.array(cols[c], t))
        bench_tbl = pa.Table.from_arrays(arrays, names=list(RAW_COLUMNS))  # noqa: F841 - read by Python()
        engine._run(f"INSERT INTO bench_paths.raw ({names}) SELECT * FROM Python(bench_tbl)", "CSV")

    def json_each_row() -> None:
        body = b"\n".join(orjson.dumps(dict(zip(RAW_COLUMNS, r, strict=True)))
                          for r in zip(*(cols[c] for c in RAW_COLUMNS), strict=True))
        assert engine._embedded is not None
        with engine._embedded.connection() as conn:
            ins = conn.send_insert(f"INSERT INTO bench_paths.raw ({names})", "JSONEachRow")
            ins.append(body)
            ins.finish()

    paths: dict[str, Callable[[], None]] = {
        "arrow via Python() (chosen)": arrow,
        "arrow, lists from flat+offsets": arrow_flat_lists,
        "JSONEachRow via send_insert": json_each_row,
    }
    _run_paths(paths, 100_000, repeats, lambda q: engine.execute(q), "chdb")
    engine.close()


def _run_paths(paths: dict[str, Callable[[], None]], n: int, repeats: int, run: Callable[[str], Any],
               engine: str) -> None:
    from services.ingest.store import raw_ddl
    from stackwatch.store._dialect import Dialect

    version = run("SELECT version()")[0][0]
    run("DROP DATABASE IF EXISTS bench_paths")
    run("CREATE DATABASE bench_paths")
    run(raw_ddl("bench_paths", Dialect.for_version(tuple(int(p) for p in str(version).split(".")[:3]))))
    print(f"raw insert paths on {engine} ({n:,} rows, from ready Python columns)")
    for label, insert in paths.items():
        times = []
        try:
            for _ in range(repeats):
                t = time.perf_counter()
                insert()
                times.append(time.perf_counter() - t)
        except Exception as e:  # noqa: BLE001 - a path that fails is a finding, not a crash
            print(f"  {label:<34} FAILS: {type(e).__name__}: {str(e).splitlines()[0][:100]}")
            continue
        print(rate(label, n, times))
    expected = n * sum(1 for _ in paths) * repeats
    got = run("SELECT count() FROM bench_paths.raw")[0][0]
    print(f"  rows stored {got:,} (at most {expected:,})")
    run("DROP DATABASE IF EXISTS bench_paths")


def main() -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--paths", action="store_true", help="also compare the raw insert paths")
    parser.add_argument("--engines", default="server,chdb")
    args = parser.parse_args()
    logging.getLogger("clickhouse_driver").setLevel(logging.ERROR)
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "server" in engines:
            with ClickHouseServer(Path(tmp) / "ch") as ch:
                asyncio.run(bench_store(ch.url, args.repeats, args.queries))
                if args.paths:
                    compare_server_paths(ch.url, args.repeats)
        if "chdb" in engines:
            url = f"chdb://{Path(tmp) / 'chdb'}"
            asyncio.run(bench_store(url, args.repeats, args.queries))
            if args.paths:
                compare_chdb_paths(url, args.repeats)


if __name__ == "__main__":
    main()
