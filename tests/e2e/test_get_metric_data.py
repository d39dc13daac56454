"""GetMetricData end to end: real boto3 clients, over HTTP, in each wire protocol.

Every test runs once per protocol (json 1.0, query, rpc-v2-cbor) and writes under its own namespace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError


def _minute(offset_minutes: int = 0) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=offset_minutes)


def _stat(namespace: str, name: str, stat: str, *, period: int = 60, dims: dict[str, str] | None = None,
          **extra: object) -> dict[str, object]:
    metric = {"Namespace": namespace, "MetricName": name,
              "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {}).items()]}
    return {"MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, **extra}


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err.get("Message", "")


def _by_id(out: dict) -> dict[str, dict]:
    return {r["Id"]: r for r in out["MetricDataResults"]}


@pytest.fixture
def latency(cw, namespace):
    """Three minutes of Latency for Host=web: minute m holds the values 1..10 plus 100*m."""
    t = _minute(-10)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "web"}], "Timestamp": t + timedelta(minutes=m),
         "Values": [float(v) for v in range(1, 11)] + [100.0 * (m + 1)], "Unit": "Milliseconds"} for m in range(3)])
    return t


def test_basic_and_extended_statistics_of_many_queries(cw, namespace, latency):
    t = latency
    stats = {"avg": "Average", "n": "SampleCount", "total": "Sum", "lo": "Minimum", "hi": "Maximum", "med": "p50",
             "tm": "tm90", "iqm": "IQM", "wm": "WM(10%:90%)", "tc": "TC(:5)", "ts": "TS(2:5)", "pr": "PR(:3)",
             "tmr": "TM(10%:90%)"}
    out = cw.get_metric_data(
        MetricDataQueries=[{"Id": i, **_stat(namespace, "Latency", s, dims={"Host": "web"})} for i, s in stats.items()],
        StartTime=t, EndTime=t + timedelta(minutes=3), ScanBy="TimestampAscending")
    got = _by_id(out)
    assert list(got) == list(stats)  # request order
    for i, r in got.items():
        assert r["Timestamps"] == [t, t + timedelta(minutes=1), t + timedelta(minutes=2)]
        # one metric under several statistics: the default label names the statistic
        assert r["StatusCode"] == "Complete" and r["Label"] == f"Latency {stats[i]}" and r["Messages"] == []
    assert out["Messages"] == [] and "NextToken" not in out
    assert got["n"]["Values"] == [11.0] * 3
    assert got["total"]["Values"] == [155.0, 255.0, 355.0]
    assert got["lo"]["Values"] == [1.0] * 3 and got["hi"]["Values"] == [100.0, 200.0, 300.0]
    assert got["avg"]["Values"] == [155.0 / 11, 255.0 / 11, 355.0 / 11]
    assert got["med"]["Values"] == [6.0] * 3          # rank ceil(5.5) = 6 of 11
    # 11 samples 1..10 and a large one: tm90 keeps ranks <= 9.9 (1..9), IQM ranks 2.75 < r <= 8.25
    # (3..8), TM(10%:90%) ranks 1.1 < r <= 9.9 (2..9); WM clamps rank 1 up to 2 and ranks 10, 11 down to 9
    assert got["tm"]["Values"] == [5.0] * 3
    assert got["iqm"]["Values"] == [5.5] * 3
    assert got["tc"]["Values"] == [5.0] * 3 and got["ts"]["Values"] == [12.0] * 3
    assert got["pr"]["Values"] == [pytest.approx(300 / 11)] * 3
    assert got["tmr"]["Values"] == [5.5] * 3
    assert got["wm"]["Values"] == [(2 + sum(range(2, 10)) + 9 + 9) / 11] * 3


def test_newest_first_by_default_and_label_given(cw, namespace, latency):
    t = latency
    out = cw.get_metric_data(
        MetricDataQueries=[{"Id": "m1", "Label": "web latency", **_stat(namespace, "Latency", "Maximum",
                                                                         dims={"Host": "web"})}],
        StartTime=t, EndTime=t + timedelta(minutes=3))
    [r] = out["MetricDataResults"]
    assert r["Label"] == "web latency"
    assert r["Timestamps"] == [t + timedelta(minutes=2), t + timedelta(minutes=1), t]
    assert r["Values"] == [300.0, 200.0, 100.0]


def test_return_data_false_and_unknown_metric(cw, namespace, latency):
    t = latency
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "hidden", "ReturnData": False, **_stat(namespace, "Latency", "Sum", dims={"Host": "web"})},
        {"Id": "nothing", **_stat(namespace, "Nope", "Sum")}], StartTime=t, EndTime=t + timedelta(minutes=3))
    assert out["MetricDataResults"] == [
        {"Id": "nothing", "Label": "Nope", "Timestamps": [], "Values": [], "StatusCode": "Complete", "Messages": []}]


def test_unit_filter(cw, namespace):
    t = _minute(-5)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Size", "Timestamp": t, "Value": 1.0, "Unit": "Bytes"},
        {"MetricName": "Size", "Timestamp": t, "Value": 5.0, "Unit": "Kilobytes"}])
    queries = [{"Id": "all", **_stat(namespace, "Size", "Sum")}]
    queries.append({"Id": "kb", "MetricStat": {**queries[0]["MetricStat"], "Unit": "Kilobytes"}})
    got = _by_id(cw.get_metric_data(MetricDataQueries=queries, StartTime=t, EndTime=t + timedelta(minutes=1)))
    assert got["all"]["Values"] == [6.0] and got["kb"]["Values"] == [5.0]


def test_pagination_with_the_boto3_paginator(cw, namespace):
    t = _minute(-20)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Timestamp": t + timedelta(minutes=m), "Value": float(m)}
        for name in ("A", "B") for m in range(7)])
    queries = [{"Id": "a", **_stat(namespace, "A", "Sum")}, {"Id": "b", **_stat(namespace, "B", "Sum")}]
    first = cw.get_metric_data(MetricDataQueries=queries, StartTime=t, EndTime=t + timedelta(minutes=7),
                               MaxDatapoints=5, ScanBy="TimestampAscending")
    assert [(r["Id"], r["StatusCode"], len(r["Values"])) for r in first["MetricDataResults"]] == [
        ("a", "PartialData", 5), ("b", "PartialData", 0)]
    pages = list(cw.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=t, EndTime=t + timedelta(minutes=7), MaxDatapoints=5,
        ScanBy="TimestampAscending"))
    assert len(pages) == 3
    values: dict[str, list[float]] = {"a": [], "b": []}
    for p in pages:
        for r in p["MetricDataResults"]:
            values[r["Id"]] += r["Values"]
    assert values == {"a": [float(m) for m in range(7)], "b": [float(m) for m in range(7)]}
    assert [r["StatusCode"] for r in pages[-1]["MetricDataResults"]] == ["Complete", "Complete"]


def test_next_token_of_another_tenant_or_request_is_invalid(cw, cw_b, namespace):
    t = _minute(-20)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "A", "Timestamp": t + timedelta(minutes=m), "Value": 1.0} for m in range(3)])
    query = dict(MetricDataQueries=[{"Id": "a", **_stat(namespace, "A", "Sum")}], StartTime=t,
                 EndTime=t + timedelta(minutes=3))
    token = cw.get_metric_data(MaxDatapoints=1, **query)["NextToken"]
    with pytest.raises(ClientError) as e:
        cw_b.get_metric_data(NextToken=token, **query)
    assert _error(e)[0] == "InvalidNextToken"
    other = dict(query, MetricDataQueries=[{"Id": "b", **_stat(namespace, "A", "Sum")}])
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(NextToken=token, **other)
    assert _error(e)[0] == "InvalidNextToken"


def test_tenants_never_see_each_others_data(cw, cw_b, namespace):
    t = _minute(-5)
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Secret", "Timestamp": t, "Value": 42.0}])
    query = dict(MetricDataQueries=[{"Id": "s", **_stat(namespace, "Secret", "Sum")}], StartTime=t,
                 EndTime=t + timedelta(minutes=1))
    assert cw.get_metric_data(**query)["MetricDataResults"][0]["Values"] == [42.0]
    assert cw_b.get_metric_data(**query)["MetricDataResults"][0]["Values"] == []


@pytest.mark.parametrize(("queries", "code", "message"), [
    pytest.param(lambda ns: [{"Id": "M1", **_stat(ns, "A", "Sum")}], "ValidationError",
                 "The value M1 for parameter MetricDataQueries.member.1.Id is invalid", id="id-uppercase-start"),
    pytest.param(lambda ns: [{"Id": "a", **_stat(ns, "A", "Sum")}, {"Id": "a", **_stat(ns, "B", "Sum")}],
                 "ValidationError", "The value a for parameter MetricDataQueries.member.2.Id is a duplicate",
                 id="id-duplicate"),
    pytest.param(lambda ns: [{"Id": "a", **_stat(ns, "A", "p101")}], "InvalidParameterValue",
                 "The value p101 for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid.",
                 id="stat-invalid"),
    pytest.param(lambda ns: [{"Id": "a", **_stat(ns, "A", "Sum", period=61)}], "InvalidParameterValue",
                 "The parameter MetricDataQueries.member.1.MetricStat.Period must be a multiple of 60.",
                 id="period-not-multiple-of-60"),
    pytest.param(lambda ns: [{"Id": "a", "Expression": "m1", **_stat(ns, "A", "Sum")}],
                 "InvalidParameterCombination",
                 "The parameters MetricDataQueries.member.1.Expression and MetricDataQueries.member.1.MetricStat are "
                 "mutually exclusive and you have specified both.", id="stat-and-expression"),
    pytest.param(lambda ns: [{"Id": "a"}], "MissingParameter",
                 "The parameter MetricDataQueries.member.1.Expression or MetricDataQueries.member.1.MetricStat must "
                 "be specified.", id="neither"),
    pytest.param(lambda ns: [{"Id": "e", "Expression": "m1 +"}], "ValidationError",
                 "Error in expression e: Syntax error", id="expression-syntax"),
    pytest.param(lambda ns: [{"Id": "e", "Expression": "m9 * 2"}], "ValidationError",
                 "Error in expression e:", id="expression-unknown-id"),
    pytest.param(lambda ns: [{"Id": f"q{i}", **_stat(ns, "A", "Sum")} for i in range(501)], "InvalidParameterValue",
                 "The collection MetricDataQueries must not have a size greater than 500.", id="501-queries"),
])
def test_validation_errors(cw_unvalidated, namespace, queries, code, message):
    t = _minute(-5)
    with pytest.raises(ClientError) as e:
        cw_unvalidated.get_metric_data(MetricDataQueries=queries(namespace), StartTime=t,
                                       EndTime=t + timedelta(minutes=1))
    got_code, got_message = _error(e)
    assert got_code == code and got_message.startswith(message)


def test_start_not_before_end(cw, namespace):
    t = _minute(-5)
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(MetricDataQueries=[{"Id": "a", **_stat(namespace, "A", "Sum")}], StartTime=t, EndTime=t)
    assert _error(e) == ("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")


def test_start_rounds_down_to_the_minute_and_buckets_align_to_it(cw, namespace):
    t = _minute(-30)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "N", "Timestamp": t + timedelta(minutes=m), "Value": float(m)} for m in range(10)])
    out = cw.get_metric_data(MetricDataQueries=[{"Id": "n", **_stat(namespace, "N", "Sum", period=300)}],
                             StartTime=t + timedelta(seconds=37), EndTime=t + timedelta(minutes=10),
                             ScanBy="TimestampAscending")
    [r] = out["MetricDataResults"]
    assert list(zip(r["Timestamps"], r["Values"], strict=True)) == [(t, 10.0), (t + timedelta(minutes=5), 35.0)]


# --- metric math


def test_math_ratio_of_two_metrics(cw, namespace):
    t = _minute(-10)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        *({"MetricName": "Errors", "Timestamp": t + timedelta(minutes=m), "Value": float(m + 1)} for m in range(3)),
        *({"MetricName": "Requests", "Timestamp": t + timedelta(minutes=m), "Value": 10.0} for m in range(3))])
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "m1", "ReturnData": False, **_stat(namespace, "Errors", "Sum")},
        {"Id": "m2", "ReturnData": False, **_stat(namespace, "Requests", "Sum")},
        {"Id": "pct", "Expression": "m1/m2*100", "Label": "error rate"}],
        StartTime=t, EndTime=t + timedelta(minutes=3), ScanBy="TimestampAscending")
    [r] = out["MetricDataResults"]
    assert (r["Id"], r["Label"], r["StatusCode"]) == ("pct", "error rate", "Complete")
    assert r["Timestamps"] == [t + timedelta(minutes=m) for m in range(3)]
    assert r["Values"] == pytest.approx([10.0, 20.0, 30.0])


def test_math_rate_is_per_second_change(cw, namespace):
    t = _minute(-10)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Total", "Timestamp": t + timedelta(minutes=m), "Value": 60.0 * m * m} for m in range(3)])
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "m1", "ReturnData": False, **_stat(namespace, "Total", "Maximum")},
        {"Id": "r", "Expression": "RATE(m1)"}], StartTime=t, EndTime=t + timedelta(minutes=3),
        ScanBy="TimestampAscending")
    [r] = out["MetricDataResults"]
    # 0, 60, 240 one minute apart: 1/s then 3/s
    assert list(zip(r["Timestamps"], r["Values"], strict=True)) == [
        (t + timedelta(minutes=1), pytest.approx(1.0)), (t + timedelta(minutes=2), pytest.approx(3.0))]


def test_dynamic_labels(cw, namespace):
    t = _minute(-10)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": h}], "Timestamp": t, "Value": v}
        for h, v in (("h1", 5.0), ("h2", 7.0))])
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "a", "Label": "${PROP('Dim.Host')} max ${MAX}", **_stat(namespace, "CPU", "Sum", dims={"Host": "h1"})},
        {"Id": "b", **_stat(namespace, "CPU", "Sum", dims={"Host": "h2"})},
        {"Id": "c", "Expression": "a + b", "Label": "${PROP('MetricName')} total"}],
        StartTime=t, EndTime=t + timedelta(minutes=1))
    got = _by_id(out)
    assert got["a"]["Label"] == "h1 max 5"
    assert got["b"]["Label"] == "CPU h2"  # default: metric name plus the dimension value that tells them apart
    assert got["c"]["Values"] == [12.0]


# --- SEARCH and Metrics Insights


def _hosts(cw, namespace, t, values):
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": h}], "Timestamp": t + timedelta(minutes=m),
         "Value": v} for h, v in values.items() for m in range(2)])


def test_search_finds_metrics_and_aggregates_them(cw, namespace):
    t = _minute(-10)
    _hosts(cw, namespace, t, {"web1": 1.0, "web2": 2.0, "db1": 40.0})
    search = f"SEARCH('{{{namespace},Host}} MetricName=\"CPU\" web', 'Sum', 60)"
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "s", "Expression": search},
        {"Id": "total", "Expression": "SUM(s)", "Label": "all web"}],
        StartTime=t, EndTime=t + timedelta(minutes=2), ScanBy="TimestampAscending")
    results = out["MetricDataResults"]
    hits = sorted((r["Label"], r["Values"]) for r in results if r["Id"] == "s")
    assert [v for _, v in hits] == [[1.0, 1.0], [2.0, 2.0]]
    assert all("web" in label for label, _ in hits)
    [total] = [r for r in results if r["Id"] == "total"]
    assert (total["Label"], total["Values"]) == ("all web", [3.0, 3.0])


def test_search_and_insights_see_only_the_callers_metrics(cw, cw_b, namespace):
    t = _minute(-10)
    _hosts(cw, namespace, t, {"web1": 1.0})
    queries = {"search": f"SEARCH('{{{namespace},Host}}', 'Sum', 60)",
               "insights": f'SELECT SUM(CPU) FROM "{namespace}"'}
    for expression in queries.values():
        mine = cw.get_metric_data(MetricDataQueries=[{"Id": "q", "Expression": expression, "Period": 60}],
                                  StartTime=t, EndTime=t + timedelta(minutes=2))
        theirs = cw_b.get_metric_data(MetricDataQueries=[{"Id": "q", "Expression": expression, "Period": 60}],
                                      StartTime=t, EndTime=t + timedelta(minutes=2))
        assert [r["Values"] for r in mine["MetricDataResults"]] == [[1.0, 1.0]]
        assert all(r["Values"] == [] for r in theirs["MetricDataResults"])


def test_insights_group_by_with_order_and_limit(cw, namespace):
    t = _minute(-10)
    _hosts(cw, namespace, t, {"web1": 1.0, "web2": 2.0, "db1": 40.0})
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "m1", **_stat(namespace, "CPU", "Sum", dims={"Host": "web1"})},
        {"Id": "top", "Expression": f'SELECT MAX(CPU) FROM SCHEMA("{namespace}", Host) GROUP BY Host '
                                    "ORDER BY MAX() DESC LIMIT 2", "Period": 60}],
        StartTime=t, EndTime=t + timedelta(minutes=2), ScanBy="TimestampAscending")
    got = [(r["Id"], r["Label"], r["Values"]) for r in out["MetricDataResults"]]
    assert got == [("m1", "CPU", [1.0, 1.0]), ("top", "db1", [40.0, 40.0]), ("top", "web2", [2.0, 2.0])]


def test_insights_without_group_by_takes_the_label(cw, namespace):
    t = _minute(-10)
    _hosts(cw, namespace, t, {"web1": 1.0, "web2": 2.0})
    out = cw.get_metric_data(MetricDataQueries=[
        {"Id": "avg", "Expression": f'SELECT AVG(CPU) FROM "{namespace}" WHERE Host != \'web2\'',
         "Label": "web1 only", "Period": 120}], StartTime=t, EndTime=t + timedelta(minutes=2))
    assert [(r["Label"], r["Timestamps"], r["Values"]) for r in out["MetricDataResults"]] == [
        ("web1 only", [t], [1.0])]


def test_two_insights_queries_are_refused(cw_unvalidated, namespace):
    t = _minute(-10)
    q = f'SELECT SUM(CPU) FROM "{namespace}"'
    with pytest.raises(ClientError) as e:
        cw_unvalidated.get_metric_data(MetricDataQueries=[{"Id": "a", "Expression": q}, {"Id": "b", "Expression": q}],
                                       StartTime=t, EndTime=t + timedelta(minutes=2))
    assert _error(e)[0] == "InvalidParameterValue"
