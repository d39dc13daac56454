"""The dashboards table of the alarm service's database, and every statement on it.

::

    dashboards   one row per PutDashboard / DeleteDashboards /   ReplacingMergeTree(version)
                 tag change (account, name, version, deleted,    ORDER BY (account, name)
                 arn, body, size, modified_ms, tags)

The alarm service owns CloudWatch's ARN-bearing resources and their tags, so dashboards live in
its database beside the alarms, with the same row discipline as :mod:`services.alarm.store`: every
write is a new row with a version from :class:`~stackwatch.store.RowVersions`, reads take the
latest with ``argMax(column, version) ... GROUP BY`` (right before and after ReplacingMergeTree
merges, on 18.16 as on current releases), and a deletion is a row with ``deleted = 1``.

The body is kept exactly as sent. ``size`` (its UTF-8 bytes, ListDashboards' ``Size``) is a column
of its own so a listing never reads bodies; ``tags`` is a JSON list of ``[key, value]`` pairs in the
order they were added. A tag change writes the row again with the same body and ``modified_ms``:
LastModified moves only when the body does.

Every statement filters on the account first (it leads the sort key) and every value is a quoted
parameter: one tenant's request never reads or writes another's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from stackwatch.store import AsyncEngine, RowVersions, Schema, Step, identifier

COLUMNS = ("account", "name", "version", "deleted", "arn", "body", "size", "modified_ms", "tags")


def ddl(db: str) -> str:
    """The ``CREATE TABLE`` statement (the same on every engine version)."""
    return f"""
CREATE TABLE IF NOT EXISTS {db}.dashboards (
    account String, name String, version UInt64, deleted UInt8, arn String, body String,
    size UInt64, modified_ms UInt64, tags String
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)"""


@dataclass(frozen=True, slots=True)
class DashboardEntry:
    """A dashboard as ListDashboards shows it (no body).

    Attributes:
        name: ``DashboardName``.
        arn: ``DashboardArn``.
        modified_ms: ``LastModified``, epoch milliseconds.
        size: ``Size``, the body's bytes.
    """

    name: str
    arn: str
    modified_ms: int
    size: int


@dataclass(frozen=True, slots=True)
class StoredDashboard:
    """A dashboard with its body and tags."""

    name: str
    arn: str
    body: str
    modified_ms: int
    tags: tuple[tuple[str, str], ...]


class DashboardStore:
    """Dashboards of every account, in the alarm service's database.

    Args:
        engine: the store engine.
        database: the database (the alarm store's).
    """

    def __init__(self, engine: AsyncEngine, database: str = "stackwatch_alarms") -> None:
        self._engine = engine
        self._db = identifier(database)
        self._versions = RowVersions()

    async def ensure_schema(self) -> None:
        """Create the table if missing (idempotent); versions start above the stored ones."""
        async def tables(schema: Schema) -> None:
            await schema.create_table(ddl(self._db))

        await Schema(self._engine, self._db).migrate("dashboards", [Step(1, "dashboards", tables)])
        [(newest,)] = await self._engine.execute(f"SELECT max(version) FROM {self._db}.dashboards")
        self._versions.at_least(int(newest))

    async def put(self, account: str, name: str, arn: str, body: str, modified_ms: int,
                  tags: Sequence[tuple[str, str]], now: float) -> None:
        """Write (or replace) a dashboard with these tags."""
        await self._engine.insert(f"{self._db}.dashboards", COLUMNS, {
            "account": [account], "name": [name], "version": [self._versions.next(now)], "deleted": [0],
            "arn": [arn], "body": [body], "size": [len(body.encode("utf-8"))], "modified_ms": [modified_ms],
            "tags": [orjson.dumps([list(t) for t in tags]).decode()]})

    async def delete(self, account: str, names: Sequence[str], now: float) -> None:
        """Mark the named dashboards of ``account`` deleted, in one INSERT."""
        if not names:
            return
        n = len(names)
        await self._engine.insert(f"{self._db}.dashboards", COLUMNS, {
            "account": [account] * n, "name": list(names), "version": [self._versions.next(now) for _ in names],
            "deleted": [1] * n, "arn": [""] * n, "body": [""] * n, "size": [0] * n, "modified_ms": [0] * n,
            "tags": ["[]"] * n})

    async def get(self, account: str, names: Sequence[str]) -> dict[str, StoredDashboard]:
        """The named dashboards ``account`` has (names it lacks are absent from the answer)."""
        if not names:
            return {}
        rows = await self._engine.execute(
            "SELECT name, argMax(arn, version), argMax(body, version), argMax(modified_ms, version),"
            " argMax(tags, version), argMax(deleted, version) AS gone"
            f" FROM {self._db}.dashboards WHERE account = %(account)s AND has(%(names)s, name)"
            " GROUP BY name HAVING gone = 0", {"account": account, "names": list(set(names))})
        return {str(n): StoredDashboard(str(n), str(arn), str(body), int(ms),
                                        tuple((str(k), str(v)) for k, v in orjson.loads(tags)))
                for n, arn, body, ms, tags, _ in rows}

    async def entries(self, account: str, *, prefix: str = "", after: str | None = None,
                   limit: int = 1000) -> list[DashboardEntry]:
        """Up to ``limit`` of the account's dashboards by name, those after ``after``, starting with ``prefix``."""
        where = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account, "limit": limit}
        if prefix:
            where.append("substring(name, 1, length(%(prefix)s)) = %(prefix)s")
            params["prefix"] = prefix
        if after is not None:
            where.append("name > %(after)s")
            params["after"] = after
        rows = await self._engine.execute(
            "SELECT name, argMax(arn, version), argMax(modified_ms, version), argMax(size, version),"
            f" argMax(deleted, version) AS gone FROM {self._db}.dashboards WHERE {' AND '.join(where)}"
            " GROUP BY name HAVING gone = 0 ORDER BY name LIMIT %(limit)s", params)
        return [DashboardEntry(str(n), str(arn), int(ms), int(size)) for n, arn, ms, size, _ in rows]
