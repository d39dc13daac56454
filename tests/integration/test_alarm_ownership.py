"""Membership against both engines (ClickHouse 18.16 and chDB): heartbeats, joins, deaths, takeover.

Two :class:`Membership` instances share one database as two replicas would; time is a
:class:`FakeClock` they share, moved by the test, and heartbeats are driven by calling
:meth:`Membership.beat` (the loop, off in those tests, does the same every interval); one test
runs the real loop on the system clock.
"""

from __future__ import annotations

import asyncio

import pytest

from services.alarm.ownership import Membership, owner
from stackwatch.clock import FakeClock, SystemClock
from stackwatch.store import AsyncEngine

INTERVAL = 3.0
ALARMS = [(f"acct-{i % 7}", f"alarm-{i}") for i in range(300)]


def _members(engine: AsyncEngine, database: str, clock: FakeClock, *ids: str) -> list[Membership]:
    return [Membership(engine, database, i, clock, INTERVAL) for i in ids]


def _owned(m: Membership) -> set[tuple[str, str]]:
    return {key for key in ALARMS if m.owns(*key)}


async def test_two_replicas_see_each_other_and_split_the_alarms(async_engine, database):
    clock = FakeClock()
    a, b = _members(async_engine, database, clock, "alarm-0", "alarm-1")
    await a.start(loop=False)
    await b.start(loop=False)
    try:
        assert a.members() == [] and b.members() == []  # neither has settled yet: nobody owns
        clock.advance(2 * INTERVAL)
        await a.beat()
        await b.beat()
        assert a.members() == b.members() == ["alarm-0", "alarm-1"]
        mine_a, mine_b = _owned(a), _owned(b)
        assert not mine_a & mine_b, "an alarm owned twice"
        assert mine_a | mine_b == set(ALARMS), "an alarm owned by nobody"
        assert mine_a == {k for k in ALARMS if owner(["alarm-0", "alarm-1"], *k) == "alarm-0"}
        assert 0.35 < len(mine_a) / len(ALARMS) < 0.65
    finally:
        await a.stop()
        await b.stop()


async def test_a_replica_that_stops_heartbeating_is_taken_over_after_the_timeout(async_engine, database):
    clock = FakeClock()
    a, b = _members(async_engine, database, clock, "alarm-0", "alarm-1")
    await a.start(loop=False)
    await b.start(loop=False)
    clock.advance(2 * INTERVAL)
    await a.beat()
    await b.beat()
    generation = a.generation
    held_by_b = _owned(b)
    assert held_by_b and len(_owned(a)) < len(ALARMS)
    # b dies (no stop(), no more heartbeats); a keeps beating.
    for _ in range(2):
        clock.advance(INTERVAL)
        await a.beat()
        assert a.members() == ["alarm-0", "alarm-1"], "dropped before the timeout"
    assert not _owned(b), "b fences itself one interval before the others take over"
    clock.advance(INTERVAL)
    await a.beat()
    assert a.members() == ["alarm-0"]
    assert _owned(a) == set(ALARMS)
    assert a.generation > generation
    await a.stop()


async def test_a_fenced_replica_owns_nothing_even_before_the_others_notice(async_engine, database):
    clock = FakeClock()
    (a,) = _members(async_engine, database, clock, "alarm-0")
    await a.start(loop=False)
    clock.advance(2 * INTERVAL)
    await a.beat()
    assert _owned(a) == set(ALARMS)
    # Heartbeats stop succeeding (here: simply not called); past timeout - interval a owns nothing.
    clock.advance(2 * INTERVAL - 0.001)
    assert _owned(a) == set(ALARMS)
    clock.advance(0.002)
    assert not _owned(a) and a.members() == []
    await a.beat()  # the store is back: a owns again at once (it never left, it was never replaced)
    assert _owned(a) == set(ALARMS)
    await a.stop()


async def test_a_clean_stop_hands_over_at_the_next_read_and_a_newcomer_waits_to_settle(async_engine, database):
    clock = FakeClock()
    a, b = _members(async_engine, database, clock, "alarm-0", "alarm-1")
    await a.start(loop=False)
    clock.advance(2 * INTERVAL)
    await a.beat()
    assert _owned(a) == set(ALARMS)
    await b.start(loop=False)  # joins: a keeps everything until b has settled, by both clocks
    await a.beat()
    assert _owned(a) == set(ALARMS) and not _owned(b)
    clock.advance(INTERVAL)
    await a.beat()
    await b.beat()
    assert _owned(a) == set(ALARMS) and not _owned(b)
    clock.advance(INTERVAL)  # b's start + settle: both switch at this instant without another read
    assert a.members() == b.members() == ["alarm-0", "alarm-1"]  # same instant, no extra read needed
    assert not _owned(a) & _owned(b)
    await b.stop()
    assert not _owned(b), "a stopping replica stops owning before it says so"
    await a.beat()
    assert a.members() == ["alarm-0"] and _owned(a) == set(ALARMS)
    await a.stop()


async def test_a_restart_after_a_crash_keeps_its_place(async_engine, database):
    clock = FakeClock()
    a, b = _members(async_engine, database, clock, "alarm-0", "alarm-1")
    await a.start(loop=False)
    await b.start(loop=False)
    clock.advance(2 * INTERVAL)
    await a.beat()
    await b.beat()
    held = _owned(b)
    # b crashes and its pod comes back with the same name within the timeout.
    clock.advance(INTERVAL)
    (b2,) = _members(async_engine, database, clock, "alarm-1")
    await b2.start(loop=False)
    assert _owned(b2) == held, "nobody took b's alarms, so the new incarnation owns them at once"
    await a.beat()
    assert not _owned(a) & _owned(b2)
    await b2.stop()
    await a.stop()


async def test_the_heartbeat_loop_runs_on_its_own(async_engine, database):
    clock = SystemClock()
    a = Membership(async_engine, database, "alarm-0", clock, 0.2)
    b = Membership(async_engine, database, "alarm-1", clock, 0.2)
    await a.start()
    await b.start()
    try:
        seen = await asyncio.wait_for(a.wait_changed(a.generation), 3)  # settles after 0.4 s
        assert seen >= 1
        async def both() -> None:
            while a.members() != ["alarm-0", "alarm-1"] or b.members() != ["alarm-0", "alarm-1"]:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(both(), 5)
        await b.stop()
        async def alone() -> None:
            while a.members() != ["alarm-0"]:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(alone(), 5)
    finally:
        await a.stop()
        await b.stop()


async def test_a_single_process_owns_everything_and_writes_nothing(async_engine, database):
    m = Membership(async_engine, database, "", FakeClock(), INTERVAL)
    await m.start(loop=False)
    assert all(m.owns(*key) for key in ALARMS) and m.members() == [""]
    [(exists,)] = await async_engine.execute(
        "SELECT count() FROM system.tables WHERE database = %(db)s AND name = 'members'", {"db": database})
    assert exists == 0
    await m.stop()


def test_intervals_that_cannot_work_are_refused(async_engine):
    with pytest.raises(ValueError):
        Membership(async_engine, "db", "alarm-0", FakeClock(), 3.0, timeout=2.0)
    with pytest.raises(ValueError):
        Membership(async_engine, "db", "alarm-0", FakeClock(), 3.0, settle=3.0)


async def test_alarm_service_replicas_register_and_leave(clickhouse_url):
    """Two alarm services with replica ids (as two pods) heartbeat in their database; stopping leaves."""
    import contextlib
    import uuid

    from services.alarm.main import running
    from stackwatch.config import AlarmSettings
    from stackwatch.store import open_engine

    database = f"test_{uuid.uuid4().hex[:12]}"
    key = b"ownership-test-key-0123456789abcdef"

    def settings(replica: str) -> AlarmSettings:  # auth and ingest are never called: there are no alarms
        return AlarmSettings(bind="127.0.0.1:0", store_url=clickhouse_url, database=database, replica_id=replica,
                             heartbeat_interval=0.2, auth_address="127.0.0.1:9", ingest_address="127.0.0.1:9")

    engine = AsyncEngine(open_engine(clickhouse_url), threads=1)
    query = (f"SELECT member, argMax(left, version) FROM {database}.members GROUP BY member ORDER BY member")
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(running(settings("alarm-0"), key))
            await stack.enter_async_context(running(settings("alarm-1"), key))
            await asyncio.sleep(0.5)  # a couple of heartbeats
            assert await engine.execute(query) == [("alarm-0", 0), ("alarm-1", 0)]
        assert await engine.execute(query) == [("alarm-0", 1), ("alarm-1", 1)]
    finally:
        await engine.execute(f"DROP DATABASE IF EXISTS {database}")
        engine.close()


async def test_no_alarm_ever_has_two_owners_through_joins_partitions_and_leaves(async_engine, database):
    """A minute of three replicas beating out of phase, on the store, checked every half second.

    alarm-2 joins at 10 s; alarm-1 loses the store at 25 s (it keeps running and asking
    :meth:`owns`, but its heartbeats fail: the split-brain case); alarm-2 stops cleanly at 45 s.
    At every instant no alarm is owned by two replicas; once things are quiet every alarm has one.
    """
    clock = FakeClock()
    a, b, c = _members(async_engine, database, clock, "alarm-0", "alarm-1", "alarm-2")
    phase = {a: 0.0, b: 1.1, c: 2.3}  # each replica's heartbeat comes at its own moment
    start = clock.now()
    await a.start(loop=False)
    await b.start(loop=False)
    running = {a, b}
    partitioned: set[Membership] = set()
    next_beat = {a: start + phase[a] + INTERVAL, b: start + phase[b] + INTERVAL}
    keys = ALARMS[:200]
    owners_seen: set[tuple[str, ...]] = set()
    for step in range(1, 121):
        clock.set(start + step * 0.5)
        t = step * 0.5
        if t == 10:
            await c.start(loop=False)
            running.add(c)
            next_beat[c] = clock.now() + INTERVAL
        if t == 25:
            partitioned.add(b)
        if t == 45:
            await c.stop()
            running.discard(c)
        for m in sorted(running, key=lambda m: next_beat[m]):
            if clock.now() >= next_beat[m]:
                next_beat[m] += INTERVAL
                if m not in partitioned:
                    await m.beat()
        for key in keys:
            holders = [m.replica_id for m in running if m.owns(*key)]
            assert len(holders) <= 1, f"t={t}: {key} owned by {holders}"
        owners_seen.add(tuple(a.members()))
    # Quiet since 45 s (+ one interval for the others to read that alarm-2 left): alarm-0 owns all.
    assert all(a.owns(*key) for key in keys) and not any(b.owns(*key) for key in keys)
    # The views went through every stage, not only the start and the end.
    assert {("alarm-0", "alarm-1"), ("alarm-0", "alarm-1", "alarm-2"), ("alarm-0", "alarm-2"),
            ("alarm-0",)} <= owners_seen
    await a.stop()
