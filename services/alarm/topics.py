"""Topics, subscriptions and the action outbox: the alarm service's notification tables.

Beside :mod:`services.alarm.store`'s tables, in the same database and by the same conventions
(a ``version`` per row, the latest version of a key wins via ``argMax``, deletions are rows with
``deleted = 1``; works on ClickHouse 18.16 and chDB alike)::

    topics          one row per CreateTopic / DeleteTopic          ReplacingMergeTree(version)
                    (account, name, version, deleted, arn, attributes)   ORDER BY (account, name)
    subscriptions   one row per change of a subscription           ReplacingMergeTree(version)
                    (account, topic, id, version, deleted, ...)          ORDER BY (account, topic, id)
    outbox          one row per due action, then one when done     ReplacingMergeTree(version)
                    (account, id, version, done, target, key, ...)       ORDER BY (account, id)

The outbox is how an action is never lost and never repeated once delivered. The alarm writer adds
a pending row (``done = 0``) for every due action *before* it writes the state change that made it
due; the dispatcher (:mod:`services.alarm.delivery`) delivers pending rows and then writes the
same ``id`` with ``done = 1``. A crash before that leaves the row pending and it is delivered again
at the next start (at least once; the notification's MessageId, derived from the idempotency key,
lets a receiver drop the repeat); a row that is done is never read as pending again. The row ``id``
is a hash of the idempotency key and the target, so writing the same due action twice is harmless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from stackwatch.store import AsyncEngine, RowVersions, Schema, Step, identifier

TOPIC_COLUMNS = ("account", "name", "version", "deleted", "arn", "attributes")
SUBSCRIPTION_COLUMNS = ("account", "topic", "id", "version", "deleted", "arn", "topic_arn", "protocol",
                        "endpoint", "token", "confirmed", "created_ms")
OUTBOX_COLUMNS = ("account", "id", "version", "done", "alarm_name", "alarm_arn", "alarm_type", "target", "key",
                  "message", "reason_data", "created_ms", "result")


def ddl(db: str) -> list[str]:
    """``CREATE TABLE`` statements of the three tables."""
    return [f"""
CREATE TABLE IF NOT EXISTS {db}.topics (
    account String, name String, version UInt64, deleted UInt8, arn String, attributes String
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)""", f"""
CREATE TABLE IF NOT EXISTS {db}.subscriptions (
    account String, topic String, id String, version UInt64, deleted UInt8, arn String, topic_arn String,
    protocol String, endpoint String, token String, confirmed UInt8, created_ms UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, topic, id)""", f"""
CREATE TABLE IF NOT EXISTS {db}.outbox (
    account String, id String, version UInt64, done UInt8, alarm_name String, alarm_arn String, alarm_type String,
    target String, key String, message String, reason_data String, created_ms UInt64, result String
) ENGINE = ReplacingMergeTree(version) ORDER BY (account, id)"""]


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: its ARN, name and attributes (SignatureVersion, DisplayName)."""

    account: str
    name: str
    arn: str
    attributes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """A subscription as stored.

    Attributes:
        account: the topic owner's account id.
        topic: the topic's name.
        id: the random part of its ARN.
        arn: ``<topic arn>:<id>``.
        topic_arn: the topic's ARN.
        protocol: ``http`` or ``https``.
        endpoint: the URL.
        token: the confirmation token sent to the endpoint.
        confirmed: whether the token came back.
        created_ms: creation time, epoch ms (its place in listings).
    """

    account: str
    topic: str
    id: str
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    token: str
    confirmed: bool
    created_ms: int


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A due action in the outbox.

    Attributes:
        account: the alarm's account id.
        id: the row's id (hash of key and target).
        alarm_name: the alarm's name (for the Action history item).
        alarm_arn: the alarm's ARN.
        target: the action ARN (SNS topic or Auto Scaling policy).
        key: the idempotency key (:func:`services.alarm.domain.action_key`).
        message: CloudWatch's alarm notification JSON (SNS ``Message``).
        created_ms: when the action became due, epoch ms (the notification's Timestamp).
        reason_data: the new state's StateReasonData (for step scaling policies), or empty.
        alarm_type: ``MetricAlarm`` or ``CompositeAlarm`` (the history item's AlarmType).
    """

    account: str
    id: str
    alarm_name: str
    alarm_arn: str
    target: str
    key: str
    message: str
    created_ms: int
    reason_data: str = ""
    alarm_type: str = "MetricAlarm"


def outbox_id(key: str, target: str) -> str:
    """The outbox row id of one due action."""
    return hashlib.sha256(f"{key}\x00{target}".encode()).hexdigest()[:32]


class NotificationStore:
    """Topics, subscriptions and the outbox of every account.

    Args:
        engine: the store engine.
        database: the alarm service's database.
    """

    def __init__(self, engine: AsyncEngine, database: str = "stackwatch_alarms") -> None:
        self._engine = engine
        self._db = identifier(database)
        self._versions = RowVersions()
        self._ready = False

    async def ready(self) -> None:
        """:meth:`ensure_schema` once per process."""
        if not self._ready:
            await self.ensure_schema()

    async def ensure_schema(self) -> None:
        """Create the tables if missing (the database is the alarm store's); versions start above stored ones."""
        async def tables(schema: Schema) -> None:
            for statement in ddl(self._db):
                await schema.create_table(statement)

        await Schema(self._engine, self._db).migrate("topics", [Step(1, "topics, subscriptions, outbox", tables)])
        for table in ("topics", "subscriptions", "outbox"):
            [(newest,)] = await self._engine.execute(f"SELECT max(version) FROM {self._db}.{table}")
            self._versions.at_least(int(newest))
        self._ready = True

    # -- topics ------------------------------------------------------------------------------

    async def put_topic(self, topic: Topic, now: float) -> None:
        """Write (create) a topic."""
        await self._engine.insert(f"{self._db}.topics", TOPIC_COLUMNS, {
            "account": [topic.account], "name": [topic.name], "version": [self._versions.next(now)],
            "deleted": [0], "arn": [topic.arn], "attributes": [orjson.dumps(dict(topic.attributes)).decode()]})

    async def delete_topic(self, account: str, name: str, now: float) -> None:
        """Delete a topic and every subscription to it."""
        subs = await self.subscriptions(account, topic=name)
        await self._engine.insert(f"{self._db}.topics", TOPIC_COLUMNS, {
            "account": [account], "name": [name], "version": [self._versions.next(now)], "deleted": [1],
            "arn": [""], "attributes": ["{}"]})
        for sub in subs:
            await self._write_subscription(sub, now, deleted=True)

    async def topics(self, account: str, *, name: str | None = None, after: str | None = None,
                     limit: int = 100) -> list[Topic]:
        """The account's topics ordered by name (one by ``name``; those after ``after``)."""
        where, params = ["account = %(account)s"], {"account": account, "limit": limit}
        if name is not None:
            where.append("name = %(name)s")
            params["name"] = name
        if after is not None:
            where.append("name > %(after)s")
            params["after"] = after
        rows = await self._engine.execute(
            "SELECT name, argMax(arn, version), argMax(attributes, version), argMax(deleted, version) AS gone"
            f" FROM {self._db}.topics WHERE {' AND '.join(where)} GROUP BY name HAVING gone = 0"
            " ORDER BY name LIMIT %(limit)s", params)
        return [Topic(account, str(n), str(arn), orjson.loads(attrs)) for n, arn, attrs, _ in rows]

    # -- subscriptions -----------------------------------------------------------------------

    async def put_subscription(self, sub: StoredSubscription, now: float) -> None:
        """Write a subscription (new, or confirmed)."""
        await self._write_subscription(sub, now, deleted=False)

    async def delete_subscription(self, sub: StoredSubscription, now: float) -> None:
        """Delete a subscription."""
        await self._write_subscription(sub, now, deleted=True)

    async def _write_subscription(self, sub: StoredSubscription, now: float, *, deleted: bool) -> None:
        await self._engine.insert(f"{self._db}.subscriptions", SUBSCRIPTION_COLUMNS, {
            "account": [sub.account], "topic": [sub.topic], "id": [sub.id], "version": [self._versions.next(now)],
            "deleted": [int(deleted)], "arn": [sub.arn], "topic_arn": [sub.topic_arn], "protocol": [sub.protocol],
            "endpoint": [sub.endpoint], "token": [sub.token], "confirmed": [int(sub.confirmed)],
            "created_ms": [sub.created_ms]})

    async def subscriptions(self, account: str | None, *, topic: str | None = None, topic_arn: str | None = None,
                            arn: str | None = None, after: tuple[str, int, str] | None = None,
                            limit: int = 100_000) -> list[StoredSubscription]:
        """Live subscriptions ordered by (topic, created, id).

        Args:
            account: the owner's account; None only for the unauthenticated link calls, which name
                a topic or subscription ARN (whose random part is the credential).
            topic: only this topic's (by name).
            topic_arn: only this topic's (by ARN).
            arn: only this one.
            after: keyset position (topic, created_ms, id) of the previous page's last.
            limit: most returned.
        """
        where: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        for column, value in (("account", account), ("topic", topic)):
            if value is not None:
                where.append(f"{column} = %({column})s")
                params[column] = value
        inner = " AND ".join(where) or "1"
        outer: list[str] = ["gone = 0"]
        for column, value in (("t_arn", topic_arn), ("s_arn", arn)):
            if value is not None:
                outer.append(f"{column} = %({column})s")
                params[column] = value
        if after is not None:
            outer.append("(topic, created, id) > (%(a_topic)s, %(a_created)s, %(a_id)s)")
            params.update(a_topic=after[0], a_created=after[1], a_id=after[2])
        rows = await self._engine.execute(
            "SELECT account, topic, id, argMax(arn, version) AS s_arn, argMax(topic_arn, version) AS t_arn,"
            " argMax(protocol, version), argMax(endpoint, version), argMax(token, version),"
            " argMax(confirmed, version), argMax(created_ms, version) AS created, argMax(deleted, version) AS gone"
            f" FROM {self._db}.subscriptions WHERE {inner} GROUP BY account, topic, id"
            f" HAVING {' AND '.join(outer)} ORDER BY topic, created, id LIMIT %(limit)s", params)
        return [StoredSubscription(str(a), str(t), str(i), str(s), str(ta), str(p), str(e), str(tok), bool(c),
                                   int(cr)) for a, t, i, s, ta, p, e, tok, c, cr, _ in rows]

    # -- outbox ------------------------------------------------------------------------------

    async def add_pending(self, actions: Sequence[PendingAction], now: float) -> None:
        """Add due actions to the outbox (one INSERT; re-adding one is harmless)."""
        if not actions:
            return
        n = len(actions)
        await self._engine.insert(f"{self._db}.outbox", OUTBOX_COLUMNS, {
            "account": [a.account for a in actions], "id": [a.id for a in actions],
            "version": [self._versions.next(now) for _ in actions], "done": [0] * n,
            "alarm_name": [a.alarm_name for a in actions], "alarm_arn": [a.alarm_arn for a in actions],
            "alarm_type": [a.alarm_type for a in actions],
            "target": [a.target for a in actions], "key": [a.key for a in actions],
            "message": [a.message for a in actions], "reason_data": [a.reason_data for a in actions],
            "created_ms": [a.created_ms for a in actions], "result": [""] * n})

    async def finish(self, action: PendingAction, result: str, now: float) -> None:
        """Mark an action delivered or given up on (``result`` says which); it is never read as pending again."""
        await self._engine.insert(f"{self._db}.outbox", OUTBOX_COLUMNS, {
            "account": [action.account], "id": [action.id], "version": [self._versions.next(now)], "done": [1],
            "alarm_name": [action.alarm_name], "alarm_arn": [action.alarm_arn],
            "alarm_type": [action.alarm_type], "target": [action.target],
            "key": [action.key], "message": [""], "reason_data": [""], "created_ms": [action.created_ms],
            "result": [result]})

    async def pending(self, limit: int = 1000) -> list[PendingAction]:
        """Actions not yet done, oldest first (every account's: the dispatcher's work list)."""
        rows = await self._engine.execute(
            "SELECT account, id, argMax(alarm_name, version), argMax(alarm_arn, version), argMax(target, version),"
            " argMax(key, version), argMax(message, version), argMax(created_ms, version) AS created,"
            " argMax(reason_data, version), argMax(alarm_type, version), argMax(done, version) AS finished"
            f" FROM {self._db}.outbox GROUP BY account, id HAVING finished = 0 ORDER BY created, id LIMIT %(limit)s"
            # on a cluster, a shard that is down keeps its accounts' actions until it returns;
            # the other shards' are delivered meanwhile
            " SETTINGS skip_unavailable_shards = 1",
            {"limit": limit})
        return [PendingAction(str(a), str(i), str(n), str(arn), str(t), str(k), str(m), int(c), str(r), str(at))
                for a, i, n, arn, t, k, m, c, r, at, _ in rows]

    async def results(self, account: str) -> dict[str, str]:
        """Finished actions of ``account``: row id -> result (tests and diagnostics)."""
        rows = await self._engine.execute(
            "SELECT id, argMax(result, version), argMax(done, version) AS finished"
            f" FROM {self._db}.outbox WHERE account = %(account)s GROUP BY id HAVING finished = 1",
            {"account": account})
        return {str(i): str(r) for i, r, _ in rows}
