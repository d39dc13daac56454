"""WalCommitter over a real store (ClickHouse 18.16 and chDB): acknowledged means in ClickHouse exactly once.

The log is real (a temporary directory), the store is real, the requests are real
PutMetricDataRequest messages, and replay validates them again as ingest does at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.ingest.commit import WalCommitter, WalRow
from services.ingest.servicer import decode_record, validate
from services.ingest.store import MetricStore
from services.ingest.wal import WriteAheadLog, encode
from stackwatch.clock import FakeClock
from stackwatch.domain.metrics import series_id
from stackwatch.proto.metrics.v1 import metrics_pb2
from stackwatch.store import StoreUnavailable
from tests.integration.datums import ACCOUNT_A, ACCOUNT_B, T0

MIDNIGHT = T0 - 8 * 3600  # T0 is 08:00 UTC


def request(*stamps_and_values: tuple[float, float], name: str = "Latency") -> metrics_pb2.PutMetricDataRequest:
    req = metrics_pb2.PutMetricDataRequest(namespace="App")
    for t, v in stamps_and_values:
        d = req.metric_data.add(metric_name=name, value=v)
        d.timestamp.FromNanoseconds(int(t * 1e9))
    return req


def committer(store: MetricStore, log: WriteAheadLog, clock: FakeClock, **kw: float) -> WalCommitter:
    async def write(rows: Sequence[WalRow], now: float) -> None:
        await store.insert(rows, now, log.wal_id)

    async def present(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
        return await store.logged_rows(log.wal_id, first, last, since, shard)

    return WalCommitter(log, write, present, clock, **kw)


async def stored(store: MetricStore, account: str, name: str = "Latency") -> list[tuple[int, float]]:
    """(count, sum) of every period of an hour-long bucketing around MIDNIGHT (two days)."""
    sid = series_id(account, "App", name, ())
    rows = await store.statistics(account, sid, MIDNIGHT - 3 * 3600, MIDNIGHT + 3 * 3600, 3600, None)
    return [(int(n), s) for _, _, n, s, _, _ in rows]


async def test_acknowledged_writes_are_visible_to_reads_and_stored_once(store, tmp_path):
    clock = FakeClock(MIDNIGHT + 3600)
    log = WriteAheadLog(tmp_path)
    c = committer(store, log, clock, min_interval=0.05)
    task = asyncio.create_task(c.run())
    for i in range(5):  # one at a time, then many at once
        req = request((MIDNIGHT + 60 * i, 1.0))
        await c.submit(ACCOUNT_A, validate(req, clock.now()), clock.now(), req.SerializeToString())
    reqs = [request((MIDNIGHT - 60 * i, 2.0)) for i in range(1, 41)]
    await asyncio.gather(*(c.submit(ACCOUNT_A, validate(r, clock.now()), clock.now(), r.SerializeToString())
                           for r in reqs))
    await c.visible(ACCOUNT_A)
    assert await stored(store, ACCOUNT_A) == [(40, 80.0), (5, 5.0)]
    await c.visible(ACCOUNT_B)  # nothing of B's pending: returns at once
    c.close()
    await asyncio.wait_for(task, 10)
    assert c.stats.rows == 45 and c.stats.commits < 45  # concurrent records shared INSERTs
    assert list(WriteAheadLog(tmp_path).replay()) == []  # all checkpointed


async def test_replay_inserts_exactly_what_clickhouse_does_not_hold(store, tmp_path):
    received = MIDNIGHT + 3600
    log = WriteAheadLog(tmp_path)
    reqs = [request((MIDNIGHT - 600, 1.0), (MIDNIGHT + 600, 10.0)) for _ in range(4)]  # each spans two days
    log.append(b"".join(encode(seq, received, ACCOUNT_A, r.SerializeToString()) for seq, r in enumerate(reqs, 1)))
    log.close()
    # The crash came after record 1 reached ClickHouse whole and record 2 only in part (the
    # earlier day's partition), before the checkpoint said so.
    batch = validate(reqs[0], received)
    await store.insert([(ACCOUNT_A, batch, 1)], received, log.wal_id)
    earlier = validate(request((MIDNIGHT - 600, 1.0)), received)
    await store.insert([(ACCOUNT_A, earlier, 2)], received, log.wal_id)

    reopened = WriteAheadLog(tmp_path)
    c = committer(store, reopened, FakeClock(received + 5))
    assert c.recover(decode_record) == 4
    task = asyncio.create_task(c.run())
    await c.visible(ACCOUNT_A)
    c.close()
    await asyncio.wait_for(task, 10)
    assert await stored(store, ACCOUNT_A) == [(4, 4.0), (4, 40.0)]
    assert c.stats.rows == 8  # every datum of the four records counts as applied, whoever inserted it
    assert list(WriteAheadLog(tmp_path).replay()) == []


async def test_an_insert_whose_outcome_was_lost_is_not_repeated(store, tmp_path):
    clock = FakeClock(MIDNIGHT + 3600)
    log = WriteAheadLog(tmp_path)
    calls = {"n": 0}

    async def write(rows: Sequence[WalRow], now: float) -> None:
        calls["n"] += 1
        await store.insert(rows, now, log.wal_id)
        if calls["n"] == 1:  # the rows went in, but the answer never came back
            raise StoreUnavailable("connection reset by peer")

    async def present(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
        return await store.logged_rows(log.wal_id, first, last, since, shard)

    c = WalCommitter(log, write, present, clock)
    task = asyncio.create_task(c.run())
    req = request((MIDNIGHT + 5, 3.0), (MIDNIGHT + 6, 4.0))
    await c.submit(ACCOUNT_B, validate(req, clock.now()), clock.now(), req.SerializeToString())
    await c.visible(ACCOUNT_B)
    c.close()
    await asyncio.wait_for(task, 10)
    assert calls["n"] == 1 and c.stats.failures == 1  # the check found every row there: no second INSERT
    assert await stored(store, ACCOUNT_B) == [(2, 7.0)]


async def test_rows_raw_took_while_the_rollup_views_failed_are_rolled_up_by_the_retry(store, async_engine,
                                                                                     tmp_path):
    """The retry skips rows raw took and repairs their rollup windows from raw.

    A view that throws fails the INSERT after raw's part is written (the engine fails for real).
    """
    clock = FakeClock(MIDNIGHT + 3600)
    log = WriteAheadLog(tmp_path)
    db = store.database
    await async_engine.execute(f"CREATE TABLE {db}.sink (x UInt8) ENGINE = Null")
    await async_engine.execute(f"CREATE MATERIALIZED VIEW {db}.aaa_sabotage TO {db}.sink AS"
                               f" SELECT throwIf(sum(count) > 0) AS x FROM {db}.raw")
    calls = {"n": 0}

    async def write(rows: Sequence[WalRow], now: float) -> None:
        calls["n"] += 1
        try:
            await store.insert(rows, now, log.wal_id)
        finally:
            if calls["n"] == 1:  # the disk is free again, say
                await async_engine.execute(f"DROP TABLE {db}.aaa_sabotage")

    async def present(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
        return await store.logged_rows(log.wal_id, first, last, since, shard)

    async def repair(first: int, last: int, since: int, shard: int | None) -> int:
        return await store.repair_rollups(log.wal_id, first, last, since, shard)

    c = WalCommitter(log, write, present, clock, repair=repair)
    task = asyncio.create_task(c.run())
    req = request((MIDNIGHT + 5, 3.0), (MIDNIGHT + 400, 4.0), (MIDNIGHT + 4000, 5.0))
    await c.submit(ACCOUNT_A, validate(req, clock.now()), clock.now(), req.SerializeToString())
    await c.visible(ACCOUNT_A)
    c.close()
    await asyncio.wait_for(task, 10)
    assert calls["n"] == 1 and c.stats.failures == 1  # the retry found every row in raw: no second INSERT
    sid = series_id(ACCOUNT_A, "App", "Latency", ())
    for tier in (0, 300, 3600):
        got = await store.statistics(ACCOUNT_A, sid, MIDNIGHT, MIDNIGHT + 7200, 3600, None, tier=tier)
        assert [(b, n, s, lo, hi) for b, _, n, s, lo, hi in got] == [
            (MIDNIGHT, 2.0, 7.0, 3.0, 4.0), (MIDNIGHT + 3600, 1.0, 5.0, 5.0, 5.0)]
