"""The autoscale service's tables and every SQL statement it runs.

autoscale owns one database (``stackwatch_autoscale`` by default)::

    launch_configurations  (account, name, version, deleted, config)          ReplacingMergeTree(version)
    groups                 (account, name, version, deleted, config)          ORDER BY (account, name)
    policies               (account, group_name, name, version, deleted,     ReplacingMergeTree(version)
                            arn, config)                                     ORDER BY (account, group_name, name)
    activities             (account, group_name, activity_id, version,       ReplacingMergeTree(version)
                            start_ms, config)                                ORDER BY (account, group_name,
                                                                                       activity_id)
    instances              (account, group_name, instance_id, version,        ReplacingMergeTree(version)
                            deleted, lifecycle_state, health_status,          ORDER BY (account, group_name,
                                                                                        instance_id)
                            launch_configuration, zone_id, protected, updated_ms)
    executions             (account, idempotency_key, version, result)        ReplacingMergeTree(version)
                                                                              ORDER BY (account, idempotency_key)

The conventions of :mod:`services.alarm.store`: every write is a new row with a larger ``version``
(microseconds, strictly increasing per process and started above the stored maximum), reads take
the latest of each key with ``argMax(column, version) ... GROUP BY`` (right before and after
ReplacingMergeTree merges, on ClickHouse 18.16 as on chDB), a deletion is a row with
``deleted = 1``, times are ``UInt64`` milliseconds. Every read filters on the account first.

``instances`` is written by the reconciler (:meth:`AutoscaleStore.put_instance`), which learns
from CloudStack what a group runs; this service only reads it (DescribeAutoScalingInstances,
TerminateInstanceInAutoScalingGroup, the ForceDelete check). An activity is updated by writing it
again with a newer version (the reconciler moves one from InProgress to Successful or Failed).
``executions`` remembers the outcome of each idempotency key ExecutePolicy was called with, so a
retried alarm action returns the first result and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.autoscale.domain import LaunchConfiguration
from services.autoscale.domain.policies import ScalingPolicy
from services.autoscale.domain.scaling import Activity
from services.autoscale.records import (
    GroupRecord,
    activity_from_json,
    activity_json,
    group_from_json,
    group_json,
    lc_from,
    lc_json,
    policy_from_json,
    policy_json,
)
from stackwatch.store import AsyncEngine, RowBatcher, RowVersions, Schema, Step, identifier

_KEYED = "account String, name String, version UInt64, deleted UInt8, config String"


def ddl(db: str) -> list[str]:
    """``CREATE TABLE`` statements (the same on every engine version)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {db}.launch_configurations ({_KEYED})"
        " ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)",
        f"CREATE TABLE IF NOT EXISTS {db}.groups ({_KEYED})"
        " ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)",
        f"CREATE TABLE IF NOT EXISTS {db}.policies (account String, group_name String, name String,"
        " version UInt64, deleted UInt8, arn String, config String)"
        " ENGINE = ReplacingMergeTree(version) ORDER BY (account, group_name, name)",
        f"CREATE TABLE IF NOT EXISTS {db}.activities (account String, group_name String, activity_id String,"
        " version UInt64, start_ms UInt64, config String)"
        " ENGINE = ReplacingMergeTree(version) ORDER BY (account, group_name, activity_id)",
        f"CREATE TABLE IF NOT EXISTS {db}.instances (account String, group_name String, instance_id String,"
        " version UInt64, deleted UInt8, lifecycle_state String, health_status String,"
        " launch_configuration String, zone_id String, protected UInt8, updated_ms UInt64)"
        " ENGINE = ReplacingMergeTree(version) ORDER BY (account, group_name, instance_id)",
        f"CREATE TABLE IF NOT EXISTS {db}.executions (account String, idempotency_key String, version UInt64,"
        " result String) ENGINE = ReplacingMergeTree(version) ORDER BY (account, idempotency_key)",
    ]


@dataclass(frozen=True, slots=True)
class Instance:
    """An instance of a group as the reconciler reports it (DescribeAutoScalingInstances).

    Attributes:
        group: the group's name.
        instance_id: the CloudStack VM UUID.
        lifecycle_state: ``Pending``, ``InService``, ``Terminating``, ...
        health_status: ``Healthy`` or ``Unhealthy``.
        launch_configuration: the launch configuration it was made from.
        zone_id: its CloudStack zone.
        protected: protected from scale-in.
    """

    group: str
    instance_id: str
    lifecycle_state: str
    health_status: str = "Healthy"
    launch_configuration: str = ""
    zone_id: str = ""
    protected: bool = False


class AutoscaleStore:
    """Launch configurations, groups, policies, activities, instances and executions of every account.

    Args:
        engine: the store engine.
        database: the database this store owns.
    """

    def __init__(self, engine: AsyncEngine, database: str = "stackwatch_autoscale") -> None:
        self._engine = engine
        self._db = identifier(database)
        self._versions = RowVersions()
        self._rows = RowBatcher(engine)  # many reconcilers write one row each at once: group commit

    async def ensure_schema(self) -> None:
        """Create the database and tables if missing (idempotent); versions start above the stored ones."""
        async def tables(schema: Schema) -> None:
            for statement in ddl(self._db):
                await schema.create_table(statement)

        await Schema(self._engine, self._db).migrate("autoscale", [Step(1, "groups, launch configurations, policies,"
                                                                        " activities, instances, executions", tables)])
        for table in ("launch_configurations", "groups", "policies", "activities", "instances", "executions"):
            [(newest,)] = await self._engine.execute(f"SELECT max(version) FROM {self._db}.{table}")
            self._versions.at_least(int(newest))

    async def close(self) -> None:
        """Wait for the rows being written."""
        await self._rows.close()

    async def _insert(self, table: str, columns: Sequence[str], row: dict[str, Any], now_ms: int) -> None:
        await self._rows.insert_row(f"{self._db}.{table}", columns,
                                    {**row, "version": self._versions.next(now_ms / 1000)})

    async def _latest(self, table: str, keys: str, columns: Sequence[str], where: list[str],
                      params: dict[str, Any], order: str | None = None,
                      limit: int | None = None) -> list[tuple[Any, ...]]:
        picked = ", ".join(f"argMax({c}, version)" for c in columns)
        gone = ", argMax(deleted, version) AS gone" if table not in ("activities", "executions") else ""
        having = " HAVING gone = 0" if gone else ""
        sql = (f"SELECT {keys}, {picked}{gone} FROM {self._db}.{table} WHERE {' AND '.join(where)}"
               f" GROUP BY {keys}{having} ORDER BY {order or keys}")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await self._engine.execute(sql, params)
        width = len(keys.split(",")) + len(columns)
        return [tuple(r[:width]) for r in rows]

    # launch configurations

    async def put_launch_configuration(self, account: str, lc: LaunchConfiguration, now_ms: int) -> None:
        """Write a launch configuration."""
        await self._insert("launch_configurations", ("account", "name", "version", "deleted", "config"),
                           {"account": account, "name": lc.name, "deleted": 0, "config": lc_json(lc)}, now_ms)

    async def delete_launch_configuration(self, account: str, name: str, now_ms: int) -> None:
        """Mark a launch configuration deleted."""
        await self._insert("launch_configurations", ("account", "name", "version", "deleted", "config"),
                           {"account": account, "name": name, "deleted": 1, "config": ""}, now_ms)

    async def launch_configurations(self, account: str,
                                    names: Sequence[str] | None = None) -> list[LaunchConfiguration]:
        """The account's launch configurations, by name (only ``names`` if given)."""
        where: list[str] = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account}
        if names is not None:
            where.append("has(%(names)s, name)")
            params["names"] = list(names)
        rows = await self._latest("launch_configurations", "name", ("config",), where, params)
        return [lc_from(json.loads(str(config))) for _, config in rows]

    # groups

    async def put_group(self, group: GroupRecord, now_ms: int) -> None:
        """Write a group's record."""
        await self._insert("groups", ("account", "name", "version", "deleted", "config"),
                           {"account": group.account, "name": group.name, "deleted": 0, "config": group_json(group)},
                           now_ms)

    async def delete_group(self, account: str, name: str, now_ms: int) -> None:
        """Mark a group deleted."""
        await self._insert("groups", ("account", "name", "version", "deleted", "config"),
                           {"account": account, "name": name, "deleted": 1, "config": ""}, now_ms)

    async def groups(self, account: str, names: Sequence[str] | None = None) -> list[GroupRecord]:
        """The account's groups, by name (only ``names`` if given)."""
        where: list[str] = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account}
        if names is not None:
            where.append("has(%(names)s, name)")
            params["names"] = list(names)
        rows = await self._latest("groups", "name", ("config",), where, params)
        return [group_from_json(account, str(name), str(config)) for name, config in rows]

    async def all_groups(self) -> list[GroupRecord]:
        """Every account's groups: the reconciler's work list (never shown to a caller)."""
        rows = await self._latest("groups", "account, name", ("config",), ["1"], {})
        return [group_from_json(str(a), str(n), str(c)) for a, n, c in rows]

    # policies

    async def put_policy(self, account: str, policy: ScalingPolicy, now_ms: int) -> None:
        """Write a scaling policy."""
        await self._insert("policies", ("account", "group_name", "name", "version", "deleted", "arn", "config"),
                           {"account": account, "group_name": policy.group, "name": policy.name, "deleted": 0,
                            "arn": policy.arn, "config": policy_json(policy)}, now_ms)

    async def delete_policy(self, account: str, group: str, name: str, now_ms: int) -> None:
        """Mark a policy deleted."""
        await self._insert("policies", ("account", "group_name", "name", "version", "deleted", "arn", "config"),
                           {"account": account, "group_name": group, "name": name, "deleted": 1, "arn": "",
                            "config": ""}, now_ms)

    async def policies(self, account: str, group: str | None = None,
                       names: Sequence[str] | None = None) -> list[ScalingPolicy]:
        """The account's policies (of ``group``, named ``names`` or with those ARNs, if given)."""
        where: list[str] = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account}
        if group is not None:
            where.append("group_name = %(group)s")
            params["group"] = group
        rows = await self._latest("policies", "group_name, name", ("arn", "config"), where, params)
        out = [policy_from_json(str(g), str(n), str(c)) for g, n, _, c in rows]
        if names is not None:
            out = [p for p in out if p.name in names or p.arn in names]
        return out

    # activities

    async def put_activity(self, account: str, activity: Activity, now_ms: int) -> None:
        """Write an activity (again, to update it)."""
        await self._insert("activities", ("account", "group_name", "activity_id", "version", "start_ms", "config"),
                           {"account": account, "group_name": activity.group, "activity_id": activity.activity_id,
                            "start_ms": activity.start_ms, "config": activity_json(activity)}, now_ms)

    async def activities(self, account: str, group: str | None = None, ids: Sequence[str] | None = None,
                         limit: int = 100,
                         before: tuple[int, int] | None = None) -> list[tuple[tuple[int, int], Activity]]:
        """The account's activities, newest first, each with its keyset position ``(start_ms, first version)``.

        Activities that start in the same millisecond keep the order they were written in.
        ``before`` is the position of the previous page's last activity.
        """
        where: list[str] = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account, "limit": limit}
        if group is not None:
            where.append("group_name = %(group)s")
            params["group"] = group
        if ids is not None:
            where.append("has(%(ids)s, activity_id)")
            params["ids"] = list(ids)
        having = ""
        if before is not None:
            having = " HAVING (s, seq) < (%(before_start)s, %(before_seq)s)"
            params.update(before_start=before[0], before_seq=before[1])
        rows = await self._engine.execute(
            "SELECT group_name, activity_id, argMax(start_ms, version) AS s, min(version) AS seq,"
            f" argMax(config, version) FROM {self._db}.activities WHERE {' AND '.join(where)}"
            f" GROUP BY group_name, activity_id{having} ORDER BY s DESC, seq DESC LIMIT %(limit)s", params)
        return [((int(s), int(seq)), activity_from_json(str(g), str(i), int(s), str(c))) for g, i, s, seq, c in rows]

    # instances (written by the reconciler)

    async def put_instance(self, account: str, instance: Instance, now_ms: int, deleted: bool = False) -> None:
        """Record what the reconciler knows of an instance (``deleted``: it is gone)."""
        i = instance
        await self._insert("instances", (
            "account", "group_name", "instance_id", "version", "deleted", "lifecycle_state", "health_status",
            "launch_configuration", "zone_id", "protected", "updated_ms"), {
            "account": account, "group_name": i.group, "instance_id": i.instance_id, "deleted": int(deleted),
            "lifecycle_state": i.lifecycle_state, "health_status": i.health_status,
            "launch_configuration": i.launch_configuration, "zone_id": i.zone_id, "protected": int(i.protected),
            "updated_ms": now_ms}, now_ms)

    async def instances(self, account: str, group: str | None = None,
                        ids: Sequence[str] | None = None) -> list[Instance]:
        """The account's instances (of ``group`` / with ``ids`` if given)."""
        where: list[str] = ["account = %(account)s"]
        params: dict[str, Any] = {"account": account}
        if group is not None:
            where.append("group_name = %(group)s")
            params["group"] = group
        if ids is not None:
            where.append("has(%(ids)s, instance_id)")
            params["ids"] = list(ids)
        rows = await self._latest("instances", "group_name, instance_id", (
            "lifecycle_state", "health_status", "launch_configuration", "zone_id", "protected"), where, params)
        return [Instance(str(g), str(i), str(s), str(h), str(lc), str(z), bool(p)) for g, i, s, h, lc, z, p in rows]

    # executions

    async def execution(self, account: str, key: str) -> str | None:
        """The result recorded for an idempotency key, if any."""
        rows = await self._latest("executions", "idempotency_key", ("result",),
                                  ["account = %(account)s", "idempotency_key = %(key)s"],
                                  {"account": account, "key": key})
        return str(rows[0][1]) if rows else None

    async def put_execution(self, account: str, key: str, result: str, now_ms: int) -> None:
        """Remember the result of an idempotency key."""
        await self._insert("executions", ("account", "idempotency_key", "version", "result"),
                           {"account": account, "idempotency_key": key, "result": result}, now_ms)
