# ruff: noqa: D103 - test names and ids say what each case checks
"""Every statistic GetMetricData accepts: names parsed, values computed from a period's histogram."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain import parse_statistic, statistic_value
from stackwatch import errors
from stackwatch.domain.metrics import StatisticSet

# 1..10, once each: sum 55.
TEN = [(float(v), 1.0) for v in range(1, 11)]
TEN_SET = StatisticSet(10.0, 55.0, 1.0, 10.0)
# 11 samples: 1..10 and 100.
ELEVEN = [*TEN, (100.0, 1.0)]
ELEVEN_SET = StatisticSet(11.0, 155.0, 1.0, 100.0)


def value(name: str, histogram: list[tuple[float, float]] = TEN, stats: StatisticSet = TEN_SET) -> float | None:
    return statistic_value(parse_statistic(name), stats, histogram)


@pytest.mark.parametrize(("name", "histogram", "stats", "expected"), [
    pytest.param("SampleCount", TEN, TEN_SET, 10.0, id="sample-count"),
    pytest.param("Sum", TEN, TEN_SET, 55.0, id="sum"),
    pytest.param("Average", TEN, TEN_SET, 5.5, id="average"),
    pytest.param("Minimum", TEN, TEN_SET, 1.0, id="minimum"),
    pytest.param("Maximum", TEN, TEN_SET, 10.0, id="maximum"),
    pytest.param("p50", TEN, TEN_SET, 5.0, id="p50-nearest-rank"),
    pytest.param("p90", ELEVEN, ELEVEN_SET, 10.0, id="p90-of-eleven"),
    # tm90 = TM(:90%): ranks r <= 9 of 10 -> mean(1..9)
    pytest.param("tm90", TEN, TEN_SET, 5.0, id="tm90"),
    pytest.param("TM(:90%)", TEN, TEN_SET, 5.0, id="tm-long-form-upper-only"),
    # 10% of 10 = 1 < r <= 9 -> 2..9
    pytest.param("TM(10%:90%)", TEN, TEN_SET, 5.5, id="tm-percent-range"),
    pytest.param("TM(10%:)", TEN, TEN_SET, 6.0, id="tm-lower-only"),
    # IQM: 2.5 < r <= 7.5 -> 3..7
    pytest.param("IQM", TEN, TEN_SET, 5.0, id="iqm"),
    pytest.param("IQM", ELEVEN, ELEVEN_SET, 5.5, id="iqm-of-eleven-ranks-3-to-8"),
    # absolute: lower exclusive, upper inclusive: (2, 5] -> 3, 4, 5
    pytest.param("TM(2:5)", TEN, TEN_SET, 4.0, id="tm-absolute-lower-exclusive-upper-inclusive"),
    pytest.param("TC(2:5)", TEN, TEN_SET, 3.0, id="tc-absolute"),
    pytest.param("TS(2:5)", TEN, TEN_SET, 12.0, id="ts-absolute"),
    pytest.param("TC(:5)", TEN, TEN_SET, 5.0, id="tc-upper-only"),
    pytest.param("tc90", TEN, TEN_SET, 9.0, id="tc90"),
    pytest.param("ts90", TEN, TEN_SET, 45.0, id="ts90"),
    pytest.param("TC(10%:90%)", ELEVEN, ELEVEN_SET, 8.0, id="tc-percent-of-eleven-ranks-2-to-9"),
    # WM: ranks 2..9 kept; rank 1 raised to 2, ranks 10 lowered to 9
    pytest.param("WM(10%:90%)", TEN, TEN_SET, (2 + 44 + 9) / 10, id="wm-percent"),
    pytest.param("wm80", TEN, TEN_SET, (36 + 8 + 8) / 10, id="wm80"),
    pytest.param("WM(:5)", TEN, TEN_SET, (15 + 5 * 5) / 10, id="wm-absolute"),
    # PR(a:b): percent of samples with a < v <= b
    pytest.param("PR(:3)", TEN, TEN_SET, 30.0, id="pr-upper-only"),
    pytest.param("PR(3:)", TEN, TEN_SET, 70.0, id="pr-lower-only-exclusive"),
    pytest.param("PR(2.5:7.5)", TEN, TEN_SET, 50.0, id="pr-decimals"),
    # weighted: 1 x3, 4 x1 -> samples 1,1,1,4
    pytest.param("tm50", [(1.0, 3.0), (4.0, 1.0)], StatisticSet(4.0, 7.0, 1.0, 4.0), 1.0, id="weighted-tm50"),
    pytest.param("TS(1:)", [(1.0, 3.0), (4.0, 1.0)], StatisticSet(4.0, 7.0, 1.0, 4.0), 4.0, id="weighted-ts"),
    # fractional counts keep the part of each value's span inside (floor(aN), floor(bN)]
    pytest.param("TC(:50%)", [(1.0, 0.5), (2.0, 1.5)], StatisticSet(2.0, 3.5, 1.0, 2.0), 1.0,
                 id="fractional-counts"),
])
def test_statistic_value(name: str, histogram: list[tuple[float, float]], stats: StatisticSet,
                         expected: float) -> None:
    assert statistic_value(parse_statistic(name), stats, histogram) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("name", ["TM(20:30)", "WM(20:30)", "TM(10:)"])
def test_mean_of_a_range_that_keeps_nothing_has_no_value(name: str) -> None:
    assert value(name) is None


@pytest.mark.parametrize(("name", "expected"), [("TC(20:30)", 0.0), ("TS(20:30)", 0.0), ("PR(20:30)", 0.0)])
def test_count_sum_and_rank_of_an_empty_range_are_zero(name: str, expected: float) -> None:
    assert value(name) == expected


@pytest.mark.parametrize("name", ["p50", "tm90", "IQM", "WM(10%:90%)", "TC(:5)", "TS(:5)", "PR(:5)"])
def test_percentile_family_withheld_without_values_or_with_negatives(name: str) -> None:
    stats = StatisticSet(12.0, 55.0, 1.0, 10.0)  # two samples known only as a statistic set
    assert statistic_value(parse_statistic(name), stats, TEN) is None
    assert statistic_value(parse_statistic(name), TEN_SET, None) is None
    negative = [(-1.0, 1.0), *TEN[1:]]
    assert statistic_value(parse_statistic(name), StatisticSet(10.0, 53.0, -1.0, 10.0), negative) is None


def test_basic_statistics_need_no_values() -> None:
    stats = StatisticSet(4.0, -2.0, -3.0, 1.0)
    assert [statistic_value(parse_statistic(n), stats, None) for n in ("SampleCount", "Sum", "Average", "Minimum",
                                                                        "Maximum")] == [4.0, -2.0, -0.5, -3.0, 1.0]


@pytest.mark.parametrize(("name", "kind", "lower", "upper", "percent"), [
    pytest.param("tm99", "TM", None, Fraction(99, 100), True, id="tm99"),
    pytest.param("tm99.5", "TM", None, Fraction(995, 1000), True, id="tm-decimal"),
    pytest.param("TM(10%:90%)", "TM", Fraction(1, 10), Fraction(9, 10), True, id="tm-percent"),
    pytest.param("TS(80%:)", "TS", Fraction(4, 5), None, True, id="ts-lower-only"),
    pytest.param("TM(-5:10.5)", "TM", Fraction(-5), Fraction(21, 2), False, id="absolute-negative-lower"),
    pytest.param("PR(:300)", "PR", None, Fraction(300), False, id="pr"),
    pytest.param("IQM", "TM", Fraction(1, 4), Fraction(3, 4), True, id="iqm"),
    pytest.param("p99.9", "p", Fraction(999, 1000), None, False, id="percentile"),
])
def test_parse_statistic(name: str, kind: str, lower: Fraction | None, upper: Fraction | None,
                         percent: bool) -> None:
    got = parse_statistic(name)
    assert (got.name, got.kind, got.lower, got.upper, got.percent) == (name, kind, lower, upper, percent)


@pytest.mark.parametrize("name", [
    "", "average", "AVERAGE", "p101", "P99", "tm", "tm101", "TM99", "tm(10%:90%)", "TM(:)", "TM()", "TM(90%:10%)",
    "TM(5:5)", "TM(10%:500)", "TM(:101%)", "PR(10%:90%)", "iqm", "IQM()", "TM(10%:90%", "TM(a:b)", "tm90%",
    "p99_E", "TM(%:90%)",
])
def test_parse_statistic_rejects(name: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_statistic(name, "MetricDataQueries.member.1.MetricStat.Stat")
    assert info.value.message == f"The value {name} for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid."


# --- the definition over expanded samples


def brute_force(name: str, samples: list[float]) -> float | None:
    """The statistic over the sorted, expanded samples, straight from the definition."""
    stat = parse_statistic(name)
    xs = sorted(samples)
    n = len(xs)
    if stat.kind == "p":
        assert stat.lower is not None
        return xs[max(1, math.ceil(stat.lower * n)) - 1]
    if stat.percent:
        lo = -1 if stat.lower is None else stat.lower * n
        hi = n if stat.upper is None else stat.upper * n
        kept = [x for r, x in enumerate(xs, 1) if lo < r <= hi]
    else:
        kept = [x for x in xs if (stat.lower is None or stat.lower < x) and (stat.upper is None or x <= stat.upper)]
    if stat.kind == "TC":
        return float(len(kept))
    if stat.kind == "TS":
        return math.fsum(kept)
    if stat.kind == "PR":
        return 100.0 * len(kept) / n
    if not kept:
        return None
    if stat.kind == "TM":
        return math.fsum(kept) / len(kept)
    low, high = min(kept), max(kept)
    return math.fsum(min(max(x, low), high) for x in xs) / n


NAMES = st.sampled_from([
    "p0", "p50", "p99.9", "tm90", "tm10", "IQM", "TM(10%:90%)", "TM(33.3%:66.7%)", "WM(10%:90%)", "wm75", "tc90",
    "TC(25%:)", "ts50", "TS(:75%)", "TM(2:50)", "WM(:10)", "TC(0:3)", "TS(5:)", "PR(:10)", "PR(3.5:20)",
])
VALUES = st.integers(min_value=0, max_value=60).map(lambda i: i / 2)
HISTOGRAMS = st.lists(st.tuples(VALUES, st.integers(min_value=1, max_value=6)), min_size=1, max_size=25)


@given(HISTOGRAMS, NAMES)
def test_statistic_equals_its_definition_over_expanded_samples(pairs: list[tuple[float, int]], name: str) -> None:
    samples = [v for v, c in pairs for _ in range(c)]
    merged: dict[float, float] = {}
    for v, c in pairs:
        merged[v] = merged.get(v, 0.0) + c
    histogram = sorted(merged.items())
    stats = StatisticSet(float(len(samples)), math.fsum(samples), min(samples), max(samples))

    got = statistic_value(parse_statistic(name), stats, histogram)
    expected = brute_force(name, samples)

    assert (got is None) == (expected is None)
    if expected is not None:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
