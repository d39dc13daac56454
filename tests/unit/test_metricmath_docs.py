"""The worked examples of AWS's "Use metric math" page (and the 2021 functions blog post), as tables.

Series are written as CloudWatch's documentation writes them: one value per period, ``None``
where the metric has no point (the docs' ``-``). Every metric is ``Sum`` over 60 s; the range is
``len(values)`` periods from T0.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stackwatch.domain.metricmath import MetricRef, Query, Result, Series, evaluate, plan

T0 = 1_717_977_600.0  # 2024-06-10 00:00:00 UTC, a Monday
P = 60
Values = list[float | None]


def series(values: Values, start: float = T0, period: int = P) -> Series:
    pairs = [(start + i * period, float(v)) for i, v in enumerate(values) if v is not None]
    return Series(tuple(t for t, _ in pairs), tuple(v for _, v in pairs), "")


def ref(qid: str) -> MetricRef:
    return MetricRef("Test", qid.capitalize(), (("Id", qid),), "Sum", P)


def run(expression: str, periods: int | None = None, label: str | None = None, **metrics: Values) -> list[Result]:
    """Evaluate ``expression`` (Id ``e``) over the given metrics; return e's results."""
    periods = periods or max((len(v) for v in metrics.values()), default=5)
    queries = [Query(m, None, ref(m), return_data=False) for m in metrics]
    queries.append(Query("e", expression, None, label=label))
    fetched = {m: series(v) for m, v in metrics.items()}
    return evaluate(plan(queries), fetched, {}, start=T0, end=T0 + periods * P, period=P)


def grid_values(result: Result, periods: int) -> Values:
    by_time = dict(zip(result.timestamps, result.values, strict=True))
    assert set(by_time) <= {T0 + i * P for i in range(periods)}, "a point off the period grid"
    return [by_time.get(T0 + i * P) for i in range(periods)]


def one(expression: str, periods: int | None = None, **metrics: Values) -> Values:
    results = run(expression, periods, **metrics)
    assert len(results) == 1
    n = periods or max(len(v) for v in metrics.values())
    return grid_values(results[0], n)


# "Comparison and logical operators": metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
COMPARISON = {"metric1": [30, 20, 0, 0], "metric2": [20, None, 20, None]}


@pytest.mark.parametrize(("expression", "expected"), [
    ("(metric1 < metric2)", [0, 0, 1, 0]),
    ("(metric1 >= 30)", [1, 0, 0, 0]),
    ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0]),
    ("(metric1 > 15 && metric2 > 15)", [1, 0, 0, 0]),
], ids=["less-than", "scalar-compare", "AND", "&&"])
def test_comparison_and_logical_operators_table(expression: str, expected: Values) -> None:
    assert one(expression, **COMPARISON) == expected


# "Using IF expressions": metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30], metric3 = [0, 0, 20, -, 20].
IF_DATA = {"metric1": [1, 1, 0, 0, None], "metric2": [30, None, 0, 0, 30], "metric3": [0, 0, 20, None, 20]}


@pytest.mark.parametrize(("expression", "expected"), [
    ("IF(metric1, metric2, metric3)", [30, 0, 20, None, None]),
    ("IF(metric1, 5, metric3)", [5, 5, 20, None, None]),
    ("IF(metric1, metric2, 5)", [30, 0, 5, 5, None]),
    ("IF(metric1, metric2)", [30, 0, None, None, None]),
    ("IF(1, metric2, metric3)", [30, None, 0, 0, 30]),
    ("IF(0, metric2, metric3)", [0, 0, 20, None, 20]),
    ("IF(0, metric2)", [None] * 5),
    ("IF(0, metric2, 7)", [7] * 5),                     # a scalar branch of a TS result covers the grid
    ("IF(1, metric2, 7)", [30, None, 0, 0, 30]),
    ("IF(metric2 < 400, metric2)", [30, None, 0, 0, 30]),
    ("IF(metric2 > 10, 10, 2)", [10, None, 2, 2, 10]),
], ids=["TS-TS-TS", "TS-S-TS", "TS-TS-S", "TS-TS", "S-true", "S-false", "S-no-false", "S-false-scalar",
        "S-true-scalar", "filter-low", "two-values"])
def test_if_tables(expression: str, expected: Values) -> None:
    assert one(expression, **IF_DATA) == expected


@pytest.mark.parametrize(("expression", "metrics", "expected"), [
    ("5 * m1", {"m1": [1, None, 3]}, [5, None, 15]),
    ("-5 * m1", {"m1": [1, None, 3]}, [-5, None, -15]),
    ("-m1", {"m1": [1, None, 3]}, [-1, None, -3]),
    ("m1 - m2", {"m1": [5, None, 3], "m2": [1, 2, None]}, [4, -2, 3]),       # missing counts as 0
    ("m1 / m2", {"m1": [6, 4, 3], "m2": [2, 0, None]}, [3, None, None]),     # x/0 drops the point
    ("m1 ^ 2", {"m1": [3, -2, None]}, [9, 4, None]),
    ("m1 - AVG(m1)", {"m1": [1, 2, 6]}, [-2, -1, 3]),
    ("SUM(m1) / DATAPOINT_COUNT(m1) + 0 * m1", {"m1": [2, None, 4]}, [3, None, 3]),
    ("MAX(m1) / m1", {"m1": [1, 2, 4]}, [4, 2, 1]),
    ("m1 / STDDEV(m1)", {"m1": [1, 3, None]}, [1, 3, None]),
    ("m1 / PERIOD(m1)", {"m1": [60, 120, None]}, [1, 2, None]),
    ("m1 / METRIC_COUNT(METRICS())", {"m1": [2, 4, None], "m2": [None, None, None]}, [1, 2, None]),
    ("ABS(m1 - m2)", {"m1": [1, 5, None], "m2": [3, 1, 2]}, [2, 4, 2]),
    ("CEIL(m1)", {"m1": [1.2, -1.2, None]}, [2, -1, None]),
    ("FLOOR(m1)", {"m1": [1.8, -1.2, None]}, [1, -2, None]),
    ("LOG10(m1)", {"m1": [100, 0, 1]}, [2, None, 0]),                        # log(0) drops the point
    ("DIFF(m1)", {"m1": [1, 4, None, 10]}, [None, 3, None, 6]),
    ("DIFF_TIME(m1)", {"m1": [1, 4, None, 10]}, [None, 60, None, 120]),
    ("RATE(m1)", {"m1": [0, 60, None, 300]}, [None, 1, None, 2]),
    ("RUNNING_SUM(m1)", {"m1": [1, 2, None, 3]}, [1, 3, None, 6]),
    ("TIME_SERIES(10)", {"m1": [1, None, None]}, [10, 10, 10]),
    ("TIME_SERIES(MAX(m1))", {"m1": [1, 7, None]}, [7, 7, 7]),
    ("TIME_SERIES(5 * AVG(m1))", {"m1": [1, 3, None]}, [10, 10, 10]),
    ("FILL(m1, 10)", {"m1": [1, None, 3, None]}, [1, 10, 3, 10]),
    ("FILL(m1, MIN(m1))", {"m1": [4, None, 3, None]}, [4, 3, 3, 3]),
    ("FILL(m1, m2)", {"m1": [1, None, None, 4], "m2": [9, 8, None, 6]}, [1, 8, None, 4]),
    ("FILL(m1, REPEAT)", {"m1": [None, 2, None, None, 5, None]}, [None, 2, 2, 2, 5, 5]),
    ("FILL(m1, LINEAR)", {"m1": [None, 2, None, None, 5, None]}, [None, 2, 3, 4, 5, None]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_single_series_examples(expression: str, metrics: dict[str, Values], expected: Values) -> None:
    got = one(expression, **metrics)
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(("expression", "expected"), [
    ("SUM(METRICS())", [7, 1, 8]),
    ("AVG(METRICS())", [7 / 3, 1 / 3, 8 / 3]),                       # a missing point counts as 0
    ("MIN(METRICS())", [1, 1, 1]),
    ("MAX(METRICS())", [4, 1, 4]),
    ("DATAPOINT_COUNT(METRICS())", [3, 1, 3]),
    ("SUM(METRICS(\"errors\"))", [5, 1, 7]),
    ("SUM([METRICS('4xx'), METRICS('5xx')])", [5, 1, 7]),
    ("SUM(METRICS()) / SUM(m4xx_errors)", [7 / 5, 1 / 5, 8 / 5]),
    ("SUM(100 / [m4xx_errors, m5xx_errors])", [100 / 1 + 100 / 4, 100, 100 / 3 + 100 / 4]),
    ("AVG([m4xx_errors, m5xx_errors] / requests)", [(1 / 2 + 4 / 2) / 2, None, (3 / 1 + 4 / 1) / 2]),
    ("SUM(-[m4xx_errors, m5xx_errors])", [-5, -1, -7]),
    ("MIN(ABS([m4xx_errors, m5xx_errors]))", [1, 1, 3]),
    ("RUNNING_SUM([m4xx_errors, requests])", None),
], ids=lambda v: v if isinstance(v, str) else "")
def test_array_examples(expression: str, expected: Values | None) -> None:
    # requests has no point in the 2nd period: dividing by it (read as 0) drops the point.
    metrics: dict[str, Values] = {"m4xx_errors": [1, 1, 3], "m5xx_errors": [4, None, 4], "requests": [2, None, 1]}
    results = run(expression, **metrics)
    if expected is None:  # RUNNING_SUM of an array: one running sum per series
        assert [grid_values(r, 3) for r in results] == [[1, 2, 5], [2, None, 3]]
        return
    assert len(results) == 1
    assert grid_values(results[0], 3) == pytest.approx(expected)


def test_metrics_divided_by_100_gives_one_series_per_metric_with_its_label() -> None:
    results = run("METRICS() / 100", m1=[100, None], m2=[50, 200])
    assert [(r.label, grid_values(r, 2)) for r in results] == [("M1", [1, None]), ("M2", [0.5, 2])]


def test_an_array_combined_with_a_series_keeps_each_element_label() -> None:
    results = run("[m1, m2] / m3", m1=[2, 4], m2=[6, None], m3=[2, 2])
    assert [(r.label, grid_values(r, 2)) for r in results] == [("M1", [1, 2]), ("M2", [3, 0])]


SORTABLE = {"a": [1, 1, 1], "b": [9, 9, 9], "c": [5, None, 5], "d": [2, 8, 2]}  # SUM 3 27 10 12, AVG 1 9 5 4


@pytest.mark.parametrize(("expression", "expected"), [
    ("SORT(METRICS(), AVG, DESC)", ["B", "C", "D", "A"]),
    ("SORT(METRICS(), AVG, DESC, 2)", ["B", "C"]),
    ("SORT(METRICS(), SUM, ASC)", ["A", "C", "D", "B"]),
    ("SORT(METRICS(), MAX, ASC)", ["A", "C", "D", "B"]),
    ("SORT(METRICS(), MIN, DESC)", ["B", "C", "D", "A"]),
    ("SLICE(SORT(METRICS(), SUM, DESC), 0, 2)", ["B", "D"]),
    ("SLICE(SORT(METRICS(), AVG, ASC), 1)", ["D", "C", "B"]),
    ("REMOVE_EMPTY(METRICS())", ["A", "B", "C", "D"]),
    ("CONCAT(a, [b, c])", ["A", "B", "C"]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_sort_and_slice_keep_labels(expression: str, expected: list[str]) -> None:
    assert [r.label for r in run(expression, **SORTABLE)] == expected


def test_first_of_sort_then_if_picks_the_top_metric() -> None:
    # "IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0)": looks at the top metric by AVG.
    assert one("IF(FIRST(SORT(METRICS(), AVG, DESC)) > 100, 1, 0)",
               low=[1, 1, 1], high=[150, 90, None]) == [1, 0, None]
    assert one("LAST(SORT(METRICS(), AVG, DESC))", low=[1, 1, 1], high=[150, 90, None]) == [1, 1, 1]


def test_remove_empty_drops_series_without_points() -> None:
    assert [r.label for r in run("REMOVE_EMPTY(METRICS())", m1=[None, None], m2=[1, None])] == ["M2"]


def test_fill_of_metrics_with_label_prefixes_each_metric_label() -> None:
    # The docs' legend example: "Filled With 0:" on FILL(METRICS(), 0) over Errors gives "Filled With 0: Errors".
    results = run("FILL(METRICS(), 0)", label="Filled With 0:", errors=[None, 3])
    assert [(r.label, grid_values(r, 2)) for r in results] == [("Filled With 0: Errors", [0, 3])]


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


@pytest.mark.parametrize(("function", "part"), [
    ("MINUTE", lambda d: d.minute), ("HOUR", lambda d: d.hour), ("DAY", lambda d: d.isoweekday()),
    ("DATE", lambda d: d.day), ("MONTH", lambda d: d.month), ("YEAR", lambda d: d.year),
    ("EPOCH", lambda d: int(d.timestamp())),
], ids=lambda v: v if isinstance(v, str) else "")
def test_date_functions_are_non_sparse_over_the_metric_period_grid(function: str, part: object) -> None:
    got = one(f"{function}(m1)", periods=4, m1=[None, 5, None, None])
    assert got == [part(_utc(T0 + i * P)) for i in range(4)]  # type: ignore[operator]


def test_weekday_office_hours_filter_from_the_blog_post() -> None:
    # IF((DAY(m1)<6 AND (HOUR(m1)>=9 AND HOUR(m1)<17)), m1), hourly points over a week from Monday 00:00.
    hours = 7 * 24
    queries = [Query("m1", None, MetricRef("Test", "M1", (), "Sum", 3600), return_data=False),
               Query("e", "IF((DAY(m1)<6 AND (HOUR(m1)>=9 AND HOUR(m1)<17)),m1)", None)]
    data = series([1] * hours, period=3600)
    (result,) = evaluate(plan(queries), {"m1": data}, {}, start=T0, end=T0 + hours * 3600, period=3600)
    kept = [_utc(t) for t in result.timestamps]
    assert len(kept) == 5 * 8
    assert all(d.isoweekday() <= 5 and 9 <= d.hour < 17 for d in kept)
