"""The probe schema of the cluster tests: a replicated table per shard and a Distributed table in front."""

from __future__ import annotations

import datetime as dt

from clickhouse_driver import Client  # type: ignore[import-untyped]

from stackwatch.store.testing import ClickHouseCluster

from .conftest import connect

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).replace(tzinfo=None)


def create(cluster: ClickHouseCluster, db: str) -> None:
    """``db.t`` (ReplicatedMergeTree, path by shard) and ``db.t_all`` (Distributed by series), ON CLUSTER."""
    c = connect(cluster.server(1, 1))
    c.execute(f"CREATE TABLE {db}.t ON CLUSTER {cluster.name} (series String, ts DateTime, v Float64) "
              f"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{db}/t', '{{replica}}') "
              f"PARTITION BY toYYYYMMDD(ts) ORDER BY (series, ts)")
    c.execute(f"CREATE TABLE {db}.t_all ON CLUSTER {cluster.name} AS {db}.t "
              f"ENGINE = Distributed({cluster.name}, {db}, t, cityHash64(series))")
    c.disconnect()


def rows(series: str, n: int, start: int = 0) -> list[tuple[str, dt.datetime, float]]:
    """``n`` datapoints of ``series``, one a minute from ``T0`` + ``start`` minutes."""
    return [(series, T0 + dt.timedelta(minutes=start + i), float(start + i)) for i in range(n)]


def insert(client: Client, table: str, data: list[tuple[str, dt.datetime, float]], **settings: object) -> None:
    """Insert ``data`` as one block (the driver's params form: inline VALUES hang on 18.16)."""
    client.execute(f"INSERT INTO {table} (series, ts, v) VALUES", data, settings=settings)


def shard_of(client: Client, series: str, shards: int = 2) -> int:
    """The shard (from 1) that ``cityHash64(series)`` picks, asked of the server, not recomputed."""
    return int(client.execute("SELECT cityHash64(%(s)s) %% %(n)s", {"s": series, "n": shards})[0][0]) + 1


def local_counts(cluster: ClickHouseCluster, db: str) -> dict[tuple[int, int], dict[str, int]]:
    """Per server (shard, replica): row count of each series in its local ``db.t``."""
    out = {}
    for s in range(1, cluster.shards + 1):
        for r in range(1, cluster.replicas + 1):
            c = connect(cluster.server(s, r))
            out[(s, r)] = dict(c.execute(f"SELECT series, count() FROM {db}.t GROUP BY series"))
            c.disconnect()
    return out
