"""WalCommitter's bounds and waits, with a scripted store writer (our own interface) and a real log.

What ClickHouse makes of the rows is tests/integration/test_wal_committer.py's business; here the
writer can be held, to see what the committer does while the store is slow or gone.
"""

from __future__ import annotations

import asyncio

import pytest

from services.ingest.commit import WalCommitter
from services.ingest.wal import WriteAheadLog
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.domain.metrics import DatumBatch


def batch(n: int) -> DatumBatch:
    return DatumBatch("App", ["M"] * n, [()] * n, [0.0] * n, [1.0] * n, [1.0] * n, [1.0] * n, [1.0] * n,
                      [(1.0,)] * n, [(1.0,)] * n, ["None"] * n, [60] * n)


class Writer:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, rows, now) -> None:
        await self.gate.wait()
        self.calls.append([seq for _, _, seq in rows])


async def nothing_there(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
    return set()


@pytest.fixture
async def started(tmp_path):
    running = []

    async def start(writer: Writer, **kw) -> WalCommitter:
        c = WalCommitter(WriteAheadLog(tmp_path), writer, nothing_there, FakeClock(), **kw)
        running.append((c, asyncio.create_task(c.run())))
        return c

    yield start
    for c, task in running:
        c.close()
        await asyncio.wait_for(task, 10)


async def test_a_write_is_acknowledged_before_the_store_has_it(started):
    w = Writer()
    w.gate.clear()  # the store is stuck
    c = await started(w)
    await asyncio.wait_for(c.submit("a", batch(3), 0.0, b"request"), 2)  # durable in the log: answered
    assert w.calls == []
    w.gate.set()
    await c.visible("a")
    assert w.calls == [[1]]


async def test_past_the_bound_of_unapplied_rows_writes_get_throttling(started):
    w = Writer()
    w.gate.clear()
    c = await started(w, max_pending_rows=10)
    await c.submit("a", batch(6), 0.0, b"x")
    await c.submit("a", batch(4), 0.0, b"x")
    with pytest.raises(errors.Throttling):
        await c.submit("a", batch(1), 0.0, b"x")
    w.gate.set()
    await c.visible("a")
    await c.submit("a", batch(1), 0.0, b"x")  # room again once applied


async def test_a_read_waits_for_its_accounts_writes_and_gives_up_cleanly(started):
    w = Writer()
    w.gate.clear()
    c = await started(w, read_wait=0.2)
    await c.submit("a", batch(1), 0.0, b"x")
    await asyncio.wait_for(c.visible("b"), 1)  # nothing of b's pending
    with pytest.raises(errors.ServiceUnavailable):
        await c.visible("a")
    w.gate.set()
    await asyncio.wait_for(c.visible("a"), 2)


async def test_concurrent_writes_share_inserts_and_applying_keeps_log_order(started):
    w = Writer()
    w.gate.clear()
    c = await started(w, min_interval=0.0)
    await c.submit("a", batch(1), 0.0, b"x")  # its INSERT starts and is held
    await asyncio.sleep(0.05)
    await asyncio.gather(*(c.submit("a", batch(1), 0.0, b"x") for _ in range(20)))
    w.gate.set()
    await c.visible("a")
    assert [seq for call in w.calls for seq in call] == list(range(1, 22))
    assert len(w.calls) == 2


async def test_records_not_applied_at_shutdown_stay_in_the_log(tmp_path):
    w = Writer()
    w.gate.clear()
    log = WriteAheadLog(tmp_path)
    c = WalCommitter(log, w, nothing_there, FakeClock())
    task = asyncio.create_task(c.run())
    await c.submit("a", batch(2), 5.0, b"payload")
    c.close()
    w.gate.set()  # the store comes back while shutting down: applied after all
    await asyncio.wait_for(task, 10)
    assert w.calls == [[1]]
    assert list(WriteAheadLog(tmp_path).replay()) == []


async def test_a_store_that_never_answers_leaves_the_records_for_the_next_start(tmp_path):
    async def broken(rows, now) -> None:
        raise errors.ServiceUnavailable("store down")

    log = WriteAheadLog(tmp_path)
    c = WalCommitter(log, broken, nothing_there, FakeClock())
    task = asyncio.create_task(c.run())
    await c.submit("a", batch(2), 5.0, b"payload")
    c.close()
    await asyncio.wait_for(task, 30)
    kept = list(WriteAheadLog(tmp_path).replay())
    assert [(r.seq, r.account, r.received, r.payload) for r in kept] == [(1, "a", 5.0, b"payload")]


async def test_a_failed_log_write_refuses_its_callers_and_does_not_hold_up_readers(started, monkeypatch):
    w = Writer()
    c = await started(w)
    await c.submit("a", batch(1), 0.0, b"x")
    await c.visible("a")

    def disk_full(frames: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(c._wal, "append", disk_full)
    with pytest.raises(errors.ServiceUnavailable):
        await c.submit("a", batch(2), 0.0, b"x")
    await asyncio.wait_for(c.visible("a"), 2)  # nothing of a's is pending: no wait for the refused seq
    monkeypatch.undo()
    await c.submit("a", batch(3), 0.0, b"x")
    await c.visible("a")
    assert w.calls == [[1], [3]]
    assert c.pending_rows == 0


async def test_a_shard_that_cannot_take_rows_holds_back_only_its_own_accounts(started, tmp_path):
    """On a cluster store each shard's accounts have their own lane: "b"'s shard is down, "a"'s is not."""
    down = {"b"}
    calls: list[list[tuple[str, int]]] = []

    async def write(rows, now) -> None:
        if {account for account, _, _ in rows} & down:
            raise errors.ServiceUnavailable("shard 2: no replica took the insert")
        calls.append([(account, seq) for account, _, seq in rows])

    c = await started(write, shards=2, shard_of=lambda account: int(account == "b"), read_wait=0.5)
    for account in ("b", "a", "b", "a"):
        await asyncio.wait_for(c.submit(account, batch(1), 0.0, b"request"), 2)
    await asyncio.wait_for(c.visible("a"), 2)  # a's records are in, although b's are older
    assert sorted(x for call in calls for x in call) == [("a", 2), ("a", 4)]
    with pytest.raises(errors.ServiceUnavailable):
        await c.visible("b")
    assert list(WriteAheadLog(tmp_path).replay())[0].seq == 1  # the checkpoint stays before b's first record
    down.clear()  # the shard is back: b's records go in once, in order
    await asyncio.wait_for(c.visible("b"), 10)
    assert [x for call in calls for x in call if x[0] == "b"] == [("b", 1), ("b", 3)]
    assert c.pending_rows == 0
