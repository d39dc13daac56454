"""The alarm scheduler as a timeline: a fake clock, a fake ingest, the real store on both engines.

Each step moves the clock, runs one pass and checks what was evaluated and what the store holds,
as Prometheus' ``rules/alerting_test.go`` walks a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from services.alarm.domain import AlarmState, Datapoint, initial_state
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig
from services.alarm.scheduler import Scheduler
from services.alarm.store import AlarmStore
from services.alarm.topics import NotificationStore
from services.alarm.writer import AlarmWriter
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.store import AsyncEngine

T0 = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC).timestamp()  # five seconds into a minute
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"


class FakeIngest:
    """Per-minute values by period start; records what it was asked."""

    def __init__(self) -> None:
        self.values: dict[float, float] = {}
        self.calls: list[tuple[str, datetime, datetime]] = []
        self.down = False

    async def __call__(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Datapoint]:
        self.calls.append((account, start, end))
        if self.down:
            raise errors.ServiceUnavailable("ingest is down")
        return [Datapoint(from_epoch(t), v, 1.0) for t, v in self.values.items()
                if start.timestamp() <= t < end.timestamp()]


@pytest.fixture
async def world(async_engine: AsyncEngine, database: str):
    store = AlarmStore(async_engine, database)
    await store.ensure_schema()
    config = AlarmConfig(name="cpu", namespace="App", metric_name="CPU", dimensions=(), period=60,
                         evaluation_periods=1, threshold=80.0, comparison_operator="GreaterThanThreshold",
                         statistic="Average", alarm_actions=("arn:aws:sns:us-east-1:123456789012:ops",), updated=T0)
    await store.put_alarm("acct", "cpu", ARN, "App", "CPU", config.to_json(), T0)
    await store.write_state("acct", "cpu", initial_state(from_epoch(T0)), T0)
    clock = FakeClock(T0)
    ingest = FakeIngest()
    scheduler = Scheduler(AlarmWriter(store, "us-east-1"), ingest, clock, interval=1.0)
    return store, clock, ingest, scheduler


async def _state(store: AlarmStore) -> AlarmState:
    [alarm] = await store.alarms("acct")
    assert alarm.state is not None
    return alarm.state.value


async def test_an_alarm_is_evaluated_once_per_closed_period(world):
    store, clock, ingest, scheduler = world
    assert await scheduler.run_once() == 0  # first sight: wait for the open period to close
    ingest.values[T0 - 5] = 95.0  # the minute 10:00, closing at 10:01
    clock.advance(30)
    assert await scheduler.run_once() == 0  # 10:00:35: still open
    clock.advance(30)
    assert await scheduler.run_once() == 1  # 10:01:05: closed
    assert await _state(store) is AlarmState.ALARM
    account, start, end = ingest.calls[-1]
    assert account == "acct"
    assert (end - start).total_seconds() == 3 * 60  # N + 2 periods
    assert await scheduler.run_once() == 0  # same period: not again
    clock.advance(60)
    ingest.values[T0 + 55] = 10.0  # the minute 10:01
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.OK
    history = await store.history("acct", ascending=True)
    assert [(h.item.item_type, h.item.summary) for h in history] == [
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
        ("StateUpdate", "Alarm updated from ALARM to OK"),
    ]
    # the ALARM action waits in the outbox for the dispatcher (which writes its Action item)
    [due] = await NotificationStore(store.engine, store.database).pending()
    assert (due.alarm_name, due.target) == ("cpu", "arn:aws:sns:us-east-1:123456789012:ops")


async def test_an_unreachable_ingest_leaves_the_state_alone(world):
    store, clock, ingest, scheduler = world
    await scheduler.run_once()
    ingest.down = True
    clock.advance(60)
    assert await scheduler.run_once() == 1
    assert await _state(store) is AlarmState.INSUFFICIENT_DATA
    assert await store.history("acct") == []


async def test_a_deleted_alarm_is_no_longer_evaluated(world):
    store, clock, ingest, scheduler = world
    await scheduler.run_once()
    await store.delete_alarms("acct", ["cpu"], T0 + 1)
    clock.advance(60)
    assert await scheduler.run_once() == 0
    assert ingest.calls == []
