"""Committers: how an acknowledged PutMetricData reaches ClickHouse.

Two of them, one interface (``submit``, ``visible``, ``run``, ``close``, ``stats``):

:class:`GroupCommitter`  acknowledges after the INSERT that carries the caller's rows.
:class:`WalCommitter`    acknowledges after the write-ahead log's ``fdatasync``
                         (:mod:`services.ingest.wal`) and INSERTs behind; what ``stackwatch up``
                         and ingest with ``STACKWATCH_INGEST_WAL_DIR`` use.

Group commit: many concurrent PutMetricData calls, one INSERT, every caller answered after it.

Each INSERT costs 10-15 ms whatever its size, so writing per request caps throughput at ~80
requests a second. Instead, :meth:`GroupCommitter.submit` queues the caller's rows and waits; a
single writer task takes *everything* queued (up to ``max_rows``), writes it in one call, and then
resolves every waiting caller with the outcome. While one INSERT runs, the next batch gathers, so
batches grow with load and latency stays one or two INSERTs long.

Commits start at most every ``min_interval`` seconds, unless ``min_rows`` are already waiting.
What an INSERT costs ClickHouse is mostly per part, not per row: measured on 18.16, about 45 ms of
server CPU per insert whatever its size, so 2,500-row inserts cost 20 µs a row and 10,000-row
inserts 4 µs. Spacing commits turns load into bigger batches instead of more parts. A lone
client is written at once: the wait only applies when the previous commit served several callers
(there is concurrency to gather) and began less than ``min_interval`` ago. And a busy one does
not wait at all once a batch of ``min_rows`` has gathered, which is big enough to be cheap.

::

    submit() ──┐                      ┌── future.set_result(None)   (durable: 200 to the client)
    submit() ──┼──> queue ──> writer ─┤
    submit() ──┘   (bounded)  one     └── future.set_exception(e)   (nothing acknowledged)
                              INSERT

The queue is bounded by rows: past ``max_pending_rows`` a submit fails at once with ``Throttling``,
which AWS SDKs retry with backoff, instead of growing memory without limit.

A caller that gives up (its gRPC deadline passes, so the gateway answers its client with an error
and the client retries) is taken out of the queue if its rows are not in a write yet: they are
never written, so its retry cannot store them twice. Rows already in a write share its outcome;
the gateway's deadline for PutMetricData (``GatewaySettings.put_timeout``) is meant to outlast the
longest write, so that it does not answer while one is still under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from services.ingest.wal import Record, WriteAheadLog, encode_parts
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.domain.metrics import DatumBatch

LOG = logging.getLogger(__name__)

Row = tuple[str, DatumBatch]
Writer = Callable[[Sequence[Row], float], Awaitable[None]]


class Committer(Protocol):
    """What the servicer needs of a committer."""

    keeps_requests: bool
    """Whether :meth:`submit` needs the serialized request (a log replays it)."""

    @property
    def stats(self) -> CommitStats:
        """Counters for logs and benchmarks."""
        ...

    async def submit(self, account: str, batch: DatumBatch, received: float, payload: bytes) -> None:
        """Return once ``batch`` is durable (or raise)."""
        ...

    async def visible(self, account: str) -> None:
        """Return once every write of ``account`` acknowledged so far can be read."""
        ...


@dataclass
class _Pending:
    rows: list[Row]
    size: int
    future: asyncio.Future[None] = field(repr=False)


@dataclass
class CommitStats:
    """Counters for logs and benchmarks."""

    commits: int = 0
    rows: int = 0
    failures: int = 0
    largest_batch: int = 0
    write_seconds: float = 0.0
    slowest_write: float = 0.0

    def committed(self, rows: int) -> None:
        """Count one successful write of ``rows``."""
        self.commits += 1
        self.rows += rows
        self.largest_batch = max(self.largest_batch, rows)

    def timed(self, seconds: float) -> None:
        """Count the time one write took."""
        self.write_seconds += seconds
        self.slowest_write = max(self.slowest_write, seconds)


S = TypeVar("S")


def _take_up_to(queue: deque[S], max_rows: int, size: Callable[[S], int]) -> list[S]:
    """Everything queued, oldest first, up to ``max_rows`` rows (at least one item)."""
    taken: list[S] = []
    n = 0
    while queue and (not taken or n + size(queue[0]) <= max_rows):
        item = queue.popleft()
        taken.append(item)
        n += size(item)
    return taken


async def _pause(wake: asyncio.Event, until: float, done: Callable[[], bool]) -> None:
    """Wait until the loop's clock reaches ``until``, rechecking ``done()`` whenever ``wake`` is set."""
    loop = asyncio.get_running_loop()
    while not done():
        delay = until - loop.time()
        if delay <= 0:
            return
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), delay)


class GroupCommitter:
    """Coalesces concurrent writes into single store calls. Run :meth:`run` as a task."""

    keeps_requests = False

    def __init__(self, write: Writer, clock: Clock, *, max_rows: int = 100_000,
                 max_pending_rows: int = 1_000_000, min_interval: float = 0.0, min_rows: int = 5000) -> None:
        self._write = write
        self._clock = clock
        self._max_rows = max_rows
        self._max_pending = max_pending_rows
        self._min_interval = min_interval
        self._min_rows = min(min_rows, max_rows)
        self._last_start = float("-inf")
        self._last_callers = 0
        self._queue: deque[_Pending] = deque()
        self._pending_rows = 0
        self._wake = asyncio.Event()
        self._closed = False
        self._writing_since: float | None = None
        self.stats = CommitStats()

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet written."""
        return self._pending_rows

    def writing_for(self) -> float:
        """Seconds the write under way has taken so far (0 when none is)."""
        if self._writing_since is None:
            return 0.0
        return asyncio.get_running_loop().time() - self._writing_since

    async def submit(self, account: str, batch: DatumBatch, received: float = 0.0, payload: bytes = b"") -> None:
        """Queue ``batch`` of ``account`` and return once it is durable (or raise).

        ``received`` and ``payload`` are what a write-ahead log would keep (see :class:`WalCommitter`);
        the group commit writes the batch itself and ignores them.
        """
        if self._closed:
            raise errors.ServiceUnavailable("The service is shutting down. Please retry.")
        size = batch.size
        if self._pending_rows + size > self._max_pending:
            raise errors.Throttling("Rate exceeded")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending = _Pending([(account, batch)], size, fut)
        self._queue.append(pending)
        self._pending_rows += size
        self._wake.set()
        try:
            await asyncio.shield(fut)  # a cancelled caller must not cancel the shared write
        except asyncio.CancelledError:
            self._withdraw(pending)
            raise

    def _withdraw(self, pending: _Pending) -> None:
        """Take a caller that gave up out of the queue, if its rows are not in a write yet.

        Its caller is cancelled when its deadline passes: the gateway then answers the client
        with an error, and the client retries. Rows written after that would be stored twice.
        """
        for i, queued in enumerate(self._queue):
            if queued is pending:
                del self._queue[i]
                self._pending_rows -= pending.size
                return

    async def run(self) -> None:
        """Write batches until :meth:`close` is called and the queue is drained."""
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._space_out()
            batch = _take_up_to(self._queue, self._max_rows, attrgetter("size"))
            self._last_callers = len(batch)
            rows = [r for p in batch for r in p.rows]
            size = sum(p.size for p in batch)
            started = self._writing_since = asyncio.get_running_loop().time()
            try:
                await self._write(rows, self._clock.now())
            except Exception as e:  # every waiter learns the outcome; nothing is acknowledged
                self.stats.failures += 1
                LOG.warning("group commit of %d rows failed: %s", size, e)
                err = e if isinstance(e, errors.ServiceError) else errors.ServiceUnavailable(
                    "The metric store is unavailable. Please retry.")
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(err)
            else:
                self.stats.committed(size)
                for p in batch:
                    if not p.future.done():
                        p.future.set_result(None)
            finally:
                self._writing_since = None
                self._pending_rows -= size
                self.stats.timed(asyncio.get_running_loop().time() - started)

    async def _space_out(self) -> None:
        """Wait until ``min_interval`` has passed since the last commit began, or ``min_rows`` wait.

        Only under concurrency: when the last commit served a single caller, nobody else is
        writing, and the next caller is written at once instead of waiting out the interval.
        """
        if self._last_callers > 1:
            await _pause(self._wake, self._last_start + self._min_interval,
                         lambda: self._closed or self._pending_rows >= self._min_rows)
        self._last_start = asyncio.get_running_loop().time()

    async def visible(self, account: str) -> None:
        """Every acknowledged write is already in ClickHouse: nothing to wait for."""

    def close(self) -> None:
        """Stop accepting; :meth:`run` returns after writing what is queued."""
        self._closed = True
        self._wake.set()


class ShardedCommitter:
    """One :class:`GroupCommitter` per shard of a cluster store, each writing only its shard's accounts.

    A PutMetricData request belongs to one account, and all of an account's rows live on one
    shard (``stackwatch.store.shard_of``), so each request goes whole to its shard's committer,
    whose INSERT touches that shard alone. When a shard cannot take an INSERT, only the callers
    batched for it fail (503, retryable), and nothing of theirs was written, so the client's retry
    cannot duplicate rows; the other shards' callers are not held up. Batches form per shard.

    A shard whose write has been under way for ``stall_after`` seconds (a replica died under it:
    the quorum wait, then resends of a block of unknown outcome, up to ``insert_quorum_timeout`` +
    ``unknown_wait``) takes no new callers meanwhile: they are answered ``ServiceUnavailable`` at
    once, nothing of theirs written, instead of queueing behind it. Queued, each would hold one of
    the gateway's request turns for as long, and enough of them would throttle every tenant.
    """

    keeps_requests = False

    def __init__(self, committers: Sequence[GroupCommitter], shard_of: Callable[[str], int], *,
                 stall_after: float = 2.0) -> None:
        if not committers:
            raise ValueError("a sharded committer needs at least one shard")
        self._committers = list(committers)
        self._shard_of = shard_of
        self._stall_after = stall_after

    @property
    def stats(self) -> CommitStats:
        """The shards' counters, summed (largest batch and slowest write: the largest of any shard)."""
        out = CommitStats()
        for c in self._committers:
            s = c.stats
            out.commits += s.commits
            out.rows += s.rows
            out.failures += s.failures
            out.write_seconds += s.write_seconds
            out.largest_batch = max(out.largest_batch, s.largest_batch)
            out.slowest_write = max(out.slowest_write, s.slowest_write)
        return out

    @property
    def pending_rows(self) -> int:
        """Rows queued on every shard and not yet written."""
        return sum(c.pending_rows for c in self._committers)

    async def submit(self, account: str, batch: DatumBatch, received: float = 0.0, payload: bytes = b"") -> None:
        """Queue ``batch`` with the committer of ``account``'s shard; return once it is durable (or raise).

        Raises:
            ServiceUnavailable: the shard's write has been stalled for ``stall_after`` seconds.
        """
        committer = self._committers[self._shard_of(account)]
        if committer.writing_for() >= self._stall_after:
            raise errors.ServiceUnavailable("The metric store is unavailable. Please retry.")
        await committer.submit(account, batch, received, payload)

    async def visible(self, account: str) -> None:
        """Acknowledged writes are already in ClickHouse: nothing to wait for."""

    async def run(self) -> None:
        """Run every shard's writer until :meth:`close` and the queues are drained."""
        await asyncio.gather(*(c.run() for c in self._committers))

    def close(self) -> None:
        """Stop accepting on every shard."""
        for c in self._committers:
            c.close()


# -- write-ahead-logged commits ------------------------------------------------------------------

WalRow = tuple[str, DatumBatch, int]
"""(account, batch, seq of the log record it came from)."""
WalWriter = Callable[[Sequence[WalRow], float], Awaitable[None]]
AppliedProbe = Callable[[int, int, int, "int | None"], Awaitable[set[tuple[int, int]]]]
"""(first seq, last seq, earliest timestamp, shard) -> the (seq, day yyyymmdd) pairs of this log ClickHouse
holds (on a cluster, among ``shard``'s rows; None: one store)."""
RollupRepair = Callable[[int, int, int, "int | None"], Awaitable[int]]
"""(first seq, last seq, earliest timestamp, shard) -> make whole the rollup windows of these records' rows in raw."""
Decoder = Callable[[Record], "tuple[str, DatumBatch] | None"]


@dataclass
class _Logged:
    seq: int
    account: str
    batch: DatumBatch
    future: asyncio.Future[None] | None = field(default=None, repr=False)


def _logged_size(item: _Logged) -> int:
    return item.batch.size


def _day(t: float) -> int:
    d = time.gmtime(math.floor(t))
    return d.tm_year * 10000 + d.tm_mon * 100 + d.tm_mday


@dataclass
class _Lane:
    """The records of one shard's accounts on their way to ClickHouse (one lane off a cluster)."""

    shard: int | None = None  # None off a cluster
    queue: deque[_Logged] = field(default_factory=deque)
    busy: list[_Logged] = field(default_factory=list)  # taken: being inserted, or failed and retried
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_start: float = float("-inf")

    def oldest(self) -> int | None:
        """The seq of the oldest record not applied yet, if any."""
        if self.busy:
            return self.busy[0].seq
        return self.queue[0].seq if self.queue else None


def _take(batch: DatumBatch, keep: list[int]) -> DatumBatch:
    """The datums of ``batch`` at the indices ``keep``, in order."""
    columns: list[list[Any]] = [[column[i] for i in keep] for column in batch[1:]]
    return DatumBatch(batch.namespace, *columns)


class WalCommitter:
    """Acknowledges a write once it is in the write-ahead log; applies the log to ClickHouse behind.

    ::

        submit() ──> seq, frame ──> syncer: one write + fdatasync for every frame gathered
                                     │        └─> futures resolved: 200 to the clients (durable)
                                     v
                               unapplied (memory, bounded) ──> applier: one INSERT for all of it,
                                                                every row stamped (wal_id, seq)
                                                                 └─> checkpoint, readers released

    Concurrent submits share one ``fdatasync``, as the group commit shares an INSERT, but a lone
    client waits for its own ``fdatasync`` only (a fraction of a millisecond), never for
    ClickHouse. The applier runs INSERTs at most every ``min_interval`` seconds unless
    ``min_rows`` wait or a reader waits, so load becomes bigger INSERTs, not more of them.

    Reads see every write acknowledged before them: :meth:`visible` waits until the account's
    last logged record is in ClickHouse (the applier hurries when a reader waits).

    Lanes. On a cluster store, records are applied per shard (``shards``, ``shard_of``): each
    shard's accounts have a lane of their own, with its own INSERTs and retries, so a shard that
    cannot take rows holds back only its own accounts' records and reads; the others go on. The
    checkpoint is the oldest record any lane still holds.

    Exactly once. Every row carries the log's id and its record's seq. When an INSERT fails, or
    the process restarts with records after the checkpoint, the applier first asks ClickHouse
    which (seq, day partition) pairs it already holds (an INSERT spanning partitions may land in
    part), and inserts only the rest. It retries failures with backoff until ClickHouse takes
    the rows; acknowledged data is never dropped, and the bound on unapplied rows turns a long
    outage into ``Throttling`` for new writes instead of unbounded memory. Raw's part and the
    rollup views' parts are not one atomic write: for rows raw already holds, ``repair`` (when
    given) makes their rollup windows whole again before the rest is inserted.
    """

    keeps_requests = True

    def __init__(self, wal: WriteAheadLog, write: WalWriter, applied: AppliedProbe, clock: Clock, *,
                 max_rows: int = 100_000, max_pending_rows: int = 1_000_000, min_interval: float = 0.0,
                 min_rows: int = 5000, read_wait: float = 10.0, repair: RollupRepair | None = None,
                 shards: int = 1, shard_of: Callable[[str], int] | None = None) -> None:
        if shards < 1 or (shards > 1 and shard_of is None):
            raise ValueError("several shards need shard_of")
        self._wal = wal
        self._repair = repair
        self._write = write
        self._applied_probe = applied
        self._clock = clock
        self._max_rows = max_rows
        self._max_pending = max_pending_rows
        self._min_interval = min_interval
        self._min_rows = min(min_rows, max_rows)
        self._read_wait = read_wait
        self._frames: list[bytes] = []
        self._unsynced: list[_Logged] = []
        self._lanes = [_Lane(i if shards > 1 else None) for i in range(shards)]
        self._shard_of = shard_of if shards > 1 and shard_of is not None else (lambda account: 0)
        self._pending_rows = 0
        self._next_seq = wal.next_seq
        self._synced_seq = wal.next_seq - 1  # every record up to here is in a lane (or applied)
        self._checkpointed = wal.next_seq - 1
        self._suspect_upto = 0  # records up to here may already be in ClickHouse (replayed)
        self._last_seq: dict[str, int] = {}
        self._readers: list[tuple[_Lane, int, asyncio.Future[None]]] = []
        self._sync_wake = asyncio.Event()
        self._closed = False
        self.stats = CommitStats()
        self.replayed = 0

    @property
    def pending_rows(self) -> int:
        """Rows acknowledged or waiting for the log, and not yet in ClickHouse."""
        return self._pending_rows

    def recover(self, decode: Decoder) -> int:
        """Queue the log's records after the checkpoint for applying; returns how many.

        Call once, before serving. Records whose payload no longer decodes are logged and skipped.
        """
        count = rows = 0
        for rec in self._wal.replay():
            decoded = decode(rec)
            if decoded is None:
                LOG.error("write-ahead log: record %d could not be decoded; skipped", rec.seq)
                continue
            account, batch = decoded
            self._lane(account).queue.append(_Logged(rec.seq, account, batch))
            self._last_seq[account] = rec.seq
            self._synced_seq = rec.seq
            self._pending_rows += batch.size
            self._suspect_upto = rec.seq
            count += 1
            rows += batch.size
        if count:
            self._checkpointed = min(lane.oldest() or self._synced_seq + 1 for lane in self._lanes) - 1
            LOG.info("write-ahead log: %d records (%d datums) after the checkpoint to apply", count, rows)
        self.replayed = count
        return count

    async def submit(self, account: str, batch: DatumBatch, received: float, payload: bytes) -> None:
        """Log ``batch`` of ``account`` and return once the record is on disk (or raise).

        Args:
            account: the account the datums belong to.
            batch: the validated datums.
            received: the time the request was validated at; replay validates again with it.
            payload: the request as it will be replayed (a serialized PutMetricDataRequest).
        """
        if self._closed:
            raise errors.ServiceUnavailable("The service is shutting down. Please retry.")
        size = batch.size
        if self._pending_rows + size > self._max_pending:
            raise errors.Throttling("Rate exceeded")
        seq = self._next_seq
        self._next_seq += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._frames.extend(encode_parts(seq, received, account, payload))
        self._unsynced.append(_Logged(seq, account, batch, fut))
        self._last_seq[account] = seq
        self._pending_rows += size
        self._sync_wake.set()
        await asyncio.shield(fut)

    async def visible(self, account: str) -> None:
        """Return once every write of ``account`` acknowledged so far is in ClickHouse.

        Raises:
            ServiceUnavailable: ClickHouse did not take them within ``read_wait`` seconds.
        """
        target = self._last_seq.get(account, 0)
        lane = self._lane(account)
        if target <= self._applied_upto(lane):
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._readers.append((lane, target, fut))
        lane.wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(fut), self._read_wait)
        except TimeoutError:
            raise errors.ServiceUnavailable("The metric store is unavailable. Please retry.") from None

    async def run(self) -> None:
        """Sync and apply until :meth:`close` is called and everything logged is applied (or given up)."""
        syncer = asyncio.create_task(self._sync_loop(), name="ingest-wal-sync")
        try:
            await self._apply_loop(syncer)
        finally:
            await syncer
            self._wal.close()

    def close(self) -> None:
        """Stop accepting; :meth:`run` returns after syncing what was submitted and applying what it can."""
        self._closed = True
        self._sync_wake.set()
        for lane in self._lanes:
            lane.wake.set()

    # -- syncing ---------------------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        while True:
            if not self._unsynced:
                if self._closed:
                    return
                self._sync_wake.clear()
                await self._sync_wake.wait()
                continue
            frames, logged = self._frames, self._unsynced
            self._frames, self._unsynced = [], []
            try:
                await asyncio.to_thread(self._wal.append, frames)
            except OSError as e:
                LOG.error("write-ahead log: append of %d records failed: %s", len(logged), e)
                err = errors.ServiceUnavailable("The service could not store the data. Please retry.")
                for item in logged:
                    self._pending_rows -= item.batch.size
                    if item.future is not None and not item.future.done():
                        item.future.set_exception(err)
                    # Nothing to apply, but the seq stays in line so that readers waiting for it
                    # (or for later ones) are released when the applier passes it.
                    item.batch, item.future = _take(item.batch, []), None
                self._queue(logged)
                continue
            for item in logged:
                if item.future is not None and not item.future.done():
                    item.future.set_result(None)
                item.future = None
            self._queue(logged)

    def _lane(self, account: str) -> _Lane:
        return self._lanes[self._shard_of(account)]

    def _queue(self, logged: list[_Logged]) -> None:
        """Hand synced records to their lanes."""
        for item in logged:
            lane = self._lane(item.account)
            lane.queue.append(item)
            lane.wake.set()
        if logged:
            self._synced_seq = logged[-1].seq

    def _applied_upto(self, lane: _Lane) -> int:
        """Every record of ``lane`` with a seq up to this one is in ClickHouse."""
        oldest = lane.oldest()
        return self._synced_seq if oldest is None else oldest - 1

    # -- applying --------------------------------------------------------------------------------

    async def _apply_loop(self, syncer: asyncio.Task[None]) -> None:
        await asyncio.gather(*(self._apply_lane(lane, syncer) for lane in self._lanes))

    async def _apply_lane(self, lane: _Lane, syncer: asyncio.Task[None]) -> None:
        backoff = 0.05
        while True:
            if not lane.busy and not lane.queue:
                if self._closed and syncer.done():
                    return
                lane.wake.clear()
                if self._closed:  # the syncer is finishing: wait for it or for its records
                    await asyncio.wait([syncer, asyncio.ensure_future(lane.wake.wait())],
                                       return_when=asyncio.FIRST_COMPLETED)
                else:
                    await lane.wake.wait()
                continue
            retry = bool(lane.busy)
            if not retry:
                await self._space_out(lane)
                lane.busy = _take_up_to(lane.queue, self._max_rows, _logged_size)
            items = lane.busy
            check = retry or items[0].seq <= self._suspect_upto
            size = sum(i.batch.size for i in items)
            started = asyncio.get_running_loop().time()
            try:
                rows = await self._rows(items, check, lane.shard)
                if rows:
                    await self._write(rows, self._clock.now())
            except Exception as e:  # the outcome is unknown: check ClickHouse before the retry
                self.stats.failures += 1
                LOG.warning("write-ahead log: applying records %d-%d (%d rows) failed, retrying in %.1f s: %s",
                            items[0].seq, items[-1].seq, size, backoff, e)
                if self._closed and syncer.done() and backoff >= 1.6:
                    LOG.warning("write-ahead log: shutting down with %d records not applied; they stay in the "
                                "log and are applied at the next start", len(items) + len(lane.queue))
                    return
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.05
            lane.busy = []
            self._applied(size, asyncio.get_running_loop().time() - started)

    async def _rows(self, items: list[_Logged], check: bool, shard: int | None) -> list[WalRow]:
        if not check:
            return [(i.account, i.batch, i.seq) for i in items if i.batch.size]
        earliest = min(min(i.batch.timestamps, default=0.0) for i in items)
        since = math.floor(earliest) - 86400
        present = await self._applied_probe(items[0].seq, items[-1].seq, since, shard)
        rows: list[WalRow] = []
        for i in items:
            if not i.batch.size:
                continue
            days = [_day(t) for t in i.batch.timestamps]
            keep = [k for k, d in enumerate(days) if (i.seq, d) not in present]
            if len(keep) == len(days):
                rows.append((i.account, i.batch, i.seq))
            elif keep:
                rows.append((i.account, _take(i.batch, keep), i.seq))
        skipped = sum(i.batch.size for i in items) - sum(r[1].size for r in rows)
        if skipped:
            LOG.info("write-ahead log: %d datums of records %d-%d were already in ClickHouse; not inserted again",
                     skipped, items[0].seq, items[-1].seq)
            if self._repair is not None:  # raw took them; the views may not have (see repair_rollups)
                await self._repair(items[0].seq, items[-1].seq, since, shard)
        return rows

    def _applied(self, size: int, took: float) -> None:
        self._pending_rows -= size
        self.stats.committed(size)
        self.stats.timed(took)
        upto = min(self._applied_upto(lane) for lane in self._lanes)
        if upto > self._checkpointed:
            self._checkpointed = upto
            try:
                self._wal.checkpoint(upto)
            except OSError as e:  # only a hint for the next start: replay checks ClickHouse anyway
                LOG.warning("write-ahead log: checkpoint failed: %s", e)
        if self._readers:
            waiting = []
            for lane, target, fut in self._readers:
                if target <= self._applied_upto(lane):
                    if not fut.done():
                        fut.set_result(None)
                elif not fut.done():
                    waiting.append((lane, target, fut))
            self._readers = waiting
        if len(self._last_seq) > 10_000:  # forget accounts whose writes are all applied
            self._last_seq = {a: s for a, s in self._last_seq.items() if s > upto}

    async def _space_out(self, lane: _Lane) -> None:
        """Wait until ``min_interval`` since the lane's last INSERT began, unless rows pile up or a reader waits."""
        await _pause(lane.wake, lane.last_start + self._min_interval,
                     lambda: self._closed or bool(self._readers) or self._pending_rows >= self._min_rows)
        lane.last_start = asyncio.get_running_loop().time()
