"""Reads on the cluster: through the Distributed table, or straight to the owning shard's local table.

Starts the local 2 x 2 cluster, loads ``--accounts`` accounts of 10 metrics with a day of
one-minute data each through :class:`MetricStore` (so the layout is the one the services create),
then times one account's one-day GetMetricData-shaped query (1,440 one-minute buckets of one
series, the statement ``MetricStore.series_buckets`` runs) ``--calls`` times each way, alternating
the two twice to even out the machine's load:

* ``distributed``: ``FROM db.raw`` on an entry server, which asks both shards and merges;
* ``shard-local``: ``FROM db.raw_local`` on a replica of the shard that holds the account.

    .venv/bin/python bench/cluster_read_paths_bench.py [--accounts 20] [--calls 40]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
from pathlib import Path

from services.ingest.store import MetricStore
from stackwatch.store import AsyncEngine, ClusterEngine, open_engine, shard_of
from stackwatch.store.testing import ClickHouseCluster
from tests.integration.datums import sid, value

T0 = 1_800_000_000
QUERY = ("SELECT %(start)s + intDiv(toUInt32(ts) - %(start)s, 60) * 60 AS b, count(), sum(values[1])"
         " FROM bench.{table} WHERE account = %(a)s AND series = %(s)s"
         " AND ts >= toDateTime(%(start)s, 'UTC') AND ts < toDateTime(%(end)s, 'UTC') GROUP BY b ORDER BY b")


async def main(accounts: int, calls: int) -> None:
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.CRITICAL)  # refusals while servers start
    with tempfile.TemporaryDirectory() as tmp, ClickHouseCluster(Path(tmp)) as cluster:
        engine = AsyncEngine(open_engine(cluster.url()))
        store = MetricStore(engine, "bench")
        await store.ensure_schema()
        rng = random.Random(1)
        names = [f"acct-{i}" for i in range(accounts)]
        started = time.monotonic()
        for a in names:
            rows = [(a, value(T0 + i * 60 + j, rng.random() * 100, d=[("H", str(j))]))
                    for i in range(1440) for j in range(10)]
            for k in range(0, len(rows), 20_000):
                await store.insert(rows[k:k + 20_000], now=T0)  # type: ignore[arg-type]
        print(f"loaded {accounts * 14_400:,} datapoints in {time.monotonic() - started:.1f} s")
        cluster_engine = engine.engine
        assert isinstance(cluster_engine, ClusterEngine)
        account = names[3]
        params = {"start": T0, "end": T0 + 86400, "a": account, "s": sid(account, "App", "Latency", [("H", "1")])}
        local = cluster_engine.shards()[shard_of(account, 2)][0]
        paths = {"distributed": lambda: cluster_engine.execute(QUERY.format(table="raw"), params),
                 "shard-local": lambda: local.execute(QUERY.format(table="raw_local"), params)}
        timings: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(2):
            for name, run in paths.items():
                for _ in range(calls):
                    t = time.perf_counter()
                    assert len(run()) == 1440
                    timings[name].append(time.perf_counter() - t)
        for name, lat in timings.items():
            lat.sort()
            print(f"{name:12s} {len(lat)} calls: p50 {1000 * lat[len(lat) // 2]:.1f} ms,"
                  f" p90 {1000 * lat[int(len(lat) * 0.9)]:.1f} ms, p99 {1000 * lat[int(len(lat) * 0.99)]:.1f} ms")
        engine.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.calls))
