"""The alarm store against both engines (ClickHouse 18.16 and chDB): the same tests on each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.alarm.domain import AlarmState, HistoryItem, StateRecord, initial_state
from services.alarm.store import AlarmStore
from stackwatch.store import AsyncEngine

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
NOW = T0.timestamp()


@pytest.fixture
async def store(async_engine: AsyncEngine, database: str) -> AlarmStore:
    """An :class:`AlarmStore` with its schema, in a database of its own."""
    s = AlarmStore(async_engine, database)
    await s.ensure_schema()
    return s


async def _put(store: AlarmStore, account: str, name: str, config: str = "{}", ns: str = "App",
               metric: str = "Latency") -> None:
    await store.put_alarm(account, name, f"arn:aws:cloudwatch:us-east-1:1:alarm:{name}", ns, metric, config, NOW)
    await store.write_state(account, name, initial_state(T0), NOW)


async def test_alarms_are_listed_by_name_with_their_state(store):
    await _put(store, "acct-a", "b-high")
    await _put(store, "acct-a", "a-low")
    found = await store.alarms("acct-a")
    assert [a.name for a in found] == ["a-low", "b-high"]
    assert found[0].state == initial_state(T0)
    assert found[0].arn.endswith(":alarm:a-low")


async def test_every_read_is_scoped_to_the_account(store):
    await _put(store, "acct-a", "shared-name")
    assert await store.alarms("acct-b") == []
    assert await store.alarms("acct-b", names=["shared-name"]) == []
    await store.delete_alarms("acct-b", ["shared-name"], NOW + 1)
    assert [a.name for a in await store.alarms("acct-a")] == ["shared-name"]
    await store.add_history("acct-a", [("shared-name", HistoryItem(T0, "StateUpdate", "s", "{}"))], NOW)
    assert await store.history("acct-b") == []


async def test_replacing_keeps_the_latest_definition_and_state(store):
    await _put(store, "acct", "cpu", config='{"v":1}')
    await store.put_alarm("acct", "cpu", "arn", "App", "Latency", '{"v":2}', NOW + 1)
    later = StateRecord(AlarmState.ALARM, "Threshold Crossed", '{"a":1}', T0 + timedelta(minutes=1),
                        T0 + timedelta(minutes=1))
    await store.write_state("acct", "cpu", later, NOW + 2)
    [alarm] = await store.alarms("acct", names=["cpu"])
    assert alarm.config == '{"v":2}'
    assert alarm.state == later


async def test_filters_by_names_prefix_and_metric(store):
    for name, metric in (("web-cpu", "CPU"), ("web-mem", "Mem"), ("db-cpu", "CPU")):
        await _put(store, "acct", name, metric=metric)
    assert [a.name for a in await store.alarms("acct", names=["db-cpu", "nope"])] == ["db-cpu"]
    assert [a.name for a in await store.alarms("acct", names=[])] == []
    assert [a.name for a in await store.alarms("acct", prefix="web-")] == ["web-cpu", "web-mem"]
    assert [a.name for a in await store.alarms("acct", namespace="App", metric="CPU")] == ["db-cpu", "web-cpu"]


async def test_a_deleted_alarm_is_gone_and_recreating_starts_fresh(store):
    await _put(store, "acct", "cpu")
    await store.write_state("acct", "cpu", StateRecord(AlarmState.ALARM, "r", None, T0, T0), NOW + 1)
    await store.delete_alarms("acct", ["cpu", "unknown"], NOW + 2)
    assert await store.alarms("acct") == []
    assert await store.all_alarms() == []
    await store.put_alarm("acct", "cpu", "arn", "App", "Latency", "{}", NOW + 3)
    await store.write_state("acct", "cpu", initial_state(T0 + timedelta(seconds=3)), NOW + 3)
    [alarm] = await store.alarms("acct")
    assert alarm.state is not None and alarm.state.value is AlarmState.INSUFFICIENT_DATA


async def test_all_alarms_spans_accounts(store):
    await _put(store, "acct-a", "x")
    await _put(store, "acct-b", "x")
    assert sorted((a.account, a.name) for a in await store.all_alarms()) == [("acct-a", "x"), ("acct-b", "x")]


async def test_history_pages_by_time_in_either_direction(store):
    items = [("cpu" if i % 2 else "mem", HistoryItem(T0 + timedelta(seconds=i), "StateUpdate", f"s{i}", "{}"))
             for i in range(5)]
    await store.add_history("acct", items, NOW)
    first = await store.history("acct", limit=2)
    assert [h.item.summary for h in first] == ["s4", "s3"]
    rest = await store.history("acct", after=first[-1].position, limit=10)
    assert [h.item.summary for h in rest] == ["s2", "s1", "s0"]
    up = await store.history("acct", ascending=True, alarm_name="cpu")
    assert [h.item.summary for h in up] == ["s1", "s3"]
    ms = round(T0.timestamp() * 1000)
    window = await store.history("acct", start_ms=ms + 1000, end_ms=ms + 3000, item_type="StateUpdate")
    assert [h.item.summary for h in window] == ["s3", "s2", "s1"]
    assert await store.history("acct", item_type="Action") == []
    assert first[0].item.timestamp == T0 + timedelta(seconds=4)


async def test_a_store_opened_later_writes_above_the_stored_versions(store, async_engine, database):
    await _put(store, "acct", "cpu", config='{"v":1}')
    reopened = AlarmStore(async_engine, database)
    await reopened.ensure_schema()
    await reopened.put_alarm("acct", "cpu", "arn", "App", "Latency", '{"v":2}', NOW - 3600)  # a clock gone back
    [alarm] = await reopened.alarms("acct")
    assert alarm.config == '{"v":2}'


async def test_kinds_are_kept_and_the_scheduler_sees_metric_alarms_only(store):
    await _put(store, "acct", "metric")
    await store.put_alarm("acct", "composite", "arn:c", "", "", '{"alarm_rule":"TRUE"}', NOW, "CompositeAlarm")
    assert [(a.name, a.kind) for a in await store.alarms("acct")] == [("composite", "CompositeAlarm"),
                                                                      ("metric", "MetricAlarm")]
    assert [a.name for a in await store.alarms("acct", kinds=["CompositeAlarm"])] == ["composite"]
    assert await store.alarms("acct", kinds=[]) == []
    assert [a.name for a in await store.all_alarms()] == ["metric"]


async def test_a_store_made_before_kinds_gets_the_column(async_engine, database):
    await async_engine.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    await async_engine.execute(
        f"CREATE TABLE {database}.alarms (account String, name String, version UInt64, deleted UInt8, arn String,"
        " namespace String, metric String, config String) ENGINE = ReplacingMergeTree(version) ORDER BY (account, name)")
    await async_engine.insert(f"{database}.alarms", ("account", "name", "version", "deleted", "arn", "namespace",
                                                     "metric", "config"),
                              {"account": ["acct"], "name": ["old"], "version": [1], "deleted": [0], "arn": ["arn"],
                               "namespace": ["N"], "metric": ["M"], "config": ["{}"]})
    store = AlarmStore(async_engine, database)
    await store.ensure_schema()
    await store.ensure_schema()  # idempotent
    [old] = await store.alarms("acct")
    assert (old.name, old.kind) == ("old", "MetricAlarm")


async def test_suppressions_are_per_account_and_cleared_by_an_empty_row(store):
    await store.write_suppression("acct", "p", "Alarm", "Actions suppressed by Alarm", NOW)
    assert await store.suppressions("acct", ["p", "q"]) == {"p": ("Alarm", "Actions suppressed by Alarm")}
    assert await store.suppressions("other", ["p"]) == {}
    await store.write_suppression("acct", "p", "", "", NOW + 1)
    assert await store.suppressions("acct", ["p"]) == {}


async def test_history_is_filtered_by_alarm_type(store):
    await store.add_history("acct", [("m", HistoryItem(T0, "StateUpdate", "m", "{}"))], NOW)
    await store.add_history("acct", [("c", HistoryItem(T0, "StateUpdate", "c", "{}"))], NOW, "CompositeAlarm")
    assert [h.alarm_name for h in await store.history("acct", alarm_types=["CompositeAlarm"])] == ["c"]
    assert [h.alarm_name for h in await store.history("acct", alarm_types=["MetricAlarm"])] == ["m"]
    assert len(await store.history("acct")) == 2
