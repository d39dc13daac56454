# ruff: noqa: D103 - test names and ids say what each case checks
"""GetMetricData's pure core: validation, store fetches, series, results and pages."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from services.ingest.domain import (
    DataQuery,
    MetricDataRequest,
    MetricStatQuery,
    evaluate_results,
    fetches,
    metric_series,
    page,
    plan_metric_data,
)
from stackwatch import errors
from stackwatch.domain.metricmath import Result
from stackwatch.domain.metrics import Dimension, series_id

NOW = 1_717_243_200  # a whole hour
ACCOUNT = "acct"
IPV, IPC, MISSING = errors.InvalidParameterValue, errors.InvalidParameterCombination, errors.MissingParameter
VE = errors.ValidationError
BAD_ID = ("for parameter MetricDataQueries.member.1.Id is invalid: an Id must start with a lowercase letter and "
          "contain only letters, numbers and underscores (at most 255 characters).")
Q1 = "MetricDataQueries.member.1"


def stat(name: str = "Latency", s: str = "Sum", period: int = 60, **kw: Any) -> MetricStatQuery:
    return MetricStatQuery("App", name, kw.pop("dims", ()), period, s, **kw)


def query(id: str = "m1", **kw: Any) -> DataQuery:
    if "expression" not in kw:
        kw.setdefault("metric_stat", stat())
    return DataQuery(id, **kw)


def request(*queries: DataQuery, start: float = NOW - 600, end: float = NOW, **kw: Any) -> MetricDataRequest:
    return MetricDataRequest(tuple(queries) or (query(),), start, end, **kw)


def rejected(req: MetricDataRequest) -> errors.ServiceError:
    with pytest.raises(errors.ServiceError) as info:
        plan_metric_data(req, NOW)
    return info.value


@pytest.mark.parametrize(("req", "error", "message"), [
    pytest.param(MetricDataRequest((), NOW - 60, NOW), MISSING, "The parameter MetricDataQueries is required.",
                 id="no-queries"),
    pytest.param(request(*[query(f"q{i}") for i in range(501)]), IPV,
                 "The collection MetricDataQueries must not have a size greater than 500.", id="501-queries"),
    pytest.param(request(start=NOW, end=NOW), IPV,
                 "The parameter StartTime must be less than the parameter EndTime.", id="start-equals-end"),
    pytest.param(request(scan_by="Newest"), IPV,
                 "The parameter ScanBy must be a value in the set [ TimestampDescending, TimestampAscending ].",
                 id="scan-by"),
    pytest.param(request(max_datapoints=0), IPV, "The parameter MaxDatapoints must be greater than or equal to 1.",
                 id="max-datapoints-zero"),
    pytest.param(request(timezone="+25:00"), IPV, "The value +25:00 for parameter LabelOptions.Timezone is invalid.",
                 id="timezone"),
    # Ids and the MetricStat/Expression choice: metricmath's plan() words these
    pytest.param(request(query("")), VE, f"The value  {BAD_ID}", id="id-missing"),
    pytest.param(request(query("1m")), VE, f"The value 1m {BAD_ID}", id="id-digit-first"),
    pytest.param(request(query("m-1")), VE, f"The value m-1 {BAD_ID}", id="id-dash"),
    pytest.param(request(query("m" * 256)), VE, f"The value {'m' * 256} {BAD_ID}", id="id-256-chars"),
    pytest.param(request(query("a"), query("a")), VE, "The value a for parameter MetricDataQueries.member.2.Id is a "
                 "duplicate: each Id must be unique within the request.", id="id-twice"),
    pytest.param(request(query(metric_stat=None)), MISSING, f"The parameter {Q1}.Expression or {Q1}.MetricStat "
                 "must be specified.", id="neither"),
    pytest.param(request(query(metric_stat=stat(), expression="m2")), IPC, f"The parameters {Q1}.Expression and "
                 f"{Q1}.MetricStat are mutually exclusive and you have specified both.", id="both"),
    pytest.param(request(query("e", expression="m1 +")), VE, "Error in expression e: Syntax error",
                 id="expression-syntax"),
    pytest.param(request(query("e", expression="nope * 2")), VE, "Error in expression e:", id="unknown-id"),
    pytest.param(request(query(metric_stat=stat(period=0))), MISSING,
                 f"The parameter {Q1}.MetricStat.Period is required.", id="period-missing"),
    pytest.param(request(query(metric_stat=stat(period=7))), IPV,
                 f"The parameter {Q1}.MetricStat.Period must be 1, 5, 10, 20, 30, or a multiple of 60.",
                 id="period-7"),
    pytest.param(request(query(metric_stat=stat(period=90))), IPV,
                 f"The parameter {Q1}.MetricStat.Period must be a multiple of 60.", id="period-90"),
    pytest.param(request(query(metric_stat=stat(s=""))), MISSING, f"The parameter {Q1}.MetricStat.Stat is required.",
                 id="stat-missing"),
    pytest.param(request(query(metric_stat=stat(s="tm101"))), IPV,
                 f"The value tm101 for parameter {Q1}.MetricStat.Stat is invalid.", id="stat-invalid"),
    pytest.param(request(query(metric_stat=stat(unit="Furlongs"))), IPV,
                 f"The parameter {Q1}.MetricStat.Unit must be a value in the set [ Seconds,", id="unit"),
    pytest.param(request(query(metric_stat=stat(name=""))), MISSING,
                 f"The parameter {Q1}.MetricStat.Metric.MetricName is required.", id="metric-name-missing"),
    pytest.param(request(query(metric_stat=stat(dims=(("a", "1"), ("a", "2"))))), IPV,
                 "No metric may specify the same dimension name twice.", id="dimension-twice"),
])
def test_rejected(req: MetricDataRequest, error: type[errors.ServiceError], message: str) -> None:
    got = rejected(req)

    assert type(got) is error
    assert got.message.startswith(message)


def test_defaults_newest_first_and_100800_datapoints() -> None:
    plan = plan_metric_data(request(), NOW)
    assert (plan.scan_by, plan.page_size) == ("TimestampDescending", 100_800)
    assert plan_metric_data(request(max_datapoints=10**6), NOW).page_size == 100_800
    assert plan_metric_data(request(max_datapoints=7), NOW).page_size == 7


def test_start_rounds_and_granularity_follows_age_as_for_get_metric_statistics() -> None:
    plan = plan_metric_data(request(query("a"), query("b", metric_stat=stat(period=10)),
                                    start=NOW - 4 * 3600 + 37, end=NOW), NOW)
    a, b = plan.stats
    assert (a.start, a.empty) == (NOW - 4 * 3600, False)
    assert b.empty  # 10 s data is kept three hours only
    assert len(fetches(plan.stats, ACCOUNT)) == 1


def test_one_fetch_for_every_query_sharing_range_period_unit_and_need_of_values() -> None:
    plan = plan_metric_data(request(query("a"), query("b", metric_stat=stat("Other", "p99")),
                                    query("c", metric_stat=stat(unit="Bytes")),
                                    query("d", metric_stat=stat(period=300))), NOW)
    got = sorted(fetches(plan.stats, ACCOUNT), key=lambda f: (f.period, f.unit or ""))
    assert sorted((f.period, f.unit or "", f.histograms, len(f.series)) for f in got) == [
        (60, "", False, 1), (60, "", True, 1), (60, "Bytes", False, 1), (300, "", False, 1)]


def test_min_and_max_fetched_only_for_the_statistics_that_use_them() -> None:
    plan = plan_metric_data(request(query("a", metric_stat=stat(s="Average")), query("b", metric_stat=stat(s="Sum")),
                                    query("c", metric_stat=stat(s="Minimum")), query("d", metric_stat=stat(s="p90"))),
                            NOW)
    got = {(f.histograms, f.extremes) for f in fetches(plan.stats, ACCOUNT)}
    assert got == {(False, False), (False, True), (True, True)}
    sid = series_id(ACCOUNT, "App", "Latency", ())
    nan = float("nan")
    fetched = {f: {sid: [(NOW - 60, 2.0, 6.0, 2.0, 4.0, ([2.0, 4.0], [1.0, 1.0])) if f.histograms else
                         (NOW - 60, 2.0, 6.0, 2.0, 4.0) if f.extremes else (NOW - 60, 2.0, 6.0, nan, nan)]}
               for f in fetches(plan.stats, ACCOUNT)}
    series = metric_series(plan.stats, ACCOUNT, fetched)
    assert [series[k].values for k in "abcd"] == [(3.0,), (6.0,), (2.0,), (4.0,)]


def test_series_statistic_per_bucket_and_default_labels() -> None:
    plan = plan_metric_data(request(query("a", metric_stat=stat(s="Average")), query("b", metric_stat=stat(s="p50")),
                                    query("c", metric_stat=stat(s="Sum"), label="mine"),
                                    query("hidden", return_data=False)), NOW)
    sid = series_id(ACCOUNT, "App", "Latency", ())
    fetched = {f: {sid: [(NOW - 120, 2.0, 6.0, 2.0, 4.0, ([2.0, 4.0], [1.0, 1.0])),
                         (NOW - 60, 3.0, 3.0, 1.0, 1.0, ([], []))]} for f in fetches(plan.stats, ACCOUNT)}
    series = metric_series(plan.stats, ACCOUNT, fetched)
    assert series["a"].values == (3.0, 1.0) and series["a"].timestamps == (NOW - 120.0, NOW - 60.0)
    assert series["b"].values == (2.0,)  # the second bucket has no values: no percentile
    assert "hidden" not in series  # neither returned nor referenced: not fetched
    got = evaluate_results(plan, series, {}, [], NOW)
    assert [(r.id, r.label) for r in got] == [("a", "Latency Average"), ("b", "Latency p50"), ("c", "mine")]


def test_expressions_evaluate_over_fetched_series() -> None:
    plan = plan_metric_data(request(query("m1", return_data=False), query("m2", metric_stat=stat("Other"),
                                                                       return_data=False),
                                    query("ratio", expression="m1/m2*100", label="pct")), NOW)
    assert [s.id for s in plan.stats] == ["m1", "m2"]
    fetched = {f: {series_id(ACCOUNT, "App", "Latency", ()): [(NOW - 60, 1.0, 1.0, 1.0, 1.0)],
                   series_id(ACCOUNT, "App", "Other", ()): [(NOW - 60, 1.0, 4.0, 4.0, 4.0)]}
               for f in fetches(plan.stats, ACCOUNT)}
    [r] = evaluate_results(plan, metric_series(plan.stats, ACCOUNT, fetched), {}, [], NOW)
    assert (r.id, r.label, r.timestamps, r.values) == ("ratio", "pct", (NOW - 60.0,), (25.0,))


def test_dimensions_name_the_series() -> None:
    plan = plan_metric_data(request(query(metric_stat=stat(dims=(("Z", "1"), ("A", "2"))))), NOW)
    [f] = fetches(plan.stats, ACCOUNT)
    assert f.series == (series_id(ACCOUNT, "App", "Latency", (Dimension("A", "2"), Dimension("Z", "1"))),)


R = [Result("a", "A", (1.0, 2.0, 3.0), (10.0, 20.0, 30.0)), Result("b", "B", (1.0, 2.0), (1.0, 2.0)),
     Result("c", "C", (), ())]


@pytest.mark.parametrize(("scan_by", "offset", "size", "expected", "following"), [
    pytest.param("TimestampAscending", 0, 100, [("a", (10.0, 20.0, 30.0), "Complete"), ("b", (1.0, 2.0), "Complete"),
                                                ("c", (), "Complete")], None, id="one-page"),
    pytest.param("TimestampDescending", 0, 100, [("a", (30.0, 20.0, 10.0), "Complete"),
                                                 ("b", (2.0, 1.0), "Complete"), ("c", (), "Complete")], None,
                 id="newest-first"),
    pytest.param("TimestampAscending", 0, 2, [("a", (10.0, 20.0), "PartialData"), ("b", (), "PartialData"),
                                              ("c", (), "Complete")], 2, id="first-page"),
    pytest.param("TimestampAscending", 2, 2, [("a", (30.0,), "Complete"), ("b", (1.0,), "PartialData"),
                                              ("c", (), "Complete")], 4, id="middle-page-spans-results"),
    pytest.param("TimestampAscending", 4, 2, [("a", (), "Complete"), ("b", (2.0,), "Complete"),
                                              ("c", (), "Complete")], None, id="last-page"),
    pytest.param("TimestampDescending", 3, 5, [("a", (), "Complete"), ("b", (2.0, 1.0), "Complete"),
                                               ("c", (), "Complete")], None, id="exactly-the-rest"),
])
def test_pages(scan_by: str, offset: int, size: int, expected: list[tuple[str, tuple[float, ...], str]],
               following: int | None) -> None:
    got, nxt = page(R, scan_by, offset, size)

    assert [(r.id, r.values, r.status) for r in got] == expected
    assert nxt == following


def test_fingerprint_binds_the_request_but_not_its_page_size() -> None:
    base = request()
    fp = plan_metric_data(base, NOW).fingerprint
    assert plan_metric_data(dataclasses.replace(base, max_datapoints=5), NOW).fingerprint == fp
    assert plan_metric_data(dataclasses.replace(base, scan_by="TimestampAscending"), NOW).fingerprint != fp
    assert plan_metric_data(request(query("other")), NOW).fingerprint != fp


def test_every_metric_stat_is_checked_even_one_nobody_reads() -> None:
    got = rejected(request(query("unused", metric_stat=stat(s="p101"), return_data=False), query("m1")))

    assert got.message == "The value p101 for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid."
