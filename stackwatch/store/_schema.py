"""Schema: a service's tables in the layout its engine has, and its versioned migrations.

A service writes its DDL once, for one server::

    CREATE TABLE IF NOT EXISTS db.t (...) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)

and :class:`Schema` runs it as written on one server or chDB, and on a cluster
(:class:`~stackwatch.store.ClusterEngine`) as two statements, both ``ON CLUSTER``::

    CREATE TABLE IF NOT EXISTS db.t_local ON CLUSTER c (...)
        ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t_local', '{replica}', version) ...
    CREATE TABLE IF NOT EXISTS db.t ON CLUSTER c AS db.t_local ENGINE = Distributed(c, db, t_local)

so every query that names ``db.t`` reads the whole cluster. What physically holds rows (a
materialized view's target and source, a partition to drop) is :meth:`Schema.local`.

Migrations. :meth:`Schema.migrate` runs a store's :class:`Step` list at start: each step has a
version, and ``db.schema_migrations`` records the versions applied, per scope (several stores may
share a database: the alarm service's alarms, topics, dashboards and members). A step runs when its version
is not recorded, then is recorded. Steps must be idempotent (``IF NOT EXISTS``, checks before an
``ALTER``): two replicas of a service may start at once, and an ``ON CLUSTER`` statement that a
down host has not run yet is run by that host when it returns.

On a cluster, a ``CREATE ... IF NOT EXISTS`` is not sent when every server that is up already has
the database or table: with a server down, each ``ON CLUSTER`` statement waits ``ddl_timeout``
for it, and every start runs the bootstrap (database and ``schema_migrations``) of every scope, so
a service restarted while one server was down took a minute here (17 statements of 3 s), and
eight and a half with the default timeout of 30 s. The down server created the objects from the
statement that created them elsewhere, queued for it in ZooKeeper.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from stackwatch.store._async import AsyncEngine
from stackwatch.store._dialect import Dialect
from stackwatch.store._sql import identifier

LOG = logging.getLogger(__name__)

_CREATE = re.compile(
    r"^\s*CREATE TABLE IF NOT EXISTS (?P<db>\w+)\.(?P<table>\w+)\s*\((?P<columns>.*)\)\s*"
    r"ENGINE\s*=\s*(?P<kind>\w*)MergeTree(?:\((?P<args>[^)]*)\))?(?P<rest>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Step:
    """One migration: ``run(schema)`` brings the database from ``version - 1`` to ``version``."""

    version: int
    name: str
    run: Callable[[Schema], Awaitable[None]]


class Schema:
    """DDL for one database, as one server's or as a cluster's (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, database: str) -> None:
        self.engine = engine
        self.db = identifier(database)
        self.cluster: str | None = getattr(getattr(engine, "engine", None), "cluster", None)

    def local(self, table: str) -> str:
        """The qualified name of the table that holds ``table``'s rows on this server."""
        return f"{self.db}.{table}_local" if self.cluster else f"{self.db}.{table}"

    async def dialect(self) -> Dialect:
        """The engine's DDL dialect."""
        return await self.engine.dialect()

    async def _ddl(self, sql: str) -> None:
        if self.cluster:
            await self.engine.run_sync(self.engine.engine.ddl, sql)  # type: ignore[attr-defined]
        else:
            await self.engine.execute(sql)

    async def _everywhere(self, sql: str, expected: int) -> bool:
        """Whether every server of the cluster that is up answers ``sql`` (a count) with ``expected``."""
        answers = await self.engine.run_sync(self.engine.engine.on_each_server, sql)  # type: ignore[attr-defined]
        up = [rows for rows in answers if rows is not None]
        return bool(up) and all(int(rows[0][0]) == expected for rows in up)

    async def create_database(self) -> None:
        """``CREATE DATABASE IF NOT EXISTS`` (on every host of a cluster)."""
        if self.cluster and await self._everywhere(
                f"SELECT count() FROM system.databases WHERE name = '{self.db}'", 1):
            return
        on = f" ON CLUSTER {self.cluster}" if self.cluster else ""
        await self._ddl(f"CREATE DATABASE IF NOT EXISTS {self.db}{on}")

    async def create_table(self, ddl: str) -> None:
        """Run a ``CREATE TABLE IF NOT EXISTS db.t (...) ENGINE = *MergeTree...`` in this layout."""
        if not self.cluster:
            await self.engine.execute(ddl)
            return
        m = _CREATE.match(ddl)
        if m is None or m["db"] != self.db:
            raise ValueError(f"not a CREATE TABLE IF NOT EXISTS {self.db}.t (...) ENGINE = ...MergeTree: {ddl[:80]!r}")
        table, c = m["table"], self.cluster
        if await self._everywhere(f"SELECT count() FROM system.tables WHERE database = '{self.db}'"
                                  f" AND name IN ('{table}', '{table}_local')", 2):
            return
        path = f"'/clickhouse/tables/{{shard}}/{self.db}/{table}_local', '{{replica}}'"
        args = f"{path}, {m['args']}" if m["args"] and m["args"].strip() else path
        await self._ddl(f"CREATE TABLE IF NOT EXISTS {self.db}.{table}_local ON CLUSTER {c} ({m['columns']})"
                        f" ENGINE = Replicated{m['kind']}MergeTree({args}){m['rest']}")
        await self._ddl(f"CREATE TABLE IF NOT EXISTS {self.db}.{table} ON CLUSTER {c} AS {self.db}.{table}_local"
                        f" ENGINE = Distributed({c}, {self.db}, {table}_local)")

    async def create_view(self, name: str, target: str, select: str) -> None:
        """A materialized view ``name`` feeding table ``target`` with ``select``.

        ``select`` reads :meth:`local` tables: on a cluster each server's view sees the rows
        inserted into that server and writes its own shard's target, which replicates like
        any other insert.
        """
        on = f" ON CLUSTER {self.cluster}" if self.cluster else ""
        await self._ddl(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self.db}.{identifier(name)}{on}"
                        f" TO {self.local(target)} AS {select}")

    async def alter(self, table: str, clause: str, *, front: bool = True) -> None:
        """``ALTER TABLE table clause`` on the rows' table, and (``front``) on the Distributed one too."""
        if not self.cluster:
            await self.engine.execute(f"ALTER TABLE {self.db}.{table} {clause}")
            return
        await self._ddl(f"ALTER TABLE {self.local(table)} ON CLUSTER {self.cluster} {clause}")
        if front:
            await self._ddl(f"ALTER TABLE {self.db}.{table} ON CLUSTER {self.cluster} {clause}")

    async def drop(self, table: str) -> None:
        """``DROP TABLE IF EXISTS`` (the local and the Distributed table on a cluster)."""
        if not self.cluster:
            await self.engine.execute(f"DROP TABLE IF EXISTS {self.db}.{table}")
            return
        await self._ddl(f"DROP TABLE IF EXISTS {self.db}.{table} ON CLUSTER {self.cluster}")
        await self._ddl(f"DROP TABLE IF EXISTS {self.local(table)} ON CLUSTER {self.cluster}")

    async def tables(self) -> set[str]:
        """The names of this database's tables and views on the server answering (without ``_local``)."""
        rows = await self.engine.execute("SELECT name FROM system.tables WHERE database = %(db)s", {"db": self.db})
        names = {str(n) for (n,) in rows}
        if self.cluster:
            names = {n for n in names if not n.endswith("_local")}
        return names

    async def columns(self, table: str) -> set[str]:
        """The column names of ``table`` on the server answering."""
        rows = await self.engine.execute("SELECT name FROM system.columns WHERE database = %(db)s AND table = %(t)s",
                                         {"db": self.db, "t": self.local(table).split(".", 1)[1]})
        return {str(n) for (n,) in rows}

    async def migrate(self, scope: str, steps: Sequence[Step]) -> list[int]:
        """Create the database and run ``scope``'s steps not applied yet, in version order; the versions run."""
        versions = [s.version for s in steps]
        if len(set(versions)) != len(versions) or versions != sorted(versions):
            raise ValueError(f"migration versions must be unique and ascending: {versions}")
        await self.create_database()
        await self.create_table(f"CREATE TABLE IF NOT EXISTS {self.db}.schema_migrations"
                                " (scope String, version UInt32, name String, applied DateTime('UTC'))"
                                " ENGINE = MergeTree ORDER BY (scope, version)")
        done = {int(v) for (v,) in await self.engine.execute(
            f"SELECT DISTINCT version FROM {self.db}.schema_migrations WHERE scope = %(scope)s"
            " SETTINGS skip_unavailable_shards = 1", {"scope": scope})}  # a cluster: every shard has them
        ran = []
        for step in steps:
            if step.version in done:
                continue
            started = time.monotonic()
            await step.run(self)
            await self.engine.insert(f"{self.db}.schema_migrations", ("scope", "version", "name", "applied"),
                                     {"scope": [scope], "version": [step.version], "name": [step.name],
                                      "applied": [int(time.time())]})
            LOG.info("schema %s (%s): migration %d (%s) applied in %.2f s%s", self.db, scope, step.version, step.name,
                     time.monotonic() - started, f" on cluster {self.cluster}" if self.cluster else "")
            ran.append(step.version)
        return ran
