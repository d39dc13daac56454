"""The evaluation scheduler: each alarm is evaluated when one of its periods closes.

::

    every `interval` seconds (run)         for each alarm whose period closed since it was last evaluated:
      store.all_alarms() ───────────────>    fetch(account, config, range)   GetMetricStatistics on ingest,
                                                                             acting for the alarm's account
                                             lock ─ re-read state ─ evaluate ─ apply_evaluation ─ record ─ unlock

Cost model: one store read per pass for the work list (definitions and states of every alarm),
then per due alarm one ingest call (outside the lock), one read of its current state and, only when
something changed, one or two INSERTs. Up to ``concurrency`` evaluations run at once, so their
ingest calls overlap while their reads and writes take turns on the writer's lock (a few ms each).
A pass with many due alarms takes longer, and the next pass starts ``interval`` seconds after it
ends; a period missed that way is evaluated at the next pass (evaluation looks at the last closed
period whenever it runs).

When an alarm is first seen (created, replaced, or at start) the scheduler notes the period that is
open and evaluates it once that period has closed: a new alarm stays "Unchecked" until its first
period ends. CloudWatch evaluates a new alarm at once; the difference is one period at most.

An evaluation runs within ``interval`` seconds of the period's end, so a datapoint published
later than that for the period just closed misses that evaluation; it is in the evaluation range
of the following ones (N + 2 periods), as CloudWatch's late data is.

Decisions are the domain's (:func:`services.alarm.domain.evaluate`); time comes from the clock and
is passed in. A failed fetch is logged and the alarm waits for its next period.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from services.alarm.domain import AlarmKind, Datapoint, apply_evaluation, evaluate, initial_state, period_starts
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig
from services.alarm.store import StoredAlarm
from services.alarm.writer import AlarmWriter
from stackwatch import errors
from stackwatch.clock import Clock

LOG = logging.getLogger(__name__)

#: ``fetch(account, config, start, end)``: the alarm's per-period datapoints in ``[start, end)``.
Fetch = Callable[[str, AlarmConfig, datetime, datetime], Awaitable[Sequence[Datapoint]]]


class Scheduler:
    """Evaluates alarms as their periods close.

    Args:
        writer: where outcomes go (its lock serializes state changes).
        fetch: how datapoints are fetched.
        clock: the time source.
        interval: seconds between passes.
        concurrency: most evaluations in flight at once (their fetches overlap; their writes take
            turns on the writer's lock).
    """

    def __init__(self, writer: AlarmWriter, fetch: Fetch, clock: Clock, interval: float,
                 concurrency: int = 8) -> None:
        self._writer = writer
        self._slots = asyncio.Semaphore(concurrency)
        self._fetch = fetch
        self._clock = clock
        self._interval = interval
        self._last: dict[tuple[str, str], int] = {}  # (account, name) -> end of the last period evaluated
        self.evaluations = 0

    def forget(self, account: str, name: str) -> None:
        """Treat the alarm as new (after PutMetricAlarm): evaluate it when its open period closes."""
        self._last.pop((account, name), None)

    async def run(self) -> None:
        """Pass after pass until cancelled; a failed pass is logged and the next one comes."""
        while True:
            try:
                await self.run_once()
            except errors.StackWatchError as e:
                LOG.warning("alarm evaluation pass failed: %s", e)
            except Exception:
                LOG.exception("alarm evaluation pass failed")
            await asyncio.sleep(self._interval)

    async def run_once(self) -> int:
        """One pass: evaluate every alarm whose period closed; the number evaluated."""
        now = self._clock.now()
        alarms = await self._writer.store.all_alarms()
        seen = set()
        due: list[tuple[StoredAlarm, AlarmConfig]] = []
        for alarm in alarms:
            key = (alarm.account, alarm.name)
            seen.add(key)
            try:
                config = AlarmConfig.from_json(alarm.config)
            except (ValueError, TypeError, errors.ServiceError):
                LOG.warning("alarm %s of %s: unreadable definition, not evaluated", alarm.name, alarm.account)
                continue
            closed = math.floor(now / config.period) * config.period
            last = self._last.get(key)
            self._last[key] = closed
            if last is not None and closed > last:
                due.append((alarm, config))
        async with asyncio.TaskGroup() as group:
            for alarm, config in due:
                group.create_task(self._bounded(alarm, config, now))
        for key in set(self._last) - seen:
            del self._last[key]
        self.evaluations += len(due)
        return len(due)

    async def _bounded(self, alarm: StoredAlarm, config: AlarmConfig, now: float) -> None:
        async with self._slots:
            try:
                await self._evaluate(alarm, config, now)
            except Exception:  # one alarm's failure must not cancel the others' evaluations
                LOG.exception("alarm %s of %s: evaluation failed", alarm.name, alarm.account)

    async def _evaluate(self, alarm: StoredAlarm, config: AlarmConfig, now: float) -> None:
        moment = from_epoch(now)
        starts = period_starts(config.definition, moment)
        try:
            end = from_epoch(starts[0].timestamp() + config.period)
            points = await self._fetch(alarm.account, config, starts[-1], end)
        except errors.ServiceError as e:
            LOG.warning("alarm %s of %s: datapoints unavailable (%s: %s)", alarm.name, alarm.account, e.code, e.message)
            return
        async with self._writer.lock:
            found = await self._writer.store.alarms(alarm.account, names=[alarm.name])
            current = found[0] if found else None
            if current is None or current.config != alarm.config:
                return  # deleted, or replaced meanwhile (then evaluated when its next period closes)
            state = current.state or initial_state(moment)
            evaluation = evaluate(config.definition, points, moment, state)
            outcome = apply_evaluation(AlarmKind.METRIC, state, evaluation, moment)
            await self._writer.record(alarm.account, alarm.arn, config, state, outcome, now)
