# ruff: noqa: D103 - test names and ids say what each case checks
"""GetMetricData's SEARCH and Metrics Insights planning, and their answers made series and results."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.domain import (
    DataQuery,
    MetricDataRequest,
    MetricStatQuery,
    evaluate_results,
    insights_results,
    plan_metric_data,
    search_stats,
    searched_series,
)
from stackwatch import errors
from stackwatch.domain.metricmath import Result, Series

NOW = 1_717_243_200
DAY = 86400


def request(*queries: DataQuery, start: float = NOW - 600, end: float = NOW) -> MetricDataRequest:
    return MetricDataRequest(tuple(queries), start, end)


def expr(id: str, expression: str, **kw: Any) -> DataQuery:
    return DataQuery(id, expression=expression, **kw)


def metric(id: str, **kw: Any) -> DataQuery:
    return DataQuery(id, metric_stat=MetricStatQuery("App", "CPU", (), 60, "Sum"), **kw)


@pytest.mark.parametrize(("req", "error", "message"), [
    pytest.param(request(expr("s", "SEARCH('{App', 'Sum', 60)")), errors.InvalidParameterValue, "",
                 id="search-unbalanced-brace"),
    pytest.param(request(expr("s", "SEARCH('{App} CPU', 'Nope', 60)")), errors.InvalidParameterValue,
                 "The value Nope for parameter SEARCH statistic is invalid.", id="search-bad-statistic"),
    pytest.param(request(expr("s", "SEARCH('{App} CPU', 'Sum', 61)")), errors.InvalidParameterValue,
                 "The parameter SEARCH period must be a multiple of 60.", id="search-bad-period"),
    pytest.param(request(expr("a", "SELECT SUM(CPU) FROM App"), expr("b", "select MAX(CPU) FROM App")),
                 errors.InvalidParameterValue, "A GetMetricData request can include at most one Metrics Insights "
                 "query; MetricDataQueries.member.2 is the second.", id="two-insights-queries"),
    pytest.param(request(expr("a", "SELECT SUM(CPU) FROM")), errors.InvalidParameterValue,
                 "Invalid Metrics Insights query", id="insights-syntax"),
    pytest.param(request(expr("a", "SELECT SUM(CPU) FROM App", period=90)), errors.InvalidParameterValue,
                 "The parameter MetricDataQueries.member.1.Period must be a multiple of 60.", id="insights-period"),
    pytest.param(request(expr("A", "SELECT SUM(CPU) FROM App")), errors.ValidationError,
                 "The value A for parameter MetricDataQueries.member.1.Id is invalid", id="insights-id-checked"),
    pytest.param(request(metric("a"), expr("a", "SELECT SUM(CPU) FROM App")), errors.ValidationError,
                 "The value a for parameter MetricDataQueries.member.2.Id is a duplicate", id="insights-id-unique"),
])
def test_rejected(req: MetricDataRequest, error: type[errors.ServiceError], message: str) -> None:
    with pytest.raises(errors.ServiceError) as info:
        plan_metric_data(req, NOW)

    assert type(info.value) is error
    assert info.value.message.startswith(message)


def test_search_planned_with_its_own_period_and_two_weeks_of_metrics() -> None:
    plan = plan_metric_data(request(expr("s", "SEARCH('{App,Host} CPU', 'p90', 300)"), start=NOW - 3600 + 7), NOW)
    [search] = plan.searches
    assert (search.call.stat, search.call.period, search.start, search.empty) == ("p90", 300, NOW - 3600, False)
    assert search.active_since == NOW - 14 * DAY
    assert search.filter.namespace == "App"


def test_search_matches_become_planned_metrics_at_most_500() -> None:
    plan = plan_metric_data(request(expr("s", "SEARCH('{App,Host} CPU', 'Sum', 60)")), NOW)
    [search] = plan.searches
    rows = [("App", "CPU", [("Host", f"h{i}")], 1000 + i) for i in range(501)]

    stats, more = search_stats(search, rows, 0)

    assert more and len(stats) == 500
    assert (stats[0].id, stats[0].namespace, stats[0].metric_name, stats[0].period) == ("search0_1000", "App", "CPU",
                                                                                         60)
    series = {s.id: Series((float(NOW - 60),), (1.0,), "ignored") for s in stats[:2]}
    hits = searched_series([search], [stats[:2]], series)[search.call]
    assert [(h.label, h.ref.dimensions if h.ref else None) for h in hits] == [("", (("Host", "h0"),)),
                                                                              ("", (("Host", "h1"),))]


def test_search_results_through_metric_math() -> None:
    plan = plan_metric_data(request(expr("s", "SEARCH('{App,Host} CPU', 'Sum', 60)"), expr("t", "SUM(s)")), NOW)
    [search] = plan.searches
    stats, _ = search_stats(search, [("App", "CPU", [("Host", "a")], 1), ("App", "CPU", [("Host", "b")], 2)], 0)
    series = {stats[0].id: Series((NOW - 60.0,), (1.0,), ""), stats[1].id: Series((NOW - 60.0,), (2.0,), "")}

    got = evaluate_results(plan, {}, searched_series([search], [stats], series), [], NOW)

    assert sorted((r.id, r.label, r.values) for r in got) == [("s", "CPU a", (1.0,)), ("s", "CPU b", (2.0,)),
                                                              ("t", "t", (3.0,))]


def test_insights_plan_reads_at_most_two_weeks() -> None:
    plan = plan_metric_data(request(expr("q", "SELECT AVG(CPU) FROM App", period=3600), start=NOW - 30 * DAY), NOW)
    assert plan.insights is not None
    assert (plan.insights.start, plan.insights.end, plan.insights.period) == (NOW - 14 * DAY, NOW, 3600)
    assert plan.stats == ()  # the stand-in is fetched by nobody


def test_insights_results_take_the_querys_place_one_per_group() -> None:
    plan = plan_metric_data(request(metric("a"), expr("q", "SELECT SUM(CPU) FROM App GROUP BY Host"), metric("z")),
                            NOW)
    assert plan.insights is not None
    groups = [({"Host": "h2"}, [(NOW - 60, 5.0)]), ({}, [(NOW - 120, 1.0), (NOW - 60, 2.0)])]
    insights = insights_results(plan.insights, groups)
    assert insights == [Result("q", "h2", (NOW - 60.0,), (5.0,)), Result("q", "Other", (NOW - 120.0, NOW - 60.0),
                                                                         (1.0, 2.0))]

    got = evaluate_results(plan, {}, {}, insights, NOW)

    assert [(r.id, r.label) for r in got] == [("a", "CPU"), ("q", "h2"), ("q", "Other"), ("z", "CPU")]


def test_insights_without_group_by_is_labelled_by_label_else_id() -> None:
    for label, expected in ((None, "q"), ("mine", "mine")):
        plan = plan_metric_data(request(expr("q", "SELECT SUM(CPU) FROM App", label=label)), NOW)
        assert plan.insights is not None
        assert [r.label for r in insights_results(plan.insights, [({}, [(NOW - 60, 1.0)])])] == [expected]


def test_insights_results_are_not_returned_without_return_data() -> None:
    plan = plan_metric_data(request(metric("a"), expr("q", "SELECT SUM(CPU) FROM App", return_data=False)), NOW)
    assert plan.insights is not None
    insights = insights_results(plan.insights, [({}, [(NOW - 60, 1.0)])])

    assert [r.id for r in evaluate_results(plan, {}, {}, insights, NOW)] == ["a"]


def test_an_expression_cannot_read_the_insights_query() -> None:
    with pytest.raises(errors.ValidationError):
        plan_metric_data(request(expr("q", "SELECT SUM(CPU) FROM App"), expr("e", "q * 2")), NOW)


def test_metrics_function_does_not_see_the_insights_query() -> None:
    plan = plan_metric_data(request(metric("a", return_data=False), expr("q", "SELECT SUM(CPU) FROM App"),
                                    expr("all", "METRICS()")), NOW)
    series = {"a": Series((NOW - 60.0,), (1.0,), "CPU")}

    got = evaluate_results(plan, series, {}, insights_results(plan.insights, [({}, [(NOW - 60, 5.0)])]) if
                           plan.insights else [], NOW)

    assert [(r.id, r.values) for r in got] == [("q", (5.0,)), ("all", (1.0,))]
