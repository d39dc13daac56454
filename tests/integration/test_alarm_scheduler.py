# ruff: noqa: D103 - test names say what each test checks
"""The alarm scheduler as a timeline: a fake clock, a fake ingest, the real store on both engines.

Each step moves the clock, feeds datums as ingest's stream would, runs the due timers and checks
what was evaluated, what was read and what the store holds, as Prometheus' ``rules/alerting_test.go``
walks a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.alarm.domain import AlarmState, Datapoint, initial_state
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig
from services.alarm.registry import AlarmRegistry, WatchedStore
from services.alarm.scheduler import Observed, Scheduler
from services.alarm.store import StoredAlarm
from services.alarm.windows import Backfilled
from services.alarm.writer import AlarmWriter
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.domain.metrics import StatisticSet
from stackwatch.store import AsyncEngine

T0 = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC).timestamp()  # five seconds into a minute
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"
METRIC = ("acct", "App", "CPU", ())


class FakeIngest:
    """Per-period values by period start; records what it was asked."""

    def __init__(self) -> None:
        self.values: dict[float, float] = {}
        self.calls: list[tuple[str, datetime, datetime]] = []
        self.backfills: list[tuple[str, datetime, datetime]] = []
        self.down = False

    async def __call__(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Datapoint]:
        self.calls.append((account, start, end))
        if self.down:
            raise errors.ServiceUnavailable("ingest is down")
        return [Datapoint(from_epoch(t), v, 1.0) for t, v in self.values.items()
                if start.timestamp() <= t < end.timestamp()]

    async def backfill(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> list[Backfilled]:
        self.backfills.append((account, start, end))
        if self.down:
            raise errors.ServiceUnavailable("ingest is down")
        return [Backfilled(int(t), "None", StatisticSet(1.0, v, v, v)) for t, v in self.values.items()
                if start.timestamp() <= t < end.timestamp()]


class CountingStore(WatchedStore):
    """The watched store, counting reads of alarms and INSERTs into the states table."""

    def __init__(self, engine: AsyncEngine, database: str, registry: AlarmRegistry) -> None:
        super().__init__(engine, database, registry)
        self.reads = 0
        self.state_writes = 0
        insert = engine.insert

        async def counted(table: str, *args: object, **kwargs: object) -> object:
            if table.endswith(".states"):
                self.state_writes += 1
            return await insert(table, *args, **kwargs)  # type: ignore[arg-type]

        self._engine = type("Counted", (), {"insert": staticmethod(counted), "execute": engine.execute})()

    async def alarms(self, account: str, **kwargs: object) -> list[StoredAlarm]:  # type: ignore[override]
        self.reads += 1
        return await super().alarms(account, **kwargs)  # type: ignore[arg-type]


def config(name: str = "cpu", period: int = 60, **fields: object) -> AlarmConfig:
    base: dict[str, object] = dict(name=name, namespace="App", metric_name="CPU", dimensions=(), period=period,
                                   evaluation_periods=1, threshold=80.0, comparison_operator="GreaterThanThreshold",
                                   statistic="Maximum", alarm_actions=("arn:aws:sns:us-east-1:123456789012:ops",),
                                   updated=T0)
    return AlarmConfig(**{**base, **fields})  # type: ignore[arg-type]


async def put(store: WatchedStore, c: AlarmConfig, now: float) -> None:
    await store.put_alarm("acct", c.name, ARN, c.namespace, c.metric_name, c.to_json(), now)
    await store.write_state("acct", c.name, initial_state(from_epoch(now)), now)


@pytest.fixture
async def world(async_engine: AsyncEngine, database: str):
    registry = AlarmRegistry()
    store = CountingStore(async_engine, database, registry)
    await store.ensure_schema()
    await put(store, config(), T0)
    clock = FakeClock(T0)
    ingest = FakeIngest()
    scheduler = Scheduler(AlarmWriter(store, "us-east-1"), ingest, clock, interval=1.0, backfill=ingest.backfill,
                          grace=0.5)
    await scheduler.start()
    return store, clock, ingest, scheduler


def stream(scheduler: Scheduler) -> None:
    """As ingest does: hold the current watched set, open the datapoint stream."""
    scheduler.registry.acknowledge("ingest-1", scheduler.registry.version)
    scheduler.stream_opened("ingest-1")


def datum(v: float, at: float, acked: float) -> Observed:
    return Observed(at, "None", StatisticSet(1.0, v, v, v), (v,), (1.0,), acked)


async def _state(store: WatchedStore, name: str = "cpu") -> AlarmState:
    [alarm] = await store.alarms("acct", names=[name])
    assert alarm.state is not None
    return alarm.state.value


async def test_without_a_stream_an_alarm_is_fetched_once_per_closed_period(world):
    store, clock, ingest, scheduler = world
    assert await scheduler.run_once() == 0  # 10:00:05: the open period has not closed
    ingest.values[T0 - 5] = 95.0  # the minute 10:00, closing at 10:01
    clock.advance(30)
    assert await scheduler.run_once() == 0
    clock.advance(30)
    assert await scheduler.run_once() == 1  # 10:01:05: closed (due at 10:01:00.5)
    assert await _state(store) is AlarmState.ALARM
    account, start, end = ingest.calls[-1]
    assert account == "acct" and (end - start).total_seconds() == 3 * 60  # N + 2 periods
    assert await scheduler.run_once() == 0  # same period: not again
    clock.advance(60)
    ingest.values[T0 + 55] = 10.0
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.OK
    history = await store.history("acct", ascending=True)
    assert [h.item.summary for h in history if h.item.item_type == "StateUpdate"] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK"]


async def test_streamed_datums_are_evaluated_half_a_second_after_the_period_closes_without_reads(world):
    store, clock, ingest, scheduler = world
    stream(scheduler)
    clock.set(T0 - 5 + 50)  # 10:00:50
    await scheduler.run_once()  # starts (and awaits) the backfill
    assert len(ingest.backfills) == 1
    reads, writes = store.reads, store.state_writes
    assert scheduler.observe(METRIC, [datum(95.0, T0 + 40, clock.now())])
    clock.set(T0 - 5 + 60.4)  # 10:01:00.4: closed, within the grace
    assert await scheduler.run_once() == 0
    clock.set(T0 - 5 + 60.5)
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.ALARM
    assert ingest.calls == []  # no fetch: the window answered
    assert store.state_writes == writes + 1
    reads = store.reads  # (the check above read once)
    for minute in range(2, 6):  # still breaching: evaluated every minute, nothing written, nothing read
        scheduler.observe(METRIC, [datum(90.0, T0 - 5 + 60 * (minute - 1) + 1, clock.now())])
        clock.set(T0 - 5 + 60 * minute + 0.5)
        assert await scheduler.run_once() == 1
    assert store.reads == reads and store.state_writes == writes + 1  # new words are held back ...
    assert store.deferred == 1
    await scheduler.flush()  # ... and written together about once a second
    assert store.state_writes == writes + 2 and store.deferred == 0
    [alarm] = await store.alarms("acct")
    assert alarm.state is not None and "90.0" in alarm.state.reason
    assert scheduler.streamed_evaluations == 5
    p50, p99 = scheduler.lags()
    assert p50 == pytest.approx(0.5) and p99 == pytest.approx(0.5)


async def test_a_late_datum_for_an_evaluated_period_re_evaluates_at_once(world):
    store, clock, ingest, scheduler = world
    stream(scheduler)
    await scheduler.run_once()
    scheduler.observe(METRIC, [datum(10.0, T0 + 10, clock.now())])
    clock.set(T0 - 5 + 60.5)
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.OK
    clock.set(T0 - 5 + 62)
    scheduler.observe(METRIC, [datum(99.0, T0 + 20, clock.now())])  # late, for 10:00
    assert scheduler.next_due() == pytest.approx(clock.now() + 0.1)
    clock.advance(0.1)
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.ALARM


async def test_an_alarm_whose_data_stopped_is_still_evaluated_each_period(world):
    store, clock, ingest, scheduler = world
    await put(store, config("quiet", treat_missing_data="breaching"), T0)
    stream(scheduler)
    await scheduler.run_once()
    for minute in (1, 2, 3):
        clock.set(T0 - 5 + 60 * minute + 0.5)
        assert await scheduler.run_once() == 2
    assert await _state(store, "quiet") is AlarmState.ALARM  # missing data treated as breaching
    assert await _state(store) is AlarmState.INSUFFICIENT_DATA


async def test_datums_streamed_while_the_backfill_reads_count_once(world):
    store, clock, ingest, scheduler = world
    ingest.values[T0 - 5] = 50.0  # already stored: the backfill reads it
    stream(scheduler)
    await scheduler.run_once(wait=False)  # the read is started, not yet answered ...
    started = clock.now()
    scheduler.observe(METRIC, [datum(50.0, T0 - 5, started - 0.01),  # acknowledged before the read: counted by it
                               datum(85.0, T0 + 1, started + 0.01)])  # after: held and applied
    await scheduler.run_once()
    [entry] = scheduler._entries.values()
    assert entry.window is not None
    [point] = entry.window.datapoints(clock.now())
    assert (point.value, point.sample_count) == (85.0, 2.0)


async def test_a_backfill_waits_until_ingest_forwards_the_new_metric(world):
    store, clock, ingest, scheduler = world
    stream(scheduler)
    await scheduler.run_once()
    assert len(ingest.backfills) == 1
    await put(store, config("mem", metric_name="Mem"), T0)  # a new metric: the watched set changes
    await scheduler.run_once()
    assert len(ingest.backfills) == 1  # ingest has not picked up the new version yet
    scheduler.registry.acknowledge("ingest-1", scheduler.registry.version)
    await scheduler.run_once()
    assert len(ingest.backfills) == 2


async def test_ownership_lost_and_gained(world):
    store, clock, ingest, scheduler = world
    stream(scheduler)
    await scheduler.run_once()
    owned = {"cpu": False}
    scheduler.registry.owns = lambda account, name: owned.get(name, True)
    assert scheduler.registry.recheck_ownership() == (0, 1)
    assert METRIC not in scheduler.registry.by_metric  # ingest stops forwarding it
    clock.set(T0 - 5 + 60.5)
    assert await scheduler.run_once() == 0
    owned["cpu"] = True
    assert scheduler.registry.recheck_ownership() == (1, 0)
    scheduler.registry.acknowledge("ingest-1", scheduler.registry.version)
    await scheduler.run_once()
    assert len(ingest.backfills) == 2  # gained: filled again
    clock.set(T0 - 5 + 120.5)
    assert await scheduler.run_once() == 1


async def test_an_unreachable_ingest_leaves_the_state_alone(world):
    store, clock, ingest, scheduler = world
    ingest.down = True
    clock.advance(60)
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.INSUFFICIENT_DATA
    assert [h for h in await store.history("acct") if h.item.item_type == "StateUpdate"] == []


async def test_a_deleted_alarm_is_no_longer_evaluated(world):
    store, clock, ingest, scheduler = world
    await store.delete_alarms("acct", ["cpu"], T0 + 1)
    clock.advance(60)
    assert await scheduler.run_once() == 0
    assert ingest.calls == []
    assert scheduler.registry.by_metric == {}


async def test_the_registry_is_loaded_once_from_the_store(world, async_engine, database):
    store, clock, ingest, scheduler = world
    registry = AlarmRegistry()
    again = WatchedStore(async_engine, database, registry)
    assert await registry.load(again) == 1
    [alarm] = registry.alarms.values()
    assert alarm.state is not None and alarm.state.value is AlarmState.INSUFFICIENT_DATA
    assert list(registry.by_metric) == [METRIC]


async def test_a_reconnected_stream_or_dropped_datums_refill_the_windows(world):
    store, clock, ingest, scheduler = world
    stream(scheduler)
    await scheduler.run_once()
    assert len(ingest.backfills) == 1
    await scheduler.run_once()
    assert len(ingest.backfills) == 1  # nothing new: no read
    scheduler.stream_closed("ingest-1")  # ingest reconnects between two looks at the timers
    scheduler.stream_opened("ingest-1")
    await scheduler.run_once()
    assert len(ingest.backfills) == 2
    scheduler.refill()  # ingest reported dropped datums
    await scheduler.run_once()
    assert len(ingest.backfills) == 3
