"""GroupCommitter: many callers, one write, every caller answered with that write's outcome.

The writer is a scripted coroutine (our own interface): it records each batch and can block or
fail on cue. Nothing is acknowledged before its write returns, and a failed write fails exactly
the callers whose rows it carried.
"""

from __future__ import annotations

import asyncio

import pytest

from services.ingest.commit import GroupCommitter, ShardedCommitter
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.domain.metrics import DatumBatch


def batch(n: int, name: str = "M") -> DatumBatch:
    return DatumBatch("App", [name] * n, [()] * n, [0.0] * n, [1.0] * n, [1.0] * n, [1.0] * n, [1.0] * n,
                      [(1.0,)] * n, [(1.0,)] * n, ["None"] * n, [60] * n)


class Writer:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def __call__(self, rows, now) -> None:
        self.calls.append(sum(b.size for _, b in rows))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail


@pytest.fixture
async def running():
    started = []

    async def start(writer: Writer, **kw) -> GroupCommitter:
        committer = GroupCommitter(writer, FakeClock(), **kw)
        started.append((committer, asyncio.create_task(committer.run())))
        return committer

    yield start
    for committer, task in started:
        committer.close()
        await asyncio.wait_for(task, 5)


async def test_callers_wait_for_the_write_and_share_it(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w)
    first = asyncio.create_task(c.submit("a", batch(10)))
    await asyncio.sleep(0.01)  # the first write is under way (blocked)
    others = [asyncio.create_task(c.submit("a", batch(5))) for _ in range(4)]
    await asyncio.sleep(0.01)
    assert not first.done() and not any(t.done() for t in others)  # nothing acknowledged yet
    w.gate.set()
    await asyncio.gather(first, *others)
    assert w.calls == [10, 20]  # the four that came during the first write went in one
    assert c.stats.commits == 2 and c.stats.rows == 30 and c.pending_rows == 0


async def test_a_failed_write_fails_exactly_its_callers(running):
    w = Writer()
    w.fail = errors.ServiceUnavailable("store down")
    c = await running(w)
    results = await asyncio.gather(*(c.submit("a", batch(3)) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, errors.ServiceUnavailable) for r in results)
    w.fail = None
    await c.submit("a", batch(1))
    assert c.stats.failures >= 1 and c.pending_rows == 0


async def test_an_unexpected_write_error_is_service_unavailable(running):
    w = Writer()
    w.fail = RuntimeError("driver bug")
    c = await running(w)
    with pytest.raises(errors.ServiceUnavailable):
        await c.submit("a", batch(1))


async def test_past_the_pending_limit_callers_are_throttled(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w, max_pending_rows=100)
    holding = asyncio.create_task(c.submit("a", batch(80)))
    await asyncio.sleep(0.01)
    with pytest.raises(errors.Throttling) as exc:
        await c.submit("a", batch(30))
    assert exc.value.message == "Rate exceeded"
    w.gate.set()
    await holding
    await c.submit("a", batch(30))  # room again


async def test_batches_respect_max_rows(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w, max_rows=25)
    first = asyncio.create_task(c.submit("a", batch(1)))
    await asyncio.sleep(0.01)
    rest = [asyncio.create_task(c.submit("a", batch(10))) for _ in range(5)]
    await asyncio.sleep(0.01)
    w.gate.set()
    await asyncio.gather(first, *rest)
    assert w.calls == [1, 20, 20, 10]


async def test_a_lone_caller_is_written_at_once(running):
    w = Writer()
    c = await running(w, min_interval=0.3, min_rows=50)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for _ in range(5):  # one request after another: nobody to wait for
        await c.submit("a", batch(1))
    assert loop.time() - t0 < 0.25
    assert w.calls == [1, 1, 1, 1, 1]


async def test_commits_are_spaced_under_concurrency_unless_enough_rows_wait(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w, min_interval=0.3, min_rows=50)
    loop = asyncio.get_running_loop()
    first = asyncio.create_task(c.submit("a", batch(1)))
    await asyncio.sleep(0.01)  # the first write is under way; two callers gather behind it
    pair = [asyncio.create_task(c.submit("a", batch(1))) for _ in range(2)]
    await asyncio.sleep(0.01)
    w.gate.set()
    await asyncio.gather(first, *pair)
    t0 = loop.time()
    await c.submit("a", batch(1))  # the last commit served two callers: wait out the interval
    assert loop.time() - t0 >= 0.25
    await asyncio.gather(*(c.submit("a", batch(1)) for _ in range(2)))  # again a shared commit
    t1 = loop.time()
    await asyncio.gather(*(c.submit("a", batch(10)) for _ in range(5)))  # 50 rows: no wait
    assert loop.time() - t1 < 0.2
    assert w.calls == [1, 2, 1, 2, 50]


async def test_a_cancelled_caller_does_not_cancel_the_shared_write(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w)
    impatient = asyncio.create_task(c.submit("a", batch(2)))
    patient = asyncio.create_task(c.submit("a", batch(3)))
    await asyncio.sleep(0.01)
    impatient.cancel()
    w.gate.set()
    await patient
    assert sum(w.calls) == 5


async def test_a_caller_that_gives_up_while_queued_is_never_written(running):
    w = Writer()
    w.gate = asyncio.Event()
    c = await running(w)
    first = asyncio.create_task(c.submit("a", batch(2)))  # in a write (blocked)
    await asyncio.sleep(0.01)
    gave_up = asyncio.create_task(c.submit("a", batch(3)))  # queued behind it
    stays = asyncio.create_task(c.submit("a", batch(4)))
    await asyncio.sleep(0.01)
    gave_up.cancel()  # its deadline passed: its client is told it failed and will retry
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    assert c.pending_rows == 6
    w.gate.set()
    await asyncio.gather(first, stays)
    assert w.calls == [2, 4] and c.pending_rows == 0


async def test_close_drains_then_refuses():
    w = Writer()
    c = GroupCommitter(w, FakeClock())
    task = asyncio.create_task(c.run())
    pending = asyncio.create_task(c.submit("a", batch(4)))
    await asyncio.sleep(0)
    c.close()
    await pending
    await asyncio.wait_for(task, 5)
    with pytest.raises(errors.ServiceUnavailable):
        await c.submit("a", batch(1))
    assert w.calls == [4]


async def test_a_stalled_shard_refuses_new_callers_at_once_and_the_other_shard_goes_on(running):
    stuck, healthy = Writer(), Writer()
    stuck.gate = asyncio.Event()  # shard 0's write hangs (a replica died under it)
    shards = [await running(stuck), await running(healthy)]
    c = ShardedCommitter(shards, lambda account: int(account == "b"), stall_after=0.05)
    first = asyncio.create_task(c.submit("a", batch(2)))
    await asyncio.sleep(0.01)
    queued = asyncio.create_task(c.submit("a", batch(3)))  # before the stall shows: queued behind it
    await asyncio.sleep(0.1)
    with pytest.raises(errors.ServiceUnavailable):  # now refused at once, nothing of it queued
        await asyncio.wait_for(c.submit("a", batch(4)), 1)
    await asyncio.wait_for(c.submit("b", batch(5)), 1)  # the other shard is not held up
    assert healthy.calls == [5] and c.pending_rows == 5  # shard 0: the write under way and the queued caller
    stuck.gate.set()
    await asyncio.gather(first, queued)
    assert stuck.calls == [2, 3]
    await asyncio.wait_for(c.submit("a", batch(1)), 1)  # the stall is over
