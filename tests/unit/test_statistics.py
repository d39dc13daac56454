# ruff: noqa: D103 - test names and ids say what each case checks
"""Percentile names, exact nearest-rank percentiles, and the Datapoint a bucket becomes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain import Bucket, QueryPlan, datapoint, parse_percentile, percentile, percentiles
from services.ingest.domain._statistics import has_exact_percentiles, statistic_set_values
from stackwatch.domain.metrics import StatisticSet

# 200 samples: 1..100 once each, then 1000.0 a hundred times (the e2e percentile scenario).
SKEWED = [(float(v), 1.0) for v in range(1, 101)] + [(1000.0, 100.0)]


@pytest.mark.parametrize(("name", "fraction"), [
    pytest.param("p0", 0.0, id="p0"),
    pytest.param("p0.0", 0.0, id="p0.0"),
    pytest.param("p50", 0.5, id="p50"),
    pytest.param("p99", 0.99, id="p99"),
    pytest.param("p99.9", 0.999, id="p99.9"),
    pytest.param("p99.99", 0.9999, id="p99.99"),
    pytest.param("p7", 0.07, id="p7"),
    pytest.param("p100", 1.0, id="p100"),
    pytest.param("p100.0000000000", 1.0, id="p100-ten-zero-decimals"),
    pytest.param("p99.9999999999", 0.999999999999, id="ten-decimals"),
    pytest.param("p05", 0.05, id="leading-zero"),
])
def test_parse_percentile(name: str, fraction: float) -> None:
    assert parse_percentile(name) == fraction


@pytest.mark.parametrize("name", [
    pytest.param("p101", id="above-100"),
    pytest.param("p100.0000000001", id="just-above-100"),
    pytest.param("p1000", id="four-digits"),
    pytest.param("p-1", id="negative"),
    pytest.param("P99", id="uppercase"),
    pytest.param("p", id="no-number"),
    pytest.param("p99.", id="trailing-dot"),
    pytest.param("p.5", id="no-integer-part"),
    pytest.param("p99.12345678901", id="eleven-decimals"),
    pytest.param("p 99", id="inner-space"),
    pytest.param(" p99", id="leading-space"),
    pytest.param("p99\n", id="trailing-newline"),
    pytest.param("p\u0669\u0669", id="arabic-indic-digits"),
    pytest.param("p1e2", id="exponent"),
    pytest.param("tm99", id="trimmed-mean"),
    pytest.param("TM(10%:90%)", id="trimmed-mean-range"),
    pytest.param("IQM", id="iqm"),
    pytest.param("Average", id="basic-statistic"),
    pytest.param("", id="empty"),
])
def test_parse_percentile_rejects(name: str) -> None:
    assert parse_percentile(name) is None


@pytest.mark.parametrize(("histogram", "q", "expected"), [
    pytest.param(SKEWED, 0.5, 100.0, id="skewed-p50"),
    pytest.param(SKEWED, 0.9, 1000.0, id="skewed-p90"),
    pytest.param(SKEWED, 0.995, 1000.0, id="skewed-p99.5"),
    pytest.param(SKEWED, 0.1, 20.0, id="skewed-p10"),
    pytest.param(SKEWED, 0.5025, 1000.0, id="skewed-rank-101-is-first-1000"),
    pytest.param(SKEWED, 0.0, 1.0, id="p0-is-minimum"),
    pytest.param(SKEWED, 1.0, 1000.0, id="p100-is-maximum"),
    pytest.param([(float(v), 1.0) for v in range(1, 101)], 0.07, 7.0, id="p7-of-100-is-7th-not-8th"),
    pytest.param([(float(v), 1.0) for v in range(1, 101)], 0.29, 29.0, id="p29-of-100-is-29th"),
    pytest.param([(float(v), 1.0) for v in range(1, 1001)], 0.999, 999.0, id="p99.9-of-1000"),
    pytest.param([(42.0, 1.0)], 0.3, 42.0, id="single-sample"),
    pytest.param([(3.0, 2.0), (1.0, 1.0), (2.0, 1.0)], 0.5, 2.0, id="unsorted-input"),
    pytest.param([(1.0, 1.0), (1.0, 1.0), (5.0, 2.0)], 0.5, 1.0, id="repeated-value"),
    pytest.param([(1.0, 0.0), (2.0, 3.0), (9.0, 0.0)], 0.0, 2.0, id="zero-counts-ignored-low"),
    pytest.param([(1.0, 0.0), (2.0, 3.0), (9.0, 0.0)], 1.0, 2.0, id="zero-counts-ignored-high"),
    pytest.param([(1.0, 0.5), (2.0, 0.5)], 0.5, 1.0, id="fractional-counts"),
    pytest.param([(1.0, 0.5), (2.0, 0.5)], 0.51, 2.0, id="fractional-counts-upper"),
    pytest.param([(1.0, 0.5), (2.0, 0.5)], 0.0, 1.0, id="fractional-counts-p0-is-minimum"),
    pytest.param([(1.0, 2.5)], 1.0, 1.0, id="fractional-count-p100"),
    pytest.param([(float(v), 1.0) for v in range(1, 202)], 0.5, 101.0, id="rank-ceil-of-100.5-is-101"),
])
def test_percentile_is_nearest_rank(histogram: list[tuple[float, float]], q: float, expected: float) -> None:
    assert percentile(histogram, q) == expected


def test_percentiles_answers_each_fraction_in_order() -> None:
    assert percentiles(SKEWED, [0.5, 0.9, 0.995, 0.1]) == [100.0, 1000.0, 1000.0, 20.0]


@pytest.mark.parametrize(("histogram", "q"), [
    pytest.param([], 0.5, id="empty"),
    pytest.param([(1.0, 0.0)], 0.5, id="only-zero-counts"),
    pytest.param([(1.0, 1.0)], 1.01, id="fraction-above-1"),
    pytest.param([(1.0, 1.0)], -0.01, id="fraction-below-0"),
    pytest.param([(1.0, 1.0)], math.nan, id="fraction-nan"),
])
def test_percentile_refuses(histogram: list[tuple[float, float]], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(histogram, q)


VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
HISTOGRAMS = st.lists(st.tuples(VALUES, st.integers(min_value=1, max_value=5)), min_size=1, max_size=40)


@given(HISTOGRAMS, st.integers(min_value=0, max_value=10_000))
def test_percentile_equals_indexing_the_sorted_expanded_samples(
        pairs: list[tuple[float, int]], hundredths: int) -> None:
    samples = sorted(v for v, c in pairs for _ in range(c))
    rank = max(1, -(-hundredths * len(samples) // 10_000))  # ceil(q * N) in integers, q = hundredths / 10^4

    got = percentile([(v, float(c)) for v, c in pairs], hundredths / 10_000)

    assert got == samples[rank - 1]


@given(HISTOGRAMS)
def test_p0_is_the_minimum_and_p100_the_maximum(pairs: list[tuple[float, int]]) -> None:
    histogram = [(v, float(c)) for v, c in pairs]

    assert percentiles(histogram, [0.0, 1.0]) == [min(v for v, _ in pairs), max(v for v, _ in pairs)]


@given(HISTOGRAMS, st.sampled_from(["p0", "p10", "p25", "p50", "p90", "p99", "p99.9", "p100"]))
def test_named_percentile_matches_its_fraction(pairs: list[tuple[float, int]], name: str) -> None:
    q = parse_percentile(name)
    assert q is not None
    samples = sorted(v for v, c in pairs for _ in range(c))
    thousandths = round(float(name[1:]) * 1000)  # p99.9 -> 99900, so q = thousandths / 10^5
    rank = max(1, -(-thousandths * len(samples) // 100_000))

    assert percentile([(v, float(c)) for v, c in pairs], q) == samples[rank - 1]


@pytest.mark.parametrize(("histogram", "sample_count", "minimum", "expected"), [
    pytest.param(None, 3.0, 1.0, False, id="no-histogram"),
    pytest.param([], 3.0, 1.0, False, id="empty-histogram"),
    pytest.param([(1.0, 1.0), (2.0, 2.0)], 3.0, 1.0, True, id="histogram-covers-all-samples"),
    pytest.param([(1.0, 1.0), (2.0, 2.0)], 13.0, 1.0, False, id="some-data-only-as-statistic-sets"),
    pytest.param([(1.0, 1.0)], 1.0 + 1e-12, 1.0, True, id="count-within-relative-tolerance"),
    pytest.param([(1.0, 0.1)] * 10, 1.0, 1.0, True, id="fractional-counts-summing-to-count"),
    pytest.param([(1.0, 1.0)], 1.0 + 1e-6, 1.0, False, id="beyond-tolerance"),
    pytest.param([(-1.0, 1.0), (2.0, 2.0)], 3.0, -1.0, False, id="negative-value"),
    pytest.param([(0.0, 3.0)], 3.0, 0.0, True, id="zero-is-not-negative"),
    pytest.param([(5.0, 3.0)], 3.0, -2.0, False, id="negative-only-in-statistic-set-minimum"),
])
def test_has_exact_percentiles(histogram: list[tuple[float, float]] | None, sample_count: float,
                               minimum: float, expected: bool) -> None:
    assert has_exact_percentiles(histogram, sample_count, minimum) is expected


@pytest.mark.parametrize(("stats", "expected"), [
    pytest.param(StatisticSet(1, 7.0, 7.0, 7.0), ((7.0,), (1,)), id="single-sample"),
    pytest.param(StatisticSet(4, 8.0, 2.0, 2.0), ((2.0,), (4,)), id="all-equal"),
    pytest.param(StatisticSet(0.5, 1.0, 2.0, 2.0), ((2.0,), (0.5,)), id="fractional-count"),
    pytest.param(StatisticSet(4, 9.0, 2.0, 3.0), ((), ()), id="spread"),
    pytest.param(StatisticSet(4, 9.0, 2.0, 2.0), ((), ()), id="equal-bounds-inconsistent-sum"),
    pytest.param(StatisticSet(1, 3.0, 2.0, 2.0), ((), ()), id="one-sample-sum-differs"),
])
def test_statistic_set_values(stats: StatisticSet,
                              expected: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    assert statistic_set_values(stats) == expected


def plan(statistics: tuple[str, ...] = (), extended: tuple[str, ...] = ()) -> QueryPlan:
    pcts = tuple((name, q) for name in dict.fromkeys(extended) if (q := parse_percentile(name)) is not None)
    return QueryPlan(start=0, end=600, period=60, statistics=statistics, extended=extended, percentiles=pcts,
                     datapoints=10, empty=False)


BUCKET = Bucket(start=120, unit="Milliseconds", sample_count=4.0, sum=10.0, minimum=1.0, maximum=4.0)
HISTOGRAM = [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]


@pytest.mark.parametrize(("statistics", "extended", "histogram", "expected"), [
    pytest.param(("Sum",), (), HISTOGRAM, {"Sum": 10.0}, id="only-the-requested-statistic"),
    pytest.param(("SampleCount", "Average", "Sum", "Minimum", "Maximum"), (), None,
                 {"SampleCount": 4.0, "Average": 2.5, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0},
                 id="all-basic-statistics"),
    pytest.param(("Average", "Average"), (), None, {"Average": 2.5}, id="duplicate-statistic-once"),
    pytest.param((), ("p50", "p100"), HISTOGRAM, {"ExtendedStatistics": {"p50": 2.0, "p100": 4.0}},
                 id="percentiles-only"),
    pytest.param(("Maximum",), ("p0",), HISTOGRAM, {"Maximum": 4.0, "ExtendedStatistics": {"p0": 1.0}},
                 id="both-kinds"),
    pytest.param(("Maximum",), ("p50",), None, {"Maximum": 4.0}, id="no-histogram-no-extended-key"),
    pytest.param(("Maximum",), ("p50",), [(1.0, 1.0), (2.0, 1.0)], {"Maximum": 4.0},
                 id="histogram-misses-statistic-set-data"),
    pytest.param(("Maximum",), (), HISTOGRAM, {"Maximum": 4.0}, id="histogram-but-no-percentile-asked"),
])
def test_datapoint_has_exactly_the_requested_statistics(
        statistics: tuple[str, ...], extended: tuple[str, ...], histogram: list[tuple[float, float]] | None,
        expected: dict[str, Any]) -> None:
    got = datapoint(plan(statistics, extended), BUCKET, histogram)

    assert got == {"Timestamp": 120, "Unit": "Milliseconds", **expected}
    assert type(got["Timestamp"]) is int


def test_datapoint_omits_percentiles_when_a_value_is_negative() -> None:
    bucket = Bucket(start=0, unit="None", sample_count=3.0, sum=5.0, minimum=-1.0, maximum=4.0)

    got = datapoint(plan(("Minimum",), ("p50",)), bucket, [(-1.0, 1.0), (2.0, 1.0), (4.0, 1.0)])

    assert got == {"Timestamp": 0, "Unit": "None", "Minimum": -1.0}


def test_datapoint_of_the_skewed_scenario() -> None:
    bucket = Bucket(start=60, unit="Milliseconds", sample_count=200.0, sum=5050.0 + 100_000.0, minimum=1.0,
                    maximum=1000.0)

    got = datapoint(plan(("SampleCount", "Maximum"), ("p50", "p90", "p99.5", "p10")), bucket, SKEWED)

    assert got == {"Timestamp": 60, "Unit": "Milliseconds", "SampleCount": 200.0, "Maximum": 1000.0,
                   "ExtendedStatistics": {"p50": 100.0, "p90": 1000.0, "p99.5": 1000.0, "p10": 20.0}}
