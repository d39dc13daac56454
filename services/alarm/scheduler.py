"""The evaluation scheduler: each owned alarm is evaluated as soon as one of its periods closes.

::

    ingest ──ObserveDatapoints──> observe(metric, datums) ──> AlarmWindow.add   (per alarm, per period)
                                                                 │ a closed, evaluated period changed
                                                                 v
    timer heap (due = period end + grace) ──> run_once ──> evaluate(definition, window.datapoints(), now)
                                                            lock ─ apply_evaluation ─ record ─ unlock

**Timers, not passes.** Every owned alarm has one entry in a heap keyed by its next due time: the
end of its open period plus ``grace`` (default 0.5 s, for datums still in flight from ingest).
When it comes due it is evaluated and re-armed one period later, whether or not data came, so the
periodic evaluation that covers alarms whose data stopped (TreatMissingData) is the same timer.
The loop sleeps until the earliest due time (at most ``interval``), so a 10-second alarm is
evaluated ~0.5 s after its period closes, not at the next pass of a fixed interval.

**Where the datapoints come from.**

* A single-metric alarm reads its :class:`~services.alarm.windows.AlarmWindow`: per-period
  aggregates of the datums ingest streams right after acknowledging them. An evaluation is then
  pure CPU (no store read, no ingest call): ~830 evaluations a second for 50,000 one-minute
  alarms is affordable on one core.
* A metric-math alarm (its configuration has ``metrics``), and every alarm while no ingest
  instance streams to this process, goes through ``fetch`` (GetMetricStatistics / GetMetricData on
  ingest) at the same due times, as the first scheduler did for all alarms. So an alarm service
  without a streaming ingest still evaluates correctly, only with one ingest call per evaluation.

**Backfill.** A window starts empty, so it is filled once from ingest (``backfill``, the alarm's
evaluation range of GetMetricStatistics) when the alarm is created, replaced in a way that changes
its window, gained by ownership, at start, and when an ingest stream (re)connects (datums may have
been missed while it was away). A backfill waits until every live ingest instance forwards the
alarm's metric (:meth:`AlarmRegistry.synced`), else a datum acknowledged between the read and the
start of forwarding would be lost. Datums streamed while the read is in flight are held back and
applied afterwards only if ingest acknowledged them after the read began (the read, which waits
for every acknowledged write, already counted the others); datums arriving before the read began
are dropped for the same reason. A window that cannot take late data in exactly (a backfilled
percentile period that got more values) is backfilled again before its next evaluation.

**Late data.** A datum for a period that was already evaluated and is still in the evaluation
range re-arms the alarm ``LATE_DELAY`` seconds later (one evaluation per burst), as CloudWatch
re-evaluates with late data.

**Writes.** The state an evaluation starts from is the registry's (kept current by the store's
write hooks), so an evaluation that changes nothing reads and writes nothing: ``record`` is still
called (it owns what happens to actions) and writes only when the outcome carries something. The
writer's lock serializes evaluations with the servicer's writes; an evaluation whose alarm was
replaced or deleted meanwhile is dropped.

Decisions are the domain's (:func:`services.alarm.domain.evaluate`); time comes from the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.alarm.domain import AlarmKind, Datapoint, apply_evaluation, evaluate, initial_state, period_starts
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig
from services.alarm.registry import AlarmKey, AlarmRegistry, MetricKey, RegisteredAlarm, single_metric
from services.alarm.windows import AlarmWindow, Backfilled
from services.alarm.writer import AlarmWriter, StateChange
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.domain.metrics import StatisticSet

LOG = logging.getLogger(__name__)

#: ``fetch(account, config, start, end)``: the alarm's per-period datapoints in ``[start, end)``.
Fetch = Callable[[str, AlarmConfig, datetime, datetime], Awaitable[Sequence[Datapoint]]]
#: ``backfill(account, config, start, end)``: the periods of ``[start, end)`` with their units.
BackfillRead = Callable[[str, AlarmConfig, datetime, datetime], Awaitable[Sequence[Backfilled]]]
#: Seconds between a late datum and the re-evaluation it causes (a burst causes one).
LATE_DELAY = 0.1
#: Seconds between two writes of deferred reason-only state changes.
FLUSH_INTERVAL = 1.0
#: Streamed evaluations decided together and written in one INSERT per table (~60 ms of work),
#: after which the loop lets the stream, the API and the store's answers in.
WRITE_BATCH = 500
#: Evaluation lags kept for :meth:`Scheduler.lags`.
LAG_SAMPLES = 100_000


@dataclass(frozen=True, slots=True)
class Observed:
    """One streamed datum.

    Attributes:
        timestamp: epoch seconds.
        unit: its unit.
        stats: its statistic set.
        values: raw values (may be empty).
        counts: their counts.
        acknowledged: when ingest acknowledged it (epoch seconds).
    """

    timestamp: float
    unit: str
    stats: StatisticSet
    values: Sequence[float]
    counts: Sequence[float]
    acknowledged: float


@dataclass(slots=True)
class _Entry:
    """An owned alarm's scheduling state."""

    alarm: RegisteredAlarm
    window: AlarmWindow | None
    due: float = math.inf
    generation: int = 0
    evaluated: int = -1  # end of the newest period evaluated
    ready: bool = False  # window backfilled
    missed: bool = False  # an evaluation came due while the window was filling
    fill: int = 0  # the current backfill's token (a newer one supersedes a read in flight)
    backfill_started: float | None = None  # clock time the backfill read began
    held: list[Observed] = field(default_factory=list)


def _window_for(config: AlarmConfig) -> AlarmWindow | None:
    if not single_metric(config):
        return None
    return AlarmWindow(config.period, config.definition.evaluation_range,
                       config.statistic or config.extended_statistic or "", config.unit)


def _same_window(a: AlarmConfig, b: AlarmConfig) -> bool:
    return (a.namespace, a.metric_name, sorted(a.dimensions), a.period, a.evaluation_periods, a.statistic,
            a.extended_statistic, a.unit) == (b.namespace, b.metric_name, sorted(b.dimensions), b.period,
                                              b.evaluation_periods, b.statistic, b.extended_statistic, b.unit)


class Scheduler:
    """Evaluates owned alarms as their periods close (see the module docstring).

    Args:
        writer: where outcomes go (its lock serializes state changes); its store must be a
            :class:`~services.alarm.registry.WatchedStore`.
        fetch: how datapoints are fetched for alarms not on the stream.
        clock: the time source.
        interval: longest sleep between two looks at the timers (and the ownership check period).
        registry: the alarm registry (the writer's store's by default).
        backfill: how windows are filled; None: every alarm uses ``fetch``.
        grace: seconds after a period's end before it is evaluated.
        concurrency: most fetches in flight at once.
        backfill_concurrency: most backfills in flight at once. A backfill waits for ingest to
            have stored the account's acknowledged writes (up to its apply interval, ~1 s), so at
            start or after a reconnect, thousands of them overlap that wait rather than queue on it.
    """

    def __init__(self, writer: AlarmWriter, fetch: Fetch, clock: Clock, interval: float, *,
                 registry: AlarmRegistry | None = None, backfill: BackfillRead | None = None,
                 grace: float = 0.5, concurrency: int = 8, backfill_concurrency: int = 128) -> None:
        self._writer = writer
        found = registry if registry is not None else getattr(writer.store, "registry", None)
        if not isinstance(found, AlarmRegistry):
            raise TypeError("the scheduler needs an AlarmRegistry (a WatchedStore's)")
        self.registry: AlarmRegistry = found
        self.registry.listener = self
        self._fetch = fetch
        self._backfill = backfill
        self._clock = clock
        self._interval = interval
        self._grace = grace
        self._slots = asyncio.Semaphore(concurrency)
        self._backfill_slots = asyncio.Semaphore(backfill_concurrency)
        self._entries: dict[AlarmKey, _Entry] = {}
        self._heap: list[tuple[float, int, int, AlarmKey, int]] = []  # (due, period, seq, key, generation)
        self._seq = 0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._to_backfill: set[AlarmKey] = set()
        self._streams: dict[str, int] = {}
        self._live: frozenset[str] = frozenset()
        self._refill = False
        self.evaluations = 0
        self.streamed_evaluations = 0
        self.backfills = 0
        self.observed = 0
        self.lag: deque[float] = deque(maxlen=LAG_SAMPLES)

    # -- the registry's listener ---------------------------------------------------------------
    def added(self, alarm: RegisteredAlarm) -> None:
        """An owned alarm appeared or was replaced: keep its window if it still fits, else a new one."""
        old = self._entries.get(alarm.key)
        if old is not None and old.window is not None and _same_window(old.alarm.config, alarm.config):
            old.alarm = alarm
            return
        window = _window_for(alarm.config)
        entry = _Entry(alarm, window)
        if old is not None:
            entry.generation = old.generation + 1
        self._entries[alarm.key] = entry
        if window is not None:
            self._to_backfill.add(alarm.key)
        p = alarm.config.period
        self._arm(entry, math.floor(self._clock.now() / p) * p + p + self._grace)

    def removed(self, key: AlarmKey) -> None:
        """An alarm was deleted or lost: its timer and window go."""
        self._entries.pop(key, None)
        self._to_backfill.discard(key)

    def forget(self, account: str, name: str) -> None:
        """Kept for the servicer's PutMetricAlarm hook: the store's hook already re-registered the alarm."""

    # -- the stream ----------------------------------------------------------------------------
    def stream_opened(self, sender: str) -> None:
        """An ingest instance opened its ObserveDatapoints stream (it may have missed datums: refill)."""
        self._streams[sender] = self._streams.get(sender, 0) + 1
        self.refill()

    def refill(self) -> None:
        """Fill every window from ingest again (a stream opened, or ingest dropped datums)."""
        self._refill = True
        self._wake.set()

    def stream_closed(self, sender: str) -> None:
        """An ingest instance's stream ended."""
        left = self._streams.get(sender, 0) - 1
        if left > 0:
            self._streams[sender] = left
        else:
            self._streams.pop(sender, None)
        self._wake.set()

    @property
    def streaming(self) -> bool:
        """Whether single-metric alarms are fed by the stream: every live ingest instance has one open."""
        live = set(self.registry.live_instances())
        return self._backfill is not None and bool(live) and live <= set(self._streams)

    def observe(self, metric: MetricKey, datums: Sequence[Observed]) -> bool:
        """Feed one metric's streamed datums to the windows of its alarms; False if none watches it."""
        keys = self.registry.by_metric.get(metric)
        if not keys:
            return False
        now = self._clock.now()
        self.observed += len(datums)
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or entry.window is None:
                continue
            if not entry.ready:
                if entry.backfill_started is not None:  # the read is in flight: decide when it is done
                    entry.held.extend(datums)
                continue  # no read yet: the coming read counts these
            self._add(entry, datums, now)
        return True

    def _add(self, entry: _Entry, datums: Sequence[Observed], now: float) -> None:
        window = entry.window
        assert window is not None
        late = False
        for d in datums:
            start = window.add(now, d.timestamp, d.unit, d.stats, d.values, d.counts)
            if start is not None and start + window.period <= entry.evaluated:
                late = True
        if window.stale:
            entry.ready = False
            self._to_backfill.add(entry.alarm.key)
            self._wake.set()
        elif late and entry.due > now + LATE_DELAY:
            self._arm(entry, now + LATE_DELAY)

    # -- timers ----------------------------------------------------------------------------------
    def _arm(self, entry: _Entry, due: float) -> None:
        entry.generation += 1
        entry.due = due
        self._seq += 1
        heapq.heappush(self._heap, (due, entry.alarm.config.period, self._seq, entry.alarm.key, entry.generation))
        if self._heap[0][3] == entry.alarm.key:
            self._wake.set()

    def next_due(self) -> float:
        """The earliest due time (inf when nothing is scheduled)."""
        while self._heap:
            due, _, _, key, generation = self._heap[0]
            entry = self._entries.get(key)
            if entry is not None and entry.generation == generation:
                return due
            heapq.heappop(self._heap)
        return math.inf

    async def start(self) -> int:
        """Load the registry (every definition and state, once); the number of alarms held."""
        count = await self.registry.load(self._writer.store)
        for alarm in list(self.registry.alarms.values()):
            if alarm.owned and alarm.key not in self._entries:
                self.added(alarm)
        return count

    async def run(self, ownership_interval: float = 10.0, reload_interval: float = 0.0) -> None:
        """Evaluate until cancelled; re-check ownership (and reload, if asked) every so often."""
        loop = asyncio.get_running_loop()
        checked = reloaded = flushed = loop.time()
        try:
            while True:
                try:
                    await self.run_once(wait=False)
                    if loop.time() - flushed >= FLUSH_INTERVAL:
                        flushed = loop.time()
                        await self.flush()
                    if loop.time() - checked >= ownership_interval:
                        checked = loop.time()
                        self.registry.recheck_ownership()
                    if reload_interval and loop.time() - reloaded >= reload_interval:
                        reloaded = loop.time()
                        await self.flush()
                        await self.registry.reload(self._writer.store)
                except errors.StackWatchError as e:
                    LOG.warning("alarm evaluation failed: %s", e)
                except Exception:
                    LOG.exception("alarm evaluation failed")
                delay = min(max(self.next_due() - self._clock.now(), 0.005), self._interval)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
        finally:
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush())

    async def flush(self) -> None:
        """Write the deferred reason-only state changes (see :class:`WatchedStore`)."""
        flush = getattr(self._writer.store, "flush", None)
        if flush is not None:
            async with self._writer.lock:
                await flush()

    async def run_once(self, wait: bool = True) -> int:
        """Evaluate every alarm that is due, start the backfills that may start; the number evaluated.

        Args:
            wait: wait for the fetches and backfills started (tests); the loop does not.
        """
        self._check_streams()
        self._start_backfills()
        now = self._clock.now()
        streamed: list[_Entry] = []
        count = 0
        while self.next_due() <= now:
            key = heapq.heappop(self._heap)[3]
            entry = self._entries[key]
            p = entry.alarm.config.period
            closed = math.floor(now / p) * p
            self._arm(entry, closed + p + self._grace)
            if entry.window is not None and self.streaming:
                if entry.ready:
                    streamed.append(entry)
                else:
                    entry.missed = True  # evaluated as soon as the window is filled
                continue
            count += 1
            self._spawn(self._fetched(entry, now))
        for first in range(0, len(streamed), WRITE_BATCH):  # shortest periods first (the heap's order)
            batch = streamed[first:first + WRITE_BATCH]
            await self._evaluate_batch(batch, now)
            count += len(batch)
            await asyncio.sleep(0)  # let the stream, the API and the store's answers in during a burst
        self.streamed_evaluations += len(streamed)
        self.evaluations += count
        if wait:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
        return count

    def _spawn(self, work: Awaitable[None], slots: asyncio.Semaphore | None = None) -> None:
        async def bounded() -> None:
            async with slots or self._slots:
                await work

        task = asyncio.ensure_future(bounded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_streams(self) -> None:
        """A newly streaming ingest instance, or one that dropped datums, may have missed some: refill."""
        live = frozenset(self._streams) if self.streaming else frozenset()
        if live and (self._refill or live - self._live):
            self._refill = False
            for key, entry in self._entries.items():
                if entry.window is not None:
                    entry.ready = False
                    entry.backfill_started = None
                    entry.fill += 1
                    entry.held.clear()
                    self._to_backfill.add(key)
        self._live = live

    def _start_backfills(self) -> None:
        if self._backfill is None or not self.streaming:
            return
        for key in list(self._to_backfill):
            entry = self._entries.get(key)
            if entry is None:
                self._to_backfill.discard(key)
                continue
            if not self.registry.synced(entry.alarm.version):
                continue
            self._to_backfill.discard(key)
            entry.ready = False
            entry.held.clear()
            entry.backfill_started = self._clock.now()
            entry.fill += 1
            self._spawn(self._filled(entry, entry.fill), self._backfill_slots)

    # -- evaluation ------------------------------------------------------------------------------
    async def _filled(self, entry: _Entry, fill: int) -> None:
        assert self._backfill is not None and entry.window is not None
        alarm = entry.alarm
        started = entry.backfill_started or 0.0
        now = self._clock.now()
        starts = period_starts(alarm.config.definition, from_epoch(now))
        try:
            periods = await self._backfill(alarm.account, alarm.config, starts[-1],
                                           from_epoch(math.floor(now / alarm.config.period) * alarm.config.period
                                                      + alarm.config.period))
        except errors.ServiceError as e:
            LOG.warning("alarm %s of %s: backfill failed (%s: %s); trying again", alarm.name, alarm.account,
                        e.code, e.message)
            if self._entries.get(alarm.key) is entry and entry.fill == fill:
                entry.backfill_started = None
                self._to_backfill.add(alarm.key)
            return
        if self._entries.get(alarm.key) is not entry or entry.fill != fill:
            return  # deleted, replaced or refilled meanwhile
        entry.window.backfill(periods)
        held, entry.held = entry.held, []
        entry.backfill_started = None
        entry.ready = True
        self.backfills += 1
        now = self._clock.now()
        self._add(entry, [d for d in held if d.acknowledged >= started], now)
        if entry.missed:
            entry.missed = False
            self._arm(entry, now)  # a due evaluation was skipped while the window filled

    async def _fetched(self, entry: _Entry, now: float) -> None:
        alarm = entry.alarm
        starts = period_starts(alarm.config.definition, from_epoch(now))
        try:
            end = from_epoch(starts[0].timestamp() + alarm.config.period)
            points = await self._fetch(alarm.account, alarm.config, starts[-1], end)
        except errors.ServiceError as e:
            LOG.warning("alarm %s of %s: datapoints unavailable (%s: %s)", alarm.name, alarm.account, e.code,
                        e.message)
            return
        await self._evaluate(entry, points, now)

    async def _evaluate_batch(self, entries: Sequence[_Entry], now: float) -> None:
        """Evaluate streamed alarms from their windows and write what changed in one INSERT per table.

        A burst (every 1-minute alarm closes its period at the same second) would otherwise be one
        or two INSERTs per alarm that changes, one after another under the writer's lock.
        """
        moment = from_epoch(now)
        changes: list[StateChange] = []
        async with self._writer.lock:
            for entry in entries:
                alarm = entry.alarm
                if self.registry.alarms.get(alarm.key) is not alarm or self._entries.get(alarm.key) is not entry:
                    continue  # deleted, or replaced meanwhile
                try:
                    state = alarm.state or initial_state(moment)
                    points = entry.window.datapoints(now) if entry.window else []
                    evaluation = evaluate(alarm.config.definition, points, moment, state)
                    outcome = apply_evaluation(AlarmKind.METRIC, state, evaluation, moment)
                except Exception:  # one alarm's failure must not stop the others' evaluations
                    LOG.exception("alarm %s of %s: evaluation failed", alarm.name, alarm.account)
                    continue
                changes.append(StateChange(alarm.account, alarm.arn, alarm.config, state, outcome))
            try:
                await self._writer.record_many(changes, now)
            except Exception:
                LOG.exception("%d alarm evaluations could not be written", len(changes))
                return
        for entry in entries:
            self._evaluated(entry, now)

    def _evaluated(self, entry: _Entry, now: float) -> None:
        p = entry.alarm.config.period
        closed = math.floor(now / p) * p
        if closed > entry.evaluated:  # a period's first evaluation (not a late-data one)
            self.lag.append(now - closed)
            entry.evaluated = closed
        if entry.window is not None:
            entry.window.prune(now)

    async def _evaluate(self, entry: _Entry, points: Sequence[Datapoint], now: float) -> None:
        alarm = entry.alarm
        config = alarm.config
        moment = from_epoch(now)
        try:
            async with self._writer.lock:
                if self.registry.alarms.get(alarm.key) is not alarm or self._entries.get(alarm.key) is not entry:
                    return  # deleted, or replaced meanwhile (then evaluated when its next period closes)
                state = alarm.state or initial_state(moment)
                evaluation = evaluate(config.definition, points, moment, state)
                outcome = apply_evaluation(AlarmKind.METRIC, state, evaluation, moment)
                await self._writer.record(alarm.account, alarm.arn, config, state, outcome, now)
        except Exception:  # one alarm's failure must not stop the others' evaluations
            LOG.exception("alarm %s of %s: evaluation failed", alarm.name, alarm.account)
            return
        self._evaluated(entry, now)

    def lags(self) -> tuple[float, float]:
        """(p50, p99) of the seconds between a period's end and its evaluation, over recent evaluations."""
        if not self.lag:
            return math.nan, math.nan
        ordered = sorted(self.lag)
        return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
