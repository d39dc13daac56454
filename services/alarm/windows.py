"""Per-alarm, per-period aggregates of streamed datums: what a single-metric alarm evaluates.

Pure (no I/O, no clock): the scheduler feeds each alarm's :class:`AlarmWindow` with the datums
ingest streams (:meth:`AlarmWindow.add`) and with what a backfill read from GetMetricStatistics
(:meth:`AlarmWindow.backfill`), and asks it for the per-period :class:`Datapoint` values the
domain's :func:`~services.alarm.domain.evaluate` takes (:meth:`AlarmWindow.datapoints`).

**What a period keeps.** Per unit (GetMetricStatistics groups by period and unit, and an alarm
without a Unit evaluates the first unit in order, as the fetch path does): the statistic set
(SampleCount, Sum, Minimum, Maximum), merged as ingest's store merges rows, and, for percentile
alarms only, the histogram of raw values (value -> count). Values come from ``Value``,
``Values``/``Counts`` or a statistic set that pins every sample (ingest already reduced datums to
that form). The value of the alarm's statistic is then ingest's own
:func:`~services.ingest.domain.statistic_value`, so a streamed period gives the number
GetMetricStatistics would: percentiles are withheld when part of the period came as a bare
statistic set, or when a value is negative, exactly as there.

**Backfilled periods** hold the numbers ingest answered (basic statistics and the percentile),
not raw values. A later datum for such a period merges into its statistic set, which keeps the
basic statistics exact; a percentile cannot be merged that way, so the window reports
:attr:`AlarmWindow.stale` and the scheduler backfills again before the next evaluation.

**What is kept.** Periods from the oldest one of the evaluation range (N + 2 periods back from the
last closed one) on; :meth:`AlarmWindow.prune` drops older ones. Datums older than that are
refused by :meth:`AlarmWindow.add` (they could not change an evaluation), future ones are kept.
Memory per alarm is one small record per period with data, plus the distinct values of percentile
alarms.

**Late data.** :meth:`AlarmWindow.add` returns the start of the period it changed; the scheduler
compares it with the newest period it has evaluated and re-evaluates when a closed period in the
range changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.alarm.domain import Datapoint
from services.alarm.domain.model import from_epoch
from services.ingest.domain import Statistic, parse_statistic, statistic_value
from stackwatch.domain.metrics import StatisticSet


@dataclass(slots=True)
class PeriodAggregate:
    """One period's data of one unit.

    Attributes:
        sample_count: SampleCount.
        total: Sum.
        minimum: Minimum.
        maximum: Maximum.
        histogram: raw value -> count (percentile alarms; None when not kept).
        fixed: the statistic's value as a backfill read it (None: compute from the rest).
        backfilled: whether the period came from a backfill (its histogram is unknown).
    """

    sample_count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    histogram: dict[float, float] | None = None
    fixed: float | None = None
    backfilled: bool = False


@dataclass(frozen=True, slots=True)
class Backfilled:
    """One period of one unit as GetMetricStatistics answered it.

    Attributes:
        start: the period's start, epoch seconds.
        unit: its unit.
        stats: its SampleCount, Sum, Minimum and Maximum.
        percentile: the alarm's percentile, for a percentile alarm (None when ingest withheld it).
    """

    start: int
    unit: str
    stats: StatisticSet
    percentile: float | None = None


@dataclass(slots=True)
class AlarmWindow:
    """The periods one single-metric alarm evaluates.

    Args:
        period: the alarm's period in seconds.
        periods: the evaluation range in periods (N + 2).
        statistic: the alarm's Statistic or ExtendedStatistic.
        unit: the alarm's Unit (None: any unit; the first in order is evaluated).
    """

    period: int
    periods: int
    statistic: str
    unit: str | None = None
    buckets: dict[int, dict[str, PeriodAggregate]] = field(default_factory=dict)
    stale: bool = False
    _stat: Statistic = field(init=False)

    def __post_init__(self) -> None:
        """Parse the statistic once."""
        self._stat = parse_statistic(self.statistic)

    @property
    def percentile(self) -> bool:
        """Whether the statistic needs raw values."""
        return self._stat.needs_values

    def oldest_kept(self, now: float) -> int:
        """The start of the oldest period of the evaluation range at ``now``."""
        newest_closed = math.floor(now / self.period) * self.period - self.period
        return int(newest_closed - (self.periods - 1) * self.period)

    def add(self, now: float, timestamp: float, unit: str, stats: StatisticSet, values: Sequence[float],
            counts: Sequence[float]) -> int | None:
        """Merge one datum; the start of the period it changed, or None if it was not kept.

        Not kept: a unit other than the alarm's, or a period older than the evaluation range.
        """
        if self.unit is not None and unit != self.unit:
            return None
        start = int(math.floor(timestamp) // self.period * self.period)  # whole seconds, as the store buckets
        if start < self.oldest_kept(now):
            return None
        units = self.buckets.setdefault(start, {})
        agg = units.get(unit)
        if agg is None:
            agg = units[unit] = PeriodAggregate(histogram={} if self.percentile else None)
        agg.sample_count += stats.sample_count
        agg.total += stats.sum
        agg.minimum = min(agg.minimum, stats.minimum)
        agg.maximum = max(agg.maximum, stats.maximum)
        if agg.backfilled and self.percentile:
            self.stale = True  # the backfilled percentile cannot take the new values in
        if agg.histogram is not None:
            for v, c in zip(values, counts, strict=True):
                if c > 0:
                    agg.histogram[v] = agg.histogram.get(v, 0.0) + c
        return start

    def backfill(self, periods: Iterable[Backfilled]) -> None:
        """Replace every period with what a backfill read."""
        self.buckets.clear()
        self.stale = False
        for p in periods:
            s = p.stats
            self.buckets.setdefault(p.start, {})[p.unit] = PeriodAggregate(
                s.sample_count, s.sum, s.minimum, s.maximum, None, p.percentile, backfilled=True)

    def prune(self, now: float) -> None:
        """Drop the periods older than the evaluation range at ``now``."""
        oldest = self.oldest_kept(now)
        for start in [s for s in self.buckets if s < oldest]:
            del self.buckets[start]

    def datapoints(self, now: float) -> list[Datapoint]:
        """One datapoint per period with data (closed or not; the domain picks the range)."""
        out = []
        for start, units in self.buckets.items():
            unit = self.unit if self.unit is not None else min(units)
            agg = units.get(unit)
            if agg is None:
                continue
            value = self.value(agg)
            if value is not None and math.isfinite(value):
                out.append(Datapoint(from_epoch(start), value, agg.sample_count))
        return out

    def value(self, agg: PeriodAggregate) -> float | None:
        """The alarm's statistic over one period (None when there is none, as in GetMetricStatistics)."""
        if agg.backfilled and self.percentile:
            return agg.fixed
        hist = sorted(agg.histogram.items()) if agg.histogram is not None else None
        return statistic_value(self._stat, StatisticSet(agg.sample_count, agg.total, agg.minimum, agg.maximum),
                               hist)
