"""GetMetricStatistics: the request checked and planned, and each period bucket made a Datapoint.

:func:`plan_query` turns the request's time range, period and statistics into a :class:`QueryPlan`
(or raises CloudWatch's error); the servicer asks the store for the plan's buckets and hands each
one, with its histogram, to :func:`datapoint`. The plan follows CloudWatch's documented behaviour:

**Validation**, in this order: Period is 1, 5, 10, 20, 30 or a multiple of 60; StartTime is before
EndTime (compared in whole seconds, so both in the same second is an error); Statistics or
ExtendedStatistics is given (both together is accepted, as CloudWatch does); at most 5 basic
statistics, each one of ``SampleCount, Average, Sum, Minimum, Maximum``; at most 10 extended
statistics, each a percentile ``p0``..``p100`` (other extended statistics, such as ``tm99``, are
refused); Unit, when given, is one of the 27 standard units; the range holds at most 1,440
periods. Where the model states the rule (Period at least 1, the statistic and unit sets, the
list sizes) the message is the one the gateway gives for it, since gRPC callers reach this check
without passing the gateway.

**Rounding.** The start is rounded down by how old it is (``now - start``), and buckets are
aligned to the rounded start. The age also decides the finest period CloudWatch still keeps;
a finer period is not an error, the answer is just empty::

    age of StartTime     start rounded down to          periods that return data
    ------------------   ----------------------------   ------------------------------
    <= 3 hours           the period if < 60, else 60 s  any valid period
    3 hours - 15 days    the minute                     multiples of 60
    15 - 63 days         5 minutes                      multiples of 300
    > 63 days            the hour                       multiples of 3600

An age of exactly 15 days falls in the 15-63 band, exactly 63 days still in it. The end is
exclusive and rounded up to the second. The datapoint count is that of the range requested,
``ceil((end - start) / period)`` with the times as given (to the millisecond), not rounded: the
rounding is CloudWatch's doing, not the caller's request, so a day of minutes starting at
12:00:30 is 1,440 datapoints and accepted (CloudWatch accepts it), though its buckets, aligned to
12:00:00, may reach into a 1,441st minute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from services.ingest.domain._identity import check_size
from services.ingest.domain._statistics import (
    BASIC_STATISTICS,
    has_exact_percentiles,
    parse_percentile,
    percentiles,
)
from services.ingest.domain._validate import STANDARD_UNITS
from stackwatch import errors

SUB_MINUTE_PERIODS = (1, 5, 10, 20, 30)
_UNITS = frozenset(STANDARD_UNITS)
_BASIC_LISTED = ", ".join(BASIC_STATISTICS)
MAX_DATAPOINTS = 1440
MAX_STATISTICS = 5
MAX_EXTENDED = 10

HOUR = 3600
DAY = 86400
#: (age upper bound, bound included?, start rounding, period multiple that returns data), by age.
_BANDS: tuple[tuple[float, bool, int, int], ...] = (
    (3 * HOUR, True, 60, 1),  # sub-minute periods round by the period instead (see _band)
    (15 * DAY, False, 60, 60),
    (63 * DAY, True, 300, 300),
    (math.inf, True, 3600, 3600),
)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """What a valid GetMetricStatistics request asks the store for.

    Attributes:
        start: rounded start, epoch seconds, inclusive; buckets start at ``start + k * period``.
        end: end, epoch seconds, exclusive (the request's end rounded up to the second).
        period: bucket length in seconds.
        statistics: the basic statistics requested, as requested.
        extended: the extended statistics requested, as requested.
        percentiles: ``(name, fraction)`` for each distinct requested percentile, e.g.
            ``("p99", 0.99)``.
        datapoints: how many buckets the plan spans, ``ceil((end - start) / period)``: the
            requested range holds at most 1,440 periods, and the rounded start may add one.
        empty: True when the period is finer than CloudWatch keeps for data this old: the answer
            is no datapoints, and the store need not be asked.
        unit: only data of this unit counts; ``None``: every unit, each bucket per unit.
    """

    start: int
    end: int
    period: int
    statistics: tuple[str, ...]
    extended: tuple[str, ...]
    percentiles: tuple[tuple[str, float], ...]
    datapoints: int
    empty: bool
    unit: str | None = None


class Bucket(NamedTuple):
    """One period of one unit, as the store aggregates it (see ``MetricStore.statistics``).

    A ``NamedTuple`` (immutable, and cheap to build: a day of minutes is 1,440 of them per request,
    and a frozen dataclass costs several times as much to construct).

    Attributes:
        start: the bucket's start, epoch seconds.
        unit: the unit of the data in it.
        sample_count: the number of samples.
        sum: their sum.
        minimum: the smallest sample.
        maximum: the largest sample.
    """

    start: int
    unit: str
    sample_count: float
    sum: float
    minimum: float
    maximum: float


def plan_query(start: float, end: float, period: int, now: float, *,
               statistics: Sequence[str], extended: Sequence[str], unit: str | None = None) -> QueryPlan:
    """Validate a GetMetricStatistics request and plan its buckets (see the module docstring).

    Args:
        start: ``StartTime``, epoch seconds.
        end: ``EndTime``, epoch seconds.
        period: ``Period``, seconds.
        now: the current time, epoch seconds; the age of ``start`` is measured from it.
        statistics: ``Statistics``.
        extended: ``ExtendedStatistics``.
        unit: ``Unit``; ``None`` when absent.

    Returns:
        The plan; ``plan.empty`` when the period is too fine for the start's age.

    Raises:
        InvalidParameterValue: a bad period, start not before end, an unknown statistic, an
            invalid percentile, too many statistics, or an unknown unit.
        InvalidParameterCombination: neither Statistics nor ExtendedStatistics, or more than
            1,440 datapoints.
    """
    check_period(period)
    check_time_range(start, end)
    pcts = _check_statistics(statistics, extended)
    check_unit(unit)
    count = requested_datapoints(start, end, period)
    if count > MAX_DATAPOINTS:
        raise errors.InvalidParameterCombination(
            f"You have requested up to {count:,} datapoints, which exceeds the limit of 1,440. You may "
            "reduce the datapoints requested by increasing Period, or decreasing the time range.")
    first, last, empty = rounded_range(start, end, period, now)
    return QueryPlan(start=first, end=last, period=period, statistics=tuple(statistics),
                     extended=tuple(extended), percentiles=pcts, unit=unit, datapoints=-(-(last - first) // period),
                     empty=empty)


def check_period(period: int, path: str = "Period") -> None:
    """Raise CloudWatch's ``InvalidParameterValue`` unless ``period`` is 1, 5, 10, 20, 30 or a multiple of 60.

    Args:
        period: the period, seconds.
        path: the parameter's query-style name in the message.
    """
    if period < 1:
        raise errors.InvalidParameterValue(f"The parameter {path} must be greater than or equal to 1.")
    if period in SUB_MINUTE_PERIODS:
        return
    if period < 60:
        raise errors.InvalidParameterValue(
            f"The parameter {path} must be 1, 5, 10, 20, 30, or a multiple of 60.")
    if period % 60:
        raise errors.InvalidParameterValue(f"The parameter {path} must be a multiple of 60.")


def check_time_range(start: float, end: float) -> None:
    """Raise ``InvalidParameterValue`` unless StartTime is before EndTime (in whole seconds)."""
    if math.floor(start) >= math.floor(end):
        raise errors.InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")


def check_unit(unit: str | None, path: str = "Unit") -> None:
    """Raise ``InvalidParameterValue`` unless ``unit`` is absent or one of the 27 standard units."""
    if unit is not None and unit not in _UNITS:
        raise errors.InvalidParameterValue(
            f"The parameter {path} must be a value in the set [ {', '.join(STANDARD_UNITS)} ].")


def requested_datapoints(start: float, end: float, period: int) -> int:
    """How many periods the range the caller asked for holds, to the millisecond, before rounding."""
    return -(-(round(end * 1000) - round(start * 1000)) // (period * 1000))


def rounded_range(start: float, end: float, period: int, now: float) -> tuple[int, int, bool]:
    """The buckets' range as CloudWatch rounds it: ``(first bucket start, exclusive end, empty)``.

    ``empty`` is True when ``period`` is finer than CloudWatch keeps for a start this old (see the
    module docstring): the answer is then no data, not an error.
    """
    rounding, multiple = _band(now - start, period)
    return math.floor(start) // rounding * rounding, math.ceil(end), period % multiple != 0


def _check_statistics(statistics: Sequence[str], extended: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """Validate the requested statistics; the distinct percentiles as ``(name, fraction)``."""
    if not statistics and not extended:
        raise errors.InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    check_size(statistics, "Statistics", MAX_STATISTICS)
    for i, name in enumerate(statistics, 1):
        if name not in BASIC_STATISTICS:
            raise errors.InvalidParameterValue(
                f"The parameter Statistics.member.{i} must be a value in the set [ {_BASIC_LISTED} ].")
    check_size(extended, "ExtendedStatistics", MAX_EXTENDED)
    found: dict[str, float] = {}
    for i, name in enumerate(extended, 1):
        q = parse_percentile(name)
        if q is None:
            raise errors.InvalidParameterValue(
                f"The value {name} for parameter ExtendedStatistics.member.{i} is invalid. "
                "Specify a percentile between p0.0 and p100.")
        found.setdefault(name, q)
    return tuple(found.items())


def _band(age: float, period: int) -> tuple[int, int]:
    """(start rounding, period multiple that returns data) for a start ``age`` seconds old."""
    for bound, inclusive, rounding, multiple in _BANDS:
        if age < bound or (inclusive and age == bound):
            if multiple == 1 and period in SUB_MINUTE_PERIODS:
                return period, multiple
            return rounding, multiple
    raise AssertionError("unreachable: the last band is unbounded")  # pragma: no cover


def datapoint(plan: QueryPlan, bucket: Bucket,
              histogram: Sequence[tuple[float, float]] | None) -> dict[str, Any]:
    """The CloudWatch ``Datapoint`` of one bucket: only the statistics the plan asks for.

    Args:
        plan: the query's plan.
        bucket: the bucket's statistic set.
        histogram: the bucket's distinct values with summed counts, sorted by value
            (``MetricStore.histograms``); ``None`` when the bucket has none.

    Returns:
        ``{"Timestamp": bucket start (int epoch seconds), "Unit": ..., <each requested basic
        statistic>: float, "ExtendedStatistics": {name: float}}``. ``Average`` is Sum/SampleCount.
        ``ExtendedStatistics`` holds the requested percentiles, exact and nearest-rank; it is
        left out entirely when no percentile can be given, which is when there is no histogram,
        when the histogram counts fewer samples than the bucket (part of the data arrived as
        statistic sets only), or when the bucket has a negative value, as CloudWatch does.
    """
    out: dict[str, Any] = {"Timestamp": bucket.start, "Unit": bucket.unit}
    for name in plan.statistics:
        if name == "Average":
            if bucket.sample_count > 0:
                out[name] = bucket.sum / bucket.sample_count
        else:
            out[name] = getattr(bucket, _BASIC_FIELDS[name])
    wanted = plan.percentiles
    if wanted and has_exact_percentiles(histogram, bucket.sample_count, bucket.minimum):
        assert histogram is not None
        values = percentiles(histogram, [q for _, q in wanted])
        out["ExtendedStatistics"] = dict(zip([name for name, _ in wanted], values, strict=True))
    return out


_BASIC_FIELDS = {"SampleCount": "sample_count", "Sum": "sum", "Minimum": "minimum", "Maximum": "maximum"}

