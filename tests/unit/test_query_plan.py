# ruff: noqa: D103 - test names and ids say what each case checks
"""GetMetricStatistics planning: period rules, time range, statistics, rounding, granularity, limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.domain import QueryPlan, percentiles, plan_query
from services.ingest.domain._statistics import exact_percentiles as definition
from stackwatch import errors

NOW = 1_717_243_200  # 2024-06-01T12:00:00Z, a whole hour
MINUTE, HOUR, DAY = 60, 3600, 86400
IPV, IPC = errors.InvalidParameterValue, errors.InvalidParameterCombination
EX, HINT = "ExtendedStatistics", "Specify a percentile between p0.0 and p100."


def plan(start: float, end: float, period: int = 60, *, statistics: Sequence[str] = ("Sum",),
         extended: Sequence[str] = (), unit: str | None = None) -> QueryPlan:
    return plan_query(start, end, period, float(NOW), statistics=statistics, extended=extended, unit=unit)


def rejected(start: float, end: float, period: int = 60, **kwargs: Any) -> errors.ServiceError:
    with pytest.raises(errors.ServiceError) as info:
        plan(start, end, period, **kwargs)
    return info.value


RECENT = NOW - 10 * MINUTE  # 10 minutes old: every period is fine, the range holds 10 minutes


@pytest.mark.parametrize("period", [1, 5, 10, 20, 30, 60, 120, 300, 3600, 86400, 60 * 1441])
def test_valid_periods(period: int) -> None:
    got = plan(RECENT, NOW, period)

    assert got.period == period and not got.empty


@pytest.mark.parametrize(("period", "message"), [
    pytest.param(0, "The parameter Period must be greater than or equal to 1.", id="0"),
    pytest.param(-60, "The parameter Period must be greater than or equal to 1.", id="negative"),
    pytest.param(2, "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.", id="2"),
    pytest.param(15, "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.", id="15"),
    pytest.param(59, "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.", id="59"),
    pytest.param(61, "The parameter Period must be a multiple of 60.", id="61"),
    pytest.param(90, "The parameter Period must be a multiple of 60.", id="90"),
    pytest.param(3601, "The parameter Period must be a multiple of 60.", id="3601"),
])
def test_invalid_periods(period: int, message: str) -> None:
    got = rejected(RECENT, NOW, period)

    assert (type(got), got.code, got.status) == (IPV, "InvalidParameterValue", 400)
    assert got.message == message


@pytest.mark.parametrize(("start", "end"), [
    pytest.param(NOW, NOW, id="equal"),
    pytest.param(NOW, NOW - 300, id="start-after-end"),
    pytest.param(NOW + 0.2, NOW + 0.9, id="same-second"),
])
def test_start_must_precede_end(start: float, end: float) -> None:
    got = rejected(start, end)

    assert type(got) is IPV
    assert got.message == "The parameter StartTime must be less than the parameter EndTime."


def test_start_one_second_before_end_is_fine() -> None:
    got = plan(NOW - 1.9, NOW - 0.9, 1)

    assert (got.start, got.end, got.datapoints) == (NOW - 2, NOW, 2)


@pytest.mark.parametrize(("statistics", "extended", "error", "message"), [
    pytest.param((), (), IPC, "Must specify either Statistics or ExtendedStatistics", id="neither"),
    pytest.param(("Sum", "Avg"), (), IPV, "The parameter Statistics.member.2 must be a value in the set "
                 "[ SampleCount, Average, Sum, Minimum, Maximum ].", id="unknown-statistic"),
    pytest.param(("average",), (), IPV, "The parameter Statistics.member.1 must be a value in the set "
                 "[ SampleCount, Average, Sum, Minimum, Maximum ].", id="statistic-wrong-case"),
    pytest.param(("p99",), (), IPV, "The parameter Statistics.member.1 must be a value in the set "
                 "[ SampleCount, Average, Sum, Minimum, Maximum ].", id="percentile-in-statistics"),
    pytest.param(("Sum",) * 6, (), IPV, "The collection Statistics must not have a size greater than 5.",
                 id="6-statistics"),
    pytest.param((), ("p99", "p101"), IPV, f"The value p101 for parameter {EX}.member.2 is invalid. {HINT}",
                 id="p101"),
    pytest.param((), ("p-1",), IPV, f"The value p-1 for parameter {EX}.member.1 is invalid. {HINT}",
                 id="p-1"),
    pytest.param((), ("P99",), IPV, f"The value P99 for parameter {EX}.member.1 is invalid. {HINT}",
                 id="uppercase-P99"),
    pytest.param((), ("tm99",), IPV, f"The value tm99 for parameter {EX}.member.1 is invalid. {HINT}",
                 id="trimmed-mean"),
    pytest.param((), ("Average",), IPV, f"The value Average for parameter {EX}.member.1 is invalid. {HINT}",
                 id="basic-as-extended"),
    pytest.param((), ("p1",) * 11, IPV, f"The collection {EX} must not have a size greater than 10.",
                 id="11-extended"),
])
def test_statistics_rules(statistics: tuple[str, ...], extended: tuple[str, ...],
                          error: type[errors.ServiceError], message: str) -> None:
    got = rejected(RECENT, NOW, statistics=statistics, extended=extended)

    assert type(got) is error
    assert got.message == message


def test_requested_statistics_are_kept_as_requested() -> None:
    got = plan(RECENT, NOW, statistics=("Maximum", "Sum", "Maximum"),
               extended=("p99.9", "p0.0", "p100", "p99.9"))

    assert got.statistics == ("Maximum", "Sum", "Maximum")
    assert got.extended == ("p99.9", "p0.0", "p100", "p99.9")
    assert got.percentiles == (("p99.9", 0.999), ("p0.0", 0.0), ("p100", 1.0))


def test_limits_are_inclusive() -> None:
    got = plan(RECENT, NOW, statistics=("SampleCount", "Average", "Sum", "Minimum", "Maximum"),
               extended=tuple(f"p{i}" for i in range(10)))

    assert len(got.statistics) == 5 and len(got.percentiles) == 10


def test_extended_statistics_alone_are_enough() -> None:
    got = plan(RECENT, NOW, statistics=(), extended=("p50",))

    assert got.statistics == () and got.percentiles == (("p50", 0.5),)


# (start, period, rounded start): the start is floored by its age, and sub-minute periods by the period.
@pytest.mark.parametrize(("start", "period", "rounded"), [
    pytest.param(NOW - 10 * MINUTE + 34, 60, NOW - 10 * MINUTE, id="10min-old-to-minute"),
    pytest.param(NOW - 10 * MINUTE + 34.9, 300, NOW - 10 * MINUTE, id="fraction-and-5min-period-to-minute"),
    pytest.param(NOW - HOUR + 23, 1, NOW - HOUR + 23, id="period-1-to-second"),
    pytest.param(NOW - HOUR + 23.7, 1, NOW - HOUR + 23, id="period-1-drops-fraction"),
    pytest.param(NOW - HOUR + 23, 5, NOW - HOUR + 20, id="period-5"),
    pytest.param(NOW - HOUR + 23, 10, NOW - HOUR + 20, id="period-10"),
    pytest.param(NOW - HOUR + 23, 20, NOW - HOUR + 20, id="period-20"),
    pytest.param(NOW - HOUR + 43, 20, NOW - HOUR + 40, id="period-20-second-slot"),
    pytest.param(NOW - HOUR + 23, 30, NOW - HOUR, id="period-30"),
    pytest.param(NOW - 3 * HOUR + 23, 10, NOW - 3 * HOUR + 20, id="exactly-3h-old-still-sub-minute"),
    pytest.param(NOW - 5 * DAY + 7 * MINUTE + 34, 60, NOW - 5 * DAY + 7 * MINUTE, id="5-days-old-to-minute"),
    pytest.param(NOW - 15 * DAY + 1, 60, NOW - 15 * DAY, id="just-under-15-days-to-minute"),
    pytest.param(NOW - 15 * DAY, 300, NOW - 15 * DAY, id="exactly-15-days-to-5min"),
    pytest.param(NOW - 20 * DAY + 7 * MINUTE + 34, 300, NOW - 20 * DAY + 5 * MINUTE, id="20-days-to-5min"),
    pytest.param(NOW - 63 * DAY + 7 * MINUTE + 34, 300, NOW - 63 * DAY + 5 * MINUTE,
                 id="just-under-63-days-to-5min"),
    pytest.param(NOW - 63 * DAY - 1, 3600, NOW - 63 * DAY - HOUR, id="just-over-63-days-to-hour"),
    pytest.param(NOW - 100 * DAY + 32 * MINUTE + 34, 3600, NOW - 100 * DAY, id="100-days-old-to-hour"),
])
def test_start_is_rounded_down_by_age(start: float, period: int, rounded: int) -> None:
    got = plan(start, start + 5 * period, period)

    assert got.start == rounded
    assert (got.start - rounded, type(got.start)) == (0, int)


@pytest.mark.parametrize(("end", "expected"), [
    pytest.param(NOW, NOW, id="whole-second"),
    pytest.param(NOW - 0.5, NOW, id="fraction-rounded-up"),
    pytest.param(NOW + 0.001, NOW + 1, id="just-past-a-second"),
])
def test_end_is_exclusive_and_rounded_up(end: float, expected: int) -> None:
    got = plan(RECENT, end)

    assert (got.end, type(got.end)) == (expected, int)


# (age of start, period, empty?): a period finer than the age's retention gives no datapoints.
@pytest.mark.parametrize(("age", "period", "empty"), [
    pytest.param(2 * HOUR, 1, False, id="2h-period-1"),
    pytest.param(3 * HOUR, 10, False, id="3h-period-10"),
    pytest.param(3 * HOUR + 1, 10, True, id="3h+1s-period-10"),
    pytest.param(3 * HOUR + 1, 30, True, id="3h+1s-period-30"),
    pytest.param(3 * HOUR + 1, 60, False, id="3h+1s-period-60"),
    pytest.param(14 * DAY, 60, False, id="14d-period-60"),
    pytest.param(15 * DAY - 1, 60, False, id="15d-1s-period-60"),
    pytest.param(15 * DAY, 60, True, id="15d-period-60"),
    pytest.param(15 * DAY, 120, True, id="15d-period-120"),
    pytest.param(15 * DAY, 300, False, id="15d-period-300"),
    pytest.param(40 * DAY, 600, False, id="40d-period-600"),
    pytest.param(63 * DAY, 300, False, id="63d-period-300"),
    pytest.param(63 * DAY + 1, 300, True, id="63d+1s-period-300"),
    pytest.param(63 * DAY + 1, 1800, True, id="63d+1s-period-1800"),
    pytest.param(63 * DAY + 1, 3600, False, id="63d+1s-period-3600"),
    pytest.param(400 * DAY, 7200, False, id="400d-period-7200"),
    pytest.param(400 * DAY, 5, True, id="400d-period-5"),
])
def test_granularity_by_age(age: int, period: int, empty: bool) -> None:
    start = NOW - age

    got = plan(start, start + 10 * period, period)

    assert got.empty is empty


@pytest.mark.parametrize(("start", "end", "period", "datapoints"), [
    pytest.param(NOW - DAY, NOW, 60, 1440, id="one-day-of-minutes"),
    pytest.param(NOW - DAY + 59, NOW, 60, 1440, id="start-rounds-down-first"),
    # a day of minutes not aligned to the minute is accepted (1,440 requested); its buckets,
    # aligned to the rounded start, span 1,441 minutes
    pytest.param(NOW - DAY + 30, NOW + 30, 60, 1441, id="day-of-minutes-not-minute-aligned"),
    pytest.param(NOW - DAY + 0.5, NOW + 0.5, 60, 1441, id="day-of-minutes-half-second-late"),
    pytest.param(NOW - 1440, NOW, 1, 1440, id="1440-seconds"),
    pytest.param(NOW - DAY, NOW - DAY + 61, 60, 2, id="partial-last-period-counts"),
    pytest.param(NOW - 10 * DAY, NOW, 600, 1440, id="ten-days-of-10-minutes"),
])
def test_up_to_1440_datapoints(start: float, end: float, period: int, datapoints: int) -> None:
    assert plan(start, end, period).datapoints == datapoints


@pytest.mark.parametrize(("start", "end", "period", "requested"), [
    pytest.param(NOW - DAY, NOW + 1, 60, "1,441", id="one-second-too-many"),
    pytest.param(NOW - DAY, NOW + 0.2, 60, "1,441", id="fraction-too-many"),
    pytest.param(NOW - 1441, NOW, 1, "1,441", id="1441-seconds"),
    pytest.param(NOW - 2 * DAY, NOW, 60, "2,880", id="two-days-of-minutes"),
    pytest.param(NOW - 20 * DAY, NOW - 18 * DAY, 60, "2,880", id="too-many-beats-too-fine"),
])
def test_more_than_1440_datapoints(start: float, end: float, period: int, requested: str) -> None:
    got = rejected(start, end, period)

    assert (type(got), got.code) == (IPC, "InvalidParameterCombination")
    assert got.message == (f"You have requested up to {requested} datapoints, which exceeds the limit of "
                           "1,440. You may reduce the datapoints requested by increasing Period, or "
                           "decreasing the time range.")


def test_validation_order_period_before_range_before_statistics() -> None:
    assert rejected(NOW, NOW, 61, statistics=()).message == "The parameter Period must be a multiple of 60."
    assert rejected(NOW, NOW, 60, statistics=()).message == (
        "The parameter StartTime must be less than the parameter EndTime.")


UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
         "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
         "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
         "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
         "Count/Second", "None")


@pytest.mark.parametrize("unit", UNITS)
def test_every_standard_unit_is_accepted_and_kept(unit: str) -> None:
    assert plan(RECENT, NOW, unit=unit).unit == unit


def test_no_unit_means_every_unit() -> None:
    assert plan(RECENT, NOW).unit is None


@pytest.mark.parametrize("unit", ["Parsecs", "", "seconds", "Count/Minute", "None "])
def test_unknown_units_are_rejected_with_the_standard_set(unit: str) -> None:
    got = rejected(RECENT, NOW, unit=unit)

    assert (type(got), got.code, got.status) == (IPV, "InvalidParameterValue", 400)
    assert got.message == f"The parameter Unit must be a value in the set [ {', '.join(UNITS)} ]."


def test_unit_is_checked_after_the_statistics() -> None:
    assert rejected(RECENT, NOW, statistics=("Avg",), unit="Parsecs").message.startswith(
        "The parameter Statistics.member.1 ")


def test_plan_is_a_frozen_value() -> None:
    got = plan(RECENT, NOW)

    assert got == QueryPlan(start=RECENT, end=NOW, period=60, statistics=("Sum",), extended=(),
                            percentiles=(), datapoints=10, empty=False)
    with pytest.raises(AttributeError):
        got.start = 0  # type: ignore[misc]


# -- percentiles: the definition's answers, without its Fractions on the common path ----------

COUNTS = st.one_of(st.integers(0, 1000).map(float), st.floats(0.0, 1e6, allow_nan=False),
                   st.sampled_from([0.1, 0.25, 1e-300, 5e-324, 1e300, 3.0]))
HISTOGRAMS = st.lists(st.tuples(st.floats(-1e9, 1e9, allow_nan=False), COUNTS), min_size=1, max_size=12)
FRACTIONS = st.lists(st.one_of(st.sampled_from([0.0, 0.5, 0.07, 0.99, 0.999, 1.0, 1e-12, 0.1 + 0.2]),
                               st.floats(0.0, 1.0)), min_size=1, max_size=5)


@given(histogram=HISTOGRAMS, fractions=FRACTIONS)
@settings(max_examples=400, deadline=None)
def test_percentiles_answer_as_the_definition(histogram: list[tuple[float, float]],
                                                   fractions: list[float]) -> None:
    try:
        expected = definition(histogram, fractions)
    except ValueError:
        with pytest.raises(ValueError):
            percentiles(histogram, fractions)
        return
    assert percentiles(histogram, fractions) == expected


@pytest.mark.parametrize(("histogram", "fractions"), [
    pytest.param([(float(v), 1.0) for v in range(1, 101)], [0.07, 0.5, 0.99, 1.0, 0.0],
                 id="targets-on-ranks"),
    pytest.param([(1.0, 5.0), (2.0, 5.0)], [0.5], id="p50-of-an-even-count"),
    pytest.param([(3.0, 0.1), (1.0, 0.2), (2.0, 0.7)], [0.1, 0.3, 0.3000000000000001, 0.9], id="fractional"),
    pytest.param([(2.0, 1.0), (1.0, 1.0), (2.0, 2.0), (5.0, 0.0), (9.0, -1.0)], [0.25, 0.5, 1.0],
                 id="unsorted-repeats-zero-negative"),
    pytest.param([(1.0, 5e-324), (2.0, 5e-324)], [0.5, 1e-12], id="subnormal-counts"),
    pytest.param([(1.0, 2.0**360), (2.0, 2.0**360)], [0.5, 0.75], id="huge-counts"),
])
def test_percentiles_on_the_boundaries(histogram: list[tuple[float, float]],
                                            fractions: list[float]) -> None:
    assert percentiles(histogram, fractions) == definition(histogram, fractions)


def test_percentiles_reject_what_the_definition_rejects() -> None:
    with pytest.raises(ValueError):
        percentiles([(1.0, 0.0)], [0.5])
    with pytest.raises(ValueError):
        percentiles([(1.0, 1.0)], [1.5])
