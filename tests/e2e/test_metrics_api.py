"""CloudWatch's metric API end to end: real boto3 clients, over HTTP, in each wire protocol.

Every test here runs once per protocol (json 1.0, query, rpc-v2-cbor) against a stack started by
the ``stack`` fixture; each test writes under its own namespace so tests never see each other.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError


def _minute(offset_minutes: int = 0) -> datetime:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now + timedelta(minutes=offset_minutes)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    err = exc.value.response["Error"]
    return err["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"], err.get("Message", "")


def test_value_statistics_round_trip(cw, namespace):
    t = _minute(-5)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "web"}], "Timestamp": t + timedelta(seconds=s),
         "Value": v, "Unit": "Milliseconds"} for s, v in ((1, 10.0), (20, 30.0), (40, 20.0))])
    out = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "web"}],
        StartTime=t - timedelta(minutes=1), EndTime=t + timedelta(minutes=2), Period=60,
        Statistics=["SampleCount", "Average", "Sum", "Minimum", "Maximum"])
    assert out["Label"] == "Latency"
    [dp] = out["Datapoints"]
    assert dp["Timestamp"] == t
    assert (dp["SampleCount"], dp["Average"], dp["Sum"], dp["Minimum"], dp["Maximum"]) == (3.0, 20.0, 60.0, 10.0, 30.0)
    assert dp["Unit"] == "Milliseconds"


def test_dimension_order_does_not_change_identity(cw, namespace):
    t = _minute(-3)
    dims = [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}]
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "M", "Dimensions": dims, "Timestamp": t, "Value": 1.0}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="M", Dimensions=list(reversed(dims)),
                                   StartTime=t, EndTime=t + timedelta(minutes=1), Period=60, Statistics=["Sum"])
    assert [dp["Sum"] for dp in out["Datapoints"]] == [1.0]
    # a subset of the dimensions is another metric: no data
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="M", Dimensions=dims[:1],
                                   StartTime=t, EndTime=t + timedelta(minutes=1), Period=60, Statistics=["Sum"])
    assert out["Datapoints"] == []


def test_percentiles_from_values_and_counts(cw, namespace):
    t = _minute(-4)
    values = [float(v) for v in range(1, 101)]  # 1..100, each once, plus 100 x 1000.0
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Lat", "Timestamp": t, "Values": values, "Counts": [1.0] * len(values), "Unit": "Milliseconds"},
        {"MetricName": "Lat", "Timestamp": t + timedelta(seconds=30), "Values": [1000.0], "Counts": [100.0],
         "Unit": "Milliseconds"}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="Lat", StartTime=t, EndTime=t + timedelta(minutes=1),
                                   Period=60, Statistics=["SampleCount", "Maximum"],
                                   ExtendedStatistics=["p50", "p90", "p99.5", "p10"])
    [dp] = out["Datapoints"]
    assert dp["SampleCount"] == 200.0 and dp["Maximum"] == 1000.0
    # 200 samples: ranks 1..100 are 1..100, ranks 101..200 are 1000.
    assert dp["ExtendedStatistics"] == {"p50": 100.0, "p90": 1000.0, "p99.5": 1000.0, "p10": 20.0}


def test_statistic_values_aggregate(cw, namespace):
    t = _minute(-6)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Req", "Timestamp": t, "StatisticValues": {"SampleCount": 10, "Sum": 100, "Minimum": 2, "Maximum": 30}},
        {"MetricName": "Req", "Timestamp": t + timedelta(seconds=10),
         "StatisticValues": {"SampleCount": 5, "Sum": 20, "Minimum": 1, "Maximum": 9}}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="Req", StartTime=t, EndTime=t + timedelta(minutes=1),
                                   Period=60, Statistics=["SampleCount", "Sum", "Minimum", "Maximum", "Average"],
                                   ExtendedStatistics=["p50"])
    [dp] = out["Datapoints"]
    assert (dp["SampleCount"], dp["Sum"], dp["Minimum"], dp["Maximum"]) == (15.0, 120.0, 1.0, 30.0)
    assert math.isclose(dp["Average"], 8.0)
    assert "ExtendedStatistics" not in dp or "p50" not in dp["ExtendedStatistics"]  # no raw values: no percentile


def test_units_are_kept_apart(cw, namespace):
    t = _minute(-7)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Size", "Timestamp": t, "Value": 1.0, "Unit": "Bytes"},
        {"MetricName": "Size", "Timestamp": t, "Value": 5.0, "Unit": "Kilobytes"}])
    common = dict(Namespace=namespace, MetricName="Size", StartTime=t, EndTime=t + timedelta(minutes=1), Period=60,
                  Statistics=["Sum"])
    both = cw.get_metric_statistics(**common)["Datapoints"]
    assert sorted((d["Unit"], d["Sum"]) for d in both) == [("Bytes", 1.0), ("Kilobytes", 5.0)]
    only = cw.get_metric_statistics(Unit="Kilobytes", **common)["Datapoints"]
    assert [(d["Unit"], d["Sum"]) for d in only] == [("Kilobytes", 5.0)]
    assert cw.get_metric_statistics(Unit="Seconds", **common)["Datapoints"] == []


def test_periods_bucket_and_align(cw, namespace):
    t = _minute(-30)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "N", "Timestamp": t + timedelta(minutes=m), "Value": float(m)} for m in range(10)])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="N", StartTime=t + timedelta(seconds=37),
                                   EndTime=t + timedelta(minutes=10), Period=300, Statistics=["Sum", "SampleCount"])
    got = sorted((d["Timestamp"], d["Sum"], d["SampleCount"]) for d in out["Datapoints"])
    # start rounds down to the minute (t); buckets [t, t+5m) and [t+5m, t+10m)
    assert got == [(t, 10.0, 5.0), (t + timedelta(minutes=5), 35.0, 5.0)]


def test_list_metrics_filters(cw, namespace):
    t = _minute(-2)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Timestamp": t, "Value": 1.0},
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h2"}, {"Name": "Role", "Value": "db"}],
         "Timestamp": t, "Value": 1.0},
        {"MetricName": "Mem", "Dimensions": [{"Name": "Role", "Value": "db"}], "Timestamp": t, "Value": 1.0},
        {"MetricName": "Disk", "Timestamp": t, "Value": 1.0}])

    def names(**kw):
        metrics = cw.list_metrics(Namespace=namespace, **kw)["Metrics"]
        return sorted((m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in metrics)

    assert len(names()) == 4
    assert names(MetricName="CPU") == [("CPU", (("Host", "h1"),)), ("CPU", (("Host", "h2"), ("Role", "db")))]
    assert [n for n, _ in names(Dimensions=[{"Name": "Role"}])] == ["CPU", "Mem"]
    assert names(Dimensions=[{"Name": "Host", "Value": "h2"}]) == [("CPU", (("Host", "h2"), ("Role", "db")))]
    assert names(Dimensions=[{"Name": "Host"}, {"Name": "Role", "Value": "db"}]) == [
        ("CPU", (("Host", "h2"), ("Role", "db")))]
    assert names(RecentlyActive="PT3H") == names()
    assert cw.list_metrics(Namespace=namespace + "-other")["Metrics"] == []


def test_list_metrics_paginates(cw, namespace):
    t = _minute(-1)
    for chunk in range(3):  # 1200 metrics, 400 per request
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "M", "Dimensions": [{"Name": "I", "Value": f"{chunk * 400 + i:05d}"}], "Timestamp": t, "Value": 1.0}
            for i in range(400)])
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=namespace))
    sizes = [len(p["Metrics"]) for p in pages]
    assert sizes == [500, 500, 200]
    values = [m["Dimensions"][0]["Value"] for p in pages for m in p["Metrics"]]
    assert sorted(values) == [f"{i:05d}" for i in range(1200)]
    assert "NextToken" not in pages[-1]


def test_large_put_is_gzipped_and_stored(cw, namespace):
    t = _minute(-8)
    data = [{"MetricName": "Bulk", "Dimensions": [{"Name": "Shard", "Value": str(i % 10)}], "Timestamp": t,
             "Value": float(i)} for i in range(1000)]
    seen = {}

    def capture(request, **_):
        value = request.headers.get("Content-Encoding")
        seen["encoding"] = value.decode() if isinstance(value, bytes) else value

    cw.meta.events.register("before-send.cloudwatch.PutMetricData", capture)
    try:
        cw.put_metric_data(Namespace=namespace, MetricData=data)
    finally:
        cw.meta.events.unregister("before-send.cloudwatch.PutMetricData", capture)
    assert seen["encoding"] == "gzip"
    total = 0.0
    for shard in range(10):
        out = cw.get_metric_statistics(Namespace=namespace, MetricName="Bulk", Dimensions=[{"Name": "Shard", "Value": str(shard)}],
                                       StartTime=t, EndTime=t + timedelta(minutes=1), Period=60, Statistics=["Sum", "SampleCount"])
        [dp] = out["Datapoints"]
        assert dp["SampleCount"] == 100.0
        total += dp["Sum"]
    assert total == sum(range(1000))


@pytest.mark.parametrize(("call", "code", "fragment"), [
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "X", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]),
        "InvalidParameterCombination", "MetricData.member.1.Value", id="value-and-statistic-values"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "X", "Value": 1.0, "Timestamp": datetime.now(UTC) - timedelta(days=15)}]),
        "InvalidParameterValue", "MetricData.member.1.Timestamp", id="timestamp-too-old"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "X", "Value": 1.0, "StorageResolution": 5}]),
        "InvalidParameterValue", "StorageResolution", id="storage-resolution"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "X", "Value": 1.0, "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}]),
        "InvalidParameterValue", "Dimensions", id="31-dimensions"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[{"Value": 1.0}]),
        "MissingParameter", "MetricData.member.1.MetricName", id="missing-metric-name"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "X", "Values": [1.0, 2.0], "Counts": [1.0]}]),
        "InvalidParameterValue", "Counts", id="values-counts-length"),
    pytest.param(lambda cw, ns: cw.get_metric_statistics(Namespace=ns, MetricName="X", StartTime=_minute(-10),
        EndTime=_minute(), Period=61, Statistics=["Sum"]), "InvalidParameterValue", "Period", id="period-61"),
    pytest.param(lambda cw, ns: cw.get_metric_statistics(Namespace=ns, MetricName="X", StartTime=_minute(-2000),
        EndTime=_minute(), Period=60, Statistics=["Sum"]), "InvalidParameterCombination", "1,440", id="too-many-datapoints"),
    pytest.param(lambda cw, ns: cw.get_metric_statistics(Namespace=ns, MetricName="X", StartTime=_minute(),
        EndTime=_minute(-5), Period=60, Statistics=["Sum"]), "InvalidParameterValue", "StartTime", id="start-after-end"),
    pytest.param(lambda cw, ns: cw.get_metric_statistics(Namespace=ns, MetricName="X", StartTime=_minute(-5),
        EndTime=_minute(), Period=60, ExtendedStatistics=["p101"]), "InvalidParameterValue", "p101", id="bad-percentile"),
    pytest.param(lambda cw, ns: cw.list_metrics(Namespace=ns, NextToken="not-a-token"),
        "InvalidNextToken", "", id="garbage-next-token"),
    pytest.param(lambda cw, ns: cw.list_metrics(Namespace=ns, RecentlyActive="PT1H"),
        "InvalidParameterValue", "RecentlyActive", id="recently-active"),
    pytest.param(lambda cw, ns: cw.get_metric_statistics(Namespace=ns, MetricName="X", StartTime=_minute(-5),
        EndTime=_minute(), Period=60, Statistics=["Sum"], Unit="Parsecs"),
        "InvalidParameterValue", "The parameter Unit must be a value in the set [ Seconds, ", id="unit"),
    pytest.param(lambda cw, ns: cw.list_metrics(Namespace=""), "InvalidParameterValue",
        "The parameter Namespace must be longer than 0 characters.", id="empty-namespace"),
    pytest.param(lambda cw, ns: cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m" * 256, "Value": 1.0}]), "InvalidParameterValue",
        "The parameter MetricData.member.1.MetricName must be shorter than 256 characters.",
        id="metric-name-256"),
])
def test_validation_errors_carry_aws_codes(cw_unvalidated, namespace, call, code, fragment):
    with pytest.raises(ClientError) as exc:
        call(cw_unvalidated, namespace)
    got_code, status, message = _error(exc)
    assert (got_code, status) == (code, 400)
    assert fragment in message


def test_unsupported_operation_is_a_clean_error(cw):
    with pytest.raises(ClientError) as exc:
        cw.describe_insight_rules()  # Contributor Insights: not a StackWatch feature
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidAction", 400)
    assert "DescribeInsightRules" in message


def test_one_request_mixing_every_datum_form(cw, namespace):
    t = _minute(-9)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Mix", "Timestamp": t, "Value": 4.0, "Unit": "Count", "StorageResolution": 1},
        {"MetricName": "Mix", "Timestamp": t + timedelta(seconds=5),
         "StatisticValues": {"SampleCount": 2, "Sum": 10, "Minimum": 4, "Maximum": 6}, "Unit": "Count"},
        {"MetricName": "Mix", "Timestamp": t + timedelta(seconds=9), "Values": [1.0, 8.0], "Counts": [3.0, 1.0],
         "Unit": "Count"},
        {"MetricName": "Mix", "Dimensions": [{"Name": "Z", "Value": "1"}], "Timestamp": t, "Value": 100.0}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="Mix", StartTime=t, EndTime=t + timedelta(minutes=1),
                                   Period=60, Statistics=["SampleCount", "Sum", "Minimum", "Maximum"])
    [dp] = out["Datapoints"]
    assert (dp["SampleCount"], dp["Sum"], dp["Minimum"], dp["Maximum"], dp["Unit"]) == (7.0, 25.0, 1.0, 8.0, "Count")


def test_errors_name_the_offending_datum(cw_unvalidated, namespace):
    data = [{"MetricName": "Ok", "Value": 1.0}] * 2 + [
        {"MetricName": "Bad", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]
    with pytest.raises(ClientError) as exc:
        cw_unvalidated.put_metric_data(Namespace=namespace, MetricData=data)
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message == ("The parameters MetricData.member.3.Value and MetricData.member.3.StatisticValues are "
                       "mutually exclusive and you have specified both.")
    assert cw_unvalidated.list_metrics(Namespace=namespace)["Metrics"] == []  # nothing of the request was kept


def test_statistic_values_with_values_are_accepted_and_both_kept(cw, namespace):
    # The CloudWatch agent sends distributions this way: the exact statistic set, and the values with counts.
    t = _minute(-4)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Dist", "Timestamp": t, "StatisticValues": {"SampleCount": 4, "Sum": 10.5, "Minimum": 1.5,
                                                                   "Maximum": 4.0},
         "Values": [1.0, 4.0], "Counts": [3.0, 1.0]}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="Dist", StartTime=t, EndTime=t + timedelta(minutes=1),
                                   Period=60, Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
                                   ExtendedStatistics=["p50"])
    [dp] = out["Datapoints"]
    assert (dp["SampleCount"], dp["Sum"], dp["Minimum"], dp["Maximum"]) == (4.0, 10.5, 1.5, 4.0)
    assert dp["ExtendedStatistics"] == {"p50": 1.0}


def test_value_with_statistic_values_is_still_refused(cw, namespace):
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "X", "Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    assert _error(e)[0] == "InvalidParameterCombination"


def test_a_day_of_minutes_not_aligned_to_the_minute_is_accepted(cw, namespace):
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    end = end.replace(second=30)
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "D", "Timestamp": end - timedelta(minutes=2),
                                                         "Value": 1.0}])
    out = cw.get_metric_statistics(Namespace=namespace, MetricName="D", StartTime=end - timedelta(days=1), EndTime=end,
                                   Period=60, Statistics=["Sum"])
    assert [dp["Sum"] for dp in out["Datapoints"]] == [1.0]
