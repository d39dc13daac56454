"""The alarm service's tables and every SQL statement it runs.

alarm owns one database (``stackwatch_alarms`` by default) with four tables::

    alarms    one row per Put*Alarm / DeleteAlarms / tag     ReplacingMergeTree(version)
              change (account, name, version, deleted, arn,  ORDER BY (account, name)
              kind, config)
    states    one row per change of an alarm's state         ReplacingMergeTree(version)
              (account, name, version, value, reason, ...)   ORDER BY (account, name)
    history   one row per history item (append only)         MergeTree
              (account, alarm_name, ts_ms, seq, type, ...)   ORDER BY (account, ts_ms, seq)
    suppressions  a composite's actions suppression          ReplacingMergeTree(version)
              (account, name, version, by, reason)           ORDER BY (account, name)

``kind`` is ``MetricAlarm`` or ``CompositeAlarm`` (a column added to stores made before composite
alarms existed, with that default, by :meth:`AlarmStore.ensure_schema`). Tags live in the
configuration JSON, so TagResource writes a new version of the alarm row with the same
configuration timestamp.

Definitions and states are separate because they change at different rates and for different
reasons: re-putting an alarm replaces its configuration and keeps its state, an evaluation changes
its state and never its configuration. Each row carries a ``version`` (microseconds of the write,
made strictly increasing per process by :class:`~stackwatch.store.RowVersions`); the latest version of a key wins. Reads
take it with ``argMax(column, version) ... GROUP BY``, which is right whether or not
ReplacingMergeTree has merged the older rows yet, on 18.16 as on current releases (``FINAL`` would
do too, at the cost of a merge per read). A deletion is a row with ``deleted = 1``; a re-created
alarm writes a fresh initial state, whose newer version hides the state of the deleted one.

The configuration is one JSON column (:class:`services.alarm.records.AlarmConfig`), so adding a
PutMetricAlarm field needs no migration; ``namespace`` and ``metric`` are columns of their own for
DescribeAlarmsForMetric. Times are ``UInt64`` milliseconds: no DateTime64 on 18.16.

Every query a tenant's request causes filters on the account first (it leads every sort key), and
every value is a quoted parameter. The scheduler's :meth:`AlarmStore.all_alarms` is the one read
across accounts: the service's own work list, never returned to a caller.

History is kept forever for now (CloudWatch keeps two weeks; 18.16 has no TTL: dropping old
partitions is later work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.alarm.domain import AlarmState, HistoryItem, StateRecord
from services.alarm.domain.model import epoch, from_epoch
from stackwatch.store import AsyncEngine, RowVersions, Schema, Step, identifier

ALARM_COLUMNS = ("account", "name", "version", "deleted", "arn", "namespace", "metric", "config", "kind")
SUPPRESSION_COLUMNS = ("account", "name", "version", "by", "reason")
#: ``kind`` of metric alarms (single-metric and metric math) and of composite alarms.
METRIC, COMPOSITE = "MetricAlarm", "CompositeAlarm"
STATE_COLUMNS = ("account", "name", "version", "value", "reason", "reason_data", "has_reason_data",
                 "updated_ms", "transitioned_ms")
HISTORY_COLUMNS = ("account", "alarm_name", "alarm_type", "ts_ms", "seq", "item_type", "summary", "data")


def ddl(db: str) -> list[str]:
    """``CREATE TABLE`` statements of the three tables (the same on every engine version)."""
    return [f"""
CREATE TABLE IF NOT EXISTS {db}.alarms (
    account String, name String, version UInt64, deleted UInt8, arn String,
    namespace String, metric String, config String, kind String DEFAULT 'MetricAlarm'
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)""", f"""
CREATE TABLE IF NOT EXISTS {db}.suppressions (
    account String, name String, version UInt64, by String, reason String
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)""", f"""
CREATE TABLE IF NOT EXISTS {db}.states (
    account String, name String, version UInt64, value String, reason String, reason_data String,
    has_reason_data UInt8, updated_ms UInt64, transitioned_ms UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)""", f"""
CREATE TABLE IF NOT EXISTS {db}.history (
    account String, alarm_name String, alarm_type String, ts_ms UInt64, seq UInt64,
    item_type String, summary String, data String
) ENGINE = MergeTree ORDER BY (account, ts_ms, seq)"""]


def _ms(moment: datetime) -> int:
    return round(epoch(moment) * 1000)


def _from_ms(ms: int) -> datetime:
    return from_epoch(ms / 1000)


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    """An alarm as stored: its definition and its current state.

    Attributes:
        account: the owner's account id.
        name: ``AlarmName``.
        arn: ``AlarmArn``.
        config: the configuration as JSON (:meth:`AlarmConfig.from_json`).
        state: the current state (None only if its first state write was lost).
    """

    account: str
    name: str
    arn: str
    config: str
    state: StateRecord | None
    kind: str = METRIC


@dataclass(frozen=True, slots=True)
class StoredHistoryItem:
    """A history item as stored; ``position`` is its keyset position (ts_ms, seq)."""

    alarm_name: str
    alarm_type: str
    item: HistoryItem
    position: tuple[int, int]


class AlarmStore:
    """Alarm definitions, states and history of every account, in one database.

    Args:
        engine: the store engine.
        database: the database this store owns.
    """

    def __init__(self, engine: AsyncEngine, database: str = "stackwatch_alarms") -> None:
        self._engine = engine
        self._db = identifier(database)
        self._versions = RowVersions()

    @property
    def database(self) -> str:
        """The database this store owns."""
        return self._db

    @property
    def engine(self) -> AsyncEngine:
        """The engine (shared with the notification tables of :mod:`services.alarm.topics`)."""
        return self._engine

    async def ensure_schema(self) -> None:
        """Create the database and tables if missing (idempotent); versions start above the stored ones."""
        await Schema(self._engine, self._db).migrate("alarms", [Step(1, "alarms, suppressions, states, history",
                                                                     self._tables)])
        for table, column in (("alarms", "version"), ("states", "version"), ("history", "seq")):
            [(newest,)] = await self._engine.execute(f"SELECT max({column}) FROM {self._db}.{table}")
            self._versions.at_least(int(newest))

    async def _tables(self, schema: Schema) -> None:
        for statement in ddl(self._db):
            await schema.create_table(statement)
        if "kind" not in await schema.columns("alarms"):  # a table from before composite alarms
            await schema.alter("alarms", "ADD COLUMN kind String DEFAULT 'MetricAlarm'")

    async def put_alarm(self, account: str, name: str, arn: str, namespace: str, metric: str, config: str,
                        now: float, kind: str = METRIC) -> None:
        """Write (or replace) an alarm's definition (``kind``: METRIC or COMPOSITE)."""
        await self._engine.insert(f"{self._db}.alarms", ALARM_COLUMNS, {
            "account": [account], "name": [name], "version": [self._versions.next(now)], "deleted": [0],
            "arn": [arn], "namespace": [namespace], "metric": [metric], "config": [config], "kind": [kind]})

    async def delete_alarms(self, account: str, names: Sequence[str], now: float) -> None:
        """Mark the named alarms of ``account`` deleted (names it does not have are harmless)."""
        if not names:
            return
        n = len(names)
        await self._engine.insert(f"{self._db}.alarms", ALARM_COLUMNS, {
            "account": [account] * n, "name": list(names), "version": [self._versions.next(now) for _ in names],
            "deleted": [1] * n, "arn": [""] * n, "namespace": [""] * n, "metric": [""] * n, "config": [""] * n,
            "kind": [""] * n})

    async def write_state(self, account: str, name: str, state: StateRecord, now: float) -> None:
        """Record ``state`` as the alarm's current state."""
        await self.write_states([(account, name, state)], now)

    async def write_states(self, states: Sequence[tuple[str, str, StateRecord]], now: float) -> None:
        """Record ``(account, name, state)`` as those alarms' current states, in one INSERT."""
        if not states:
            return
        await self._engine.insert(f"{self._db}.states", STATE_COLUMNS, {
            "account": [a for a, _, _ in states], "name": [n for _, n, _ in states],
            "version": [self._versions.next(now) for _ in states],
            "value": [str(s.value) for _, _, s in states], "reason": [s.reason for _, _, s in states],
            "reason_data": [s.reason_data or "" for _, _, s in states],
            "has_reason_data": [int(s.reason_data is not None) for _, _, s in states],
            "updated_ms": [_ms(s.updated) for _, _, s in states],
            "transitioned_ms": [_ms(s.transitioned) for _, _, s in states]})

    async def write_suppression(self, account: str, name: str, by: str, reason: str, now: float) -> None:
        """Record why a composite's actions are suppressed now (``by`` empty: they are not)."""
        await self._engine.insert(f"{self._db}.suppressions", SUPPRESSION_COLUMNS, {
            "account": [account], "name": [name], "version": [self._versions.next(now)], "by": [by],
            "reason": [reason]})

    async def suppressions(self, account: str, names: Sequence[str]) -> dict[str, tuple[str, str]]:
        """``name -> (ActionsSuppressedBy, ActionsSuppressedReason)`` of those suppressed now."""
        if not names:
            return {}
        rows = await self._engine.execute(
            "SELECT name, argMax(by, version) AS b, argMax(reason, version)"
            f" FROM {self._db}.suppressions WHERE account = %(account)s AND has(%(names)s, name)"
            " GROUP BY name", {"account": account, "names": list(names)})
        return {str(name): (str(by), str(reason)) for name, by, reason in rows if by}

    async def add_history(self, account: str, items: Sequence[tuple[str, HistoryItem]], now: float,
                          alarm_type: str = METRIC) -> None:
        """Append ``(alarm name, item)`` history items of ``account``, in one INSERT."""
        await self.add_histories([(account, name, item, alarm_type) for name, item in items], now)

    async def add_histories(self, items: Sequence[tuple[str, str, HistoryItem, str]], now: float) -> None:
        """Append ``(account, alarm name, item, alarm type)`` history items of any accounts, in one INSERT."""
        if not items:
            return
        await self._engine.insert(f"{self._db}.history", HISTORY_COLUMNS, {
            "account": [a for a, _, _, _ in items], "alarm_name": [n for _, n, _, _ in items],
            "alarm_type": [t for _, _, _, t in items], "ts_ms": [_ms(i.timestamp) for _, _, i, _ in items],
            "seq": [self._versions.next(now) for _ in items], "item_type": [i.item_type for _, _, i, _ in items],
            "summary": [i.summary for _, _, i, _ in items], "data": [i.data for _, _, i, _ in items]})

    async def alarms(self, account: str, *, names: Sequence[str] | None = None, prefix: str | None = None,
                     namespace: str | None = None, metric: str | None = None,
                     kinds: Sequence[str] | None = None) -> list[StoredAlarm]:
        """The account's alarms (not deleted), ordered by name, with their states.

        Args:
            account: the caller's account; nothing else is ever visible.
            names: only these names (None: any; empty: none).
            prefix: only names starting with it.
            namespace: only alarms on a metric of this namespace.
            metric: only alarms on a metric of this name.
            kinds: only alarms of these kinds (None: any).
        """
        if (names is not None and not names) or (kinds is not None and not kinds):
            return []
        where = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account}
        if names is not None:
            where.append("has(%(names)s, name)")
            params["names"] = list(names)
        if prefix is not None:
            where.append("substring(name, 1, length(%(prefix)s)) = %(prefix)s")
            params["prefix"] = prefix
        rows = await self._latest_alarms(" AND ".join(where), params)
        if namespace is not None or metric is not None:
            rows = [r for r in rows if (namespace is None or r[4] == namespace) and (metric is None or r[5] == metric)]
        if kinds is not None:
            rows = [r for r in rows if r[6] in kinds]
        states = await self._states(account, [r[1] for r in rows])
        return [StoredAlarm(acct, name, arn, config, states.get(name), kind)
                for acct, name, arn, config, _, _, kind in rows]

    async def all_alarms(self) -> list[StoredAlarm]:
        """Every account's metric alarms with their states: the scheduler's work list (never shown to a caller).

        Composite alarms are evaluated when a child changes (:mod:`services.alarm.composites`), not here.
        """
        rows = [r for r in await self._latest_alarms("1", {}) if r[6] == METRIC]
        by_account: dict[str, list[str]] = {}
        for acct, name, *_ in rows:
            by_account.setdefault(acct, []).append(name)
        states: dict[tuple[str, str], StateRecord] = {}
        for acct, names in by_account.items():
            states.update({(acct, n): s for n, s in (await self._states(acct, names)).items()})
        return [StoredAlarm(acct, name, arn, config, states.get((acct, name)), kind)
                for acct, name, arn, config, _, _, kind in rows]

    async def _latest_alarms(self, where: str,
                             params: dict[str, Any]) -> list[tuple[str, str, str, str, str, str, str]]:
        rows = await self._engine.execute(
            "SELECT account, name, argMax(arn, version), argMax(config, version), argMax(namespace, version),"
            " argMax(metric, version), argMax(kind, version), argMax(deleted, version) AS gone"
            f" FROM {self._db}.alarms WHERE {where} GROUP BY account, name HAVING gone = 0"
            " ORDER BY account, name", params)
        return [(str(a), str(n), str(arn), str(c), str(ns), str(m), str(k)) for a, n, arn, c, ns, m, k, _ in rows]

    async def _states(self, account: str, names: Sequence[str]) -> dict[str, StateRecord]:
        if not names:
            return {}
        rows = await self._engine.execute(
            "SELECT name, argMax(value, version), argMax(reason, version), argMax(reason_data, version),"
            " argMax(has_reason_data, version), argMax(updated_ms, version), argMax(transitioned_ms, version)"
            f" FROM {self._db}.states WHERE account = %(account)s AND has(%(names)s, name) GROUP BY name",
            {"account": account, "names": list(names)})
        return {str(name): StateRecord(AlarmState(value), str(reason), str(data) if has else None,
                                       _from_ms(int(updated)), _from_ms(int(transitioned)))
                for name, value, reason, data, has, updated, transitioned in rows}

    async def history(self, account: str, *, alarm_name: str | None = None, item_type: str | None = None,
                      start_ms: int | None = None, end_ms: int | None = None, ascending: bool = False,
                      after: tuple[int, int] | None = None, limit: int = 100,
                      alarm_types: Sequence[str] | None = None) -> list[StoredHistoryItem]:
        """One page of the account's history items, newest first unless ``ascending``.

        Args:
            account: the caller's account; nothing else is ever visible.
            alarm_name: only this alarm's items.
            item_type: only items of this ``HistoryItemType``.
            start_ms: only items at or after it (epoch milliseconds).
            end_ms: only items at or before it.
            ascending: oldest first.
            after: keyset position (ts_ms, seq) of the previous page's last item.
            limit: most items returned.
            alarm_types: only items of alarms of these types (None: any).
        """
        where = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account, "limit": limit}
        if alarm_types is not None:
            where.append("has(%(types)s, alarm_type)")
            params["types"] = list(alarm_types)
        for column, key, value in (("alarm_name", "name", alarm_name), ("item_type", "type", item_type)):
            if value is not None:
                where.append(f"{column} = %({key})s")
                params[key] = value
        if start_ms is not None:
            where.append("ts_ms >= %(start)s")
            params["start"] = start_ms
        if end_ms is not None:
            where.append("ts_ms <= %(end)s")
            params["end"] = end_ms
        if after is not None:
            where.append(f"(ts_ms, seq) {'>' if ascending else '<'} (%(after_ts)s, %(after_seq)s)")
            params.update(after_ts=after[0], after_seq=after[1])
        order = "ASC" if ascending else "DESC"
        rows = await self._engine.execute(
            f"SELECT alarm_name, alarm_type, ts_ms, seq, item_type, summary, data FROM {self._db}.history"
            f" WHERE {' AND '.join(where)} ORDER BY ts_ms {order}, seq {order} LIMIT %(limit)s", params)
        return [StoredHistoryItem(str(name), str(kind), HistoryItem(_from_ms(int(ts)), str(t), str(s), str(d)),
                                  (int(ts), int(seq)))
                for name, kind, ts, seq, t, s, d in rows]
