"""Metric math alarms, composite alarms, alarm tags and DescribeAlarms' filters, end to end.

Every test runs once per wire protocol (json 1.0, query, rpc-v2-cbor) against the session's stack,
whose alarm scheduler passes every half second. Alarms whose state must not move during a test
use a one-hour period; the math alarm uses 10-second periods so it is evaluated within seconds.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _name(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _put(cw: Any, name: str, namespace: str, **extra: Any) -> None:
    cw.put_metric_alarm(**{
        "AlarmName": name, "Namespace": namespace, "MetricName": "Latency", "Statistic": "Maximum",
        "Period": 3600, "EvaluationPeriods": 1, "Threshold": 100.0, "ComparisonOperator": "GreaterThanThreshold",
        **extra})


def _math(namespace: str, period: int = 10) -> list[dict[str, Any]]:
    stat = {"Metric": {"Namespace": namespace, "MetricName": "Errors"}, "Period": period, "Stat": "Sum"}
    return [{"Id": "e", "MetricStat": stat, "ReturnData": False},
            {"Id": "t", "MetricStat": {**stat, "Metric": {"Namespace": namespace, "MetricName": "Requests"}},
             "ReturnData": False},
            {"Id": "rate", "Expression": "100 * e / t", "Label": "error rate", "ReturnData": True}]


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _state(cw: Any, name: str, types: tuple[str, ...] = ("MetricAlarm", "CompositeAlarm")) -> dict[str, Any]:
    found = cw.describe_alarms(AlarmNames=[name], AlarmTypes=list(types))
    [alarm] = found["MetricAlarms"] + found["CompositeAlarms"]
    return alarm


def _wait_for(cw: Any, name: str, value: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while (alarm := _state(cw, name))["StateValue"] != value and time.monotonic() < deadline:
        time.sleep(0.5)
    return alarm


def test_a_math_alarm_goes_to_alarm_on_breaching_data(cw, namespace):
    name = _name("rate")
    now = datetime.now(UTC)
    data = []
    for s in range(0, 40, 5):
        at = now - timedelta(seconds=s)
        data += [{"MetricName": "Errors", "Timestamp": at, "Value": 30.0, "StorageResolution": 1},
                 {"MetricName": "Requests", "Timestamp": at, "Value": 100.0, "StorageResolution": 1}]
    cw.put_metric_data(Namespace=namespace, MetricData=data)
    cw.put_metric_alarm(AlarmName=name, Metrics=_math(namespace), EvaluationPeriods=1, Threshold=10.0,
                        ComparisonOperator="GreaterThanThreshold")
    described = _state(cw, name)
    assert [m["Id"] for m in described["Metrics"]] == ["e", "t", "rate"]
    assert described["Metrics"][2] == {"Id": "rate", "Expression": "100 * e / t", "Label": "error rate",
                                       "ReturnData": True}
    assert described["Metrics"][0]["MetricStat"]["Period"] == 10
    assert "MetricName" not in described and "Period" not in described and "Statistic" not in described
    alarm = _wait_for(cw, name, "ALARM")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [30.0 (")
    data = json.loads(alarm["StateReasonData"])
    assert "statistic" not in data and "extendedStatistic" not in data
    assert (data["period"], data["threshold"], data["recentDatapoints"]) == (10, 10.0, [30.0])
    assert "sampleCount" not in data["evaluatedDatapoints"][0]


def test_math_alarm_validation_matches_cloudwatch(cw, namespace):
    base = {"AlarmName": _name("bad"), "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold"}
    cases = [
        ({"Metrics": [{**q, "ReturnData": True} for q in _math(namespace)]}, "ValidationError",
         "Exactly one element of the metrics list should return data."),
        ({"Metrics": _math(namespace), "Statistic": "Sum"}, "ValidationError",
         "Statistic should not be set if list of Metrics is set."),
        ({"Metrics": _math(namespace), "Period": 60}, "ValidationError",
         "Period should not be set if list of Metrics is set."),
        ({}, "ValidationError", "MetricName must not be null"),
        ({"Metrics": _math(namespace, period=45)}, "InvalidParameterValue", None),
        ({"Metrics": [{"Id": f"m{i}", "MetricStat": _math(namespace)[0]["MetricStat"], "ReturnData": i == 0}
                      for i in range(11)]}, "LimitExceeded", None),
    ]
    for extra, code, message in cases:
        with pytest.raises(ClientError) as e:
            cw.put_metric_alarm(**base, **extra)
        assert _error(e) == (code, 400), extra
        if message is not None:
            assert e.value.response["Error"]["Message"] == message


def test_a_composite_follows_its_children(cw, namespace):
    a, b, parent = _name("child-a"), _name("child-b"), _name("parent")
    _put(cw, a, namespace)
    _put(cw, b, namespace)
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f'ALARM("{a}") AND ALARM({b})',
                           AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"], AlarmDescription="both",
                           Tags=[{"Key": "team", "Value": "web"}])
    composite = _state(cw, parent)
    assert composite["StateValue"] == "OK"  # evaluated at put: neither child is in ALARM
    assert composite["AlarmRule"] == f'ALARM("{a}") AND ALARM({b})' and composite["AlarmDescription"] == "both"
    assert cw.describe_alarms(AlarmNames=[parent])["CompositeAlarms"] == []  # AlarmTypes omitted: metric only
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")
    assert _state(cw, parent)["StateValue"] == "OK"
    cw.set_alarm_state(AlarmName=b, StateValue="ALARM", StateReason="test")
    composite = _state(cw, parent)
    assert composite["StateValue"] == "ALARM"
    arn_b = _state(cw, b)["AlarmArn"]
    assert composite["StateReason"].startswith(f"{arn_b} transitioned to ALARM at ")
    triggering = json.loads(composite["StateReasonData"])["triggeringAlarms"]
    assert {t["arn"].rsplit(":", 1)[-1] for t in triggering} == {a, b}
    history = cw.describe_alarm_history(AlarmName=parent, AlarmTypes=["CompositeAlarm"],
                                        HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from OK to ALARM",
                                                      "Alarm updated from INSUFFICIENT_DATA to OK"]
    assert {h["AlarmType"] for h in history} == {"CompositeAlarm"}
    assert cw.describe_alarm_history(AlarmName=parent)["AlarmHistoryItems"] == []  # metric alarms only
    deadline = time.monotonic() + 10  # the dispatcher records the action once it has run
    while not (found := cw.describe_alarm_history(AlarmName=parent, AlarmTypes=["CompositeAlarm"],
                                                  HistoryItemType="Action")["AlarmHistoryItems"]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [action] = found
    assert action["HistorySummary"].endswith("arn:aws:sns:us-east-1:123456789012:ops")
    children = cw.describe_alarms(ChildrenOfAlarmName=parent)
    assert sorted(c["AlarmName"] for c in children["MetricAlarms"]) == sorted([a, b])
    assert set(children["MetricAlarms"][0]) == {"AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp"}
    parents = cw.describe_alarms(ParentsOfAlarmName=a)
    assert parents["CompositeAlarms"] == [{"AlarmName": parent, "AlarmArn": composite["AlarmArn"]}]
    with pytest.raises(ClientError) as e:
        cw.delete_alarms(AlarmNames=[a])
    assert _error(e) == ("ValidationError", 400)
    assert e.value.response["Error"]["Message"] == f"Cannot delete {a} as there are composite alarm(s) depending on it."
    cw.delete_alarms(AlarmNames=[parent])
    cw.delete_alarms(AlarmNames=[a, b])
    gone = cw.describe_alarms(AlarmNames=[a, b, parent], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert (gone["MetricAlarms"], gone["CompositeAlarms"]) == ([], [])


def test_composite_rule_errors_and_cycles(cw, namespace):
    child = _name("c")
    _put(cw, child, namespace)
    with pytest.raises(ClientError) as e:
        cw.put_composite_alarm(AlarmName=_name("p"), AlarmRule=f"ALARM({child}) AND")
    assert _error(e) == ("ValidationError", 400)
    assert e.value.response["Error"]["Message"].startswith("Error in AlarmRule [")
    with pytest.raises(ClientError) as e:
        cw.put_composite_alarm(AlarmName=_name("p"), AlarmRule="ALARM(no-such-alarm)")
    assert _error(e) == ("ValidationError", 400)
    one, two = _name("loop-1"), _name("loop-2")
    cw.put_composite_alarm(AlarmName=one, AlarmRule=f"ALARM({child})")
    cw.put_composite_alarm(AlarmName=two, AlarmRule=f"ALARM({one})")
    cw.put_composite_alarm(AlarmName=one, AlarmRule=f"ALARM({two})")  # a cycle: accepted, not evaluated
    cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="test")
    with pytest.raises(ClientError) as e:
        cw.delete_alarms(AlarmNames=[one, two])
    assert _error(e) == ("ValidationError", 400)
    cw.put_composite_alarm(AlarmName=one, AlarmRule="FALSE")  # break the cycle
    assert _state(cw, one)["StateValue"] == "OK"
    cw.delete_alarms(AlarmNames=[two])
    cw.delete_alarms(AlarmNames=[one])


def test_an_actions_suppressor_holds_a_composites_actions(cw, namespace):
    child, quiet, parent = _name("c"), _name("maint"), _name("p")
    _put(cw, child, namespace)
    _put(cw, quiet, namespace)
    cw.set_alarm_state(AlarmName=quiet, StateValue="ALARM", StateReason="maintenance")
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f"ALARM({child})", ActionsSuppressor=quiet,
                           ActionsSuppressorWaitPeriod=1, ActionsSuppressorExtensionPeriod=1,
                           AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"])
    cw.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="test")
    composite = _state(cw, parent)
    assert composite["StateValue"] == "ALARM"
    assert (composite["ActionsSuppressedBy"], composite["ActionsSuppressor"]) == ("Alarm", quiet)

    def actions() -> list[Any]:
        return cw.describe_alarm_history(AlarmName=parent, AlarmTypes=["CompositeAlarm"],
                                         HistoryItemType="Action")["AlarmHistoryItems"]

    assert actions() == []
    cw.set_alarm_state(AlarmName=quiet, StateValue="OK", StateReason="done")
    assert _state(cw, parent)["ActionsSuppressedBy"] == "ExtensionPeriod"
    deadline = time.monotonic() + 10
    while not actions() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(actions()) == 1
    assert "ActionsSuppressedBy" not in _state(cw, parent)
    with pytest.raises(ClientError) as e:
        cw.put_composite_alarm(AlarmName=_name("p"), AlarmRule=f"ALARM({child})", ActionsSuppressor=quiet)
    assert _error(e) == ("ValidationError", 400)


def test_tags_round_trip(cw, namespace):
    name = _name("tagged")
    _put(cw, name, namespace, Tags=[{"Key": "team", "Value": "web"}])
    arn = _state(cw, name)["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "web"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "db"}, {"Key": "tier", "Value": "1"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "db"},
                                                                  {"Key": "tier", "Value": "1"}]
    cw.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "tier", "Value": "1"}]
    _put(cw, name, namespace, Tags=[{"Key": "ignored", "Value": "on update"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "tier", "Value": "1"}]
    with pytest.raises(ClientError) as e:
        cw.tag_resource(ResourceARN=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert _error(e) == ("LimitExceeded", 400)
    with pytest.raises(ClientError) as e:
        cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert _error(e) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        cw.list_tags_for_resource(ResourceARN=arn + "-missing")
    assert _error(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        cw.list_tags_for_resource(ResourceARN="not-an-arn")
    assert _error(e)[0] in ("InvalidParameterValue", "ValidationError")


def test_describe_alarms_filters_and_pages_over_both_kinds(cw, namespace):
    prefix = _name("mix")
    metric = [f"{prefix}-m{i}" for i in range(3)]
    for i, n in enumerate(metric):
        _put(cw, n, namespace, AlarmActions=[f"arn:aws:sns:us-east-1:123456789012:team{i}"])
    composite = f"{prefix}-c"
    cw.put_composite_alarm(AlarmName=composite, AlarmRule=f"ALARM({metric[0]})")
    both = ["MetricAlarm", "CompositeAlarm"]
    names: list[str] = []
    kwargs: dict[str, Any] = {"AlarmNamePrefix": prefix, "AlarmTypes": both, "MaxRecords": 1}
    while True:
        page = cw.describe_alarms(**kwargs)
        got = page["MetricAlarms"] + page["CompositeAlarms"]
        assert len(got) == 1
        names += [a["AlarmName"] for a in got]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert names == sorted(metric + [composite])
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]] == metric
    only = cw.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["CompositeAlarm"])
    assert (only["MetricAlarms"], [a["AlarmName"] for a in only["CompositeAlarms"]]) == ([], [composite])
    cw.set_alarm_state(AlarmName=metric[1], StateValue="ALARM", StateReason="x")
    assert [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]] \
        == [metric[1]]
    by_action = cw.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix="arn:aws:sns:us-east-1:123456789012:team2")
    assert [a["AlarmName"] for a in by_action["MetricAlarms"]] == [metric[2]]
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(AlarmNamePrefix=prefix, NextToken="garbage")
    assert _error(e) == ("InvalidNextToken", 400)
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(ChildrenOfAlarmName=composite, StateValue="OK")
    assert _error(e) == ("InvalidParameterCombination", 400)


def test_another_tenant_cannot_reach_composites_math_alarms_or_tags(cw, cw_b, namespace):
    child, parent, math = _name("t-child"), _name("t-parent"), _name("t-math")
    _put(cw, child, namespace)
    cw.put_composite_alarm(AlarmName=parent, AlarmRule=f"ALARM({child})", Tags=[{"Key": "k", "Value": "v"}])
    cw.put_metric_alarm(AlarmName=math, Metrics=_math(namespace, 3600), EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanThreshold")
    arn = _state(cw, parent)["AlarmArn"]
    both = ["MetricAlarm", "CompositeAlarm"]
    for ref in (parent, arn):
        assert cw_b.describe_alarms(AlarmNames=[ref], AlarmTypes=both)["CompositeAlarms"] == []
    assert cw_b.describe_alarms(AlarmNamePrefix=math[:6], AlarmTypes=both)["MetricAlarms"] == []
    assert cw_b.describe_alarms(ChildrenOfAlarmName=parent)["MetricAlarms"] == []
    assert cw_b.describe_alarms(ParentsOfAlarmName=child)["CompositeAlarms"] == []
    assert cw_b.describe_alarm_history(AlarmName=parent, AlarmTypes=both)["AlarmHistoryItems"] == []
    for call in (lambda: cw_b.list_tags_for_resource(ResourceARN=arn),
                 lambda: cw_b.tag_resource(ResourceARN=arn, Tags=[{"Key": "x", "Value": "y"}]),
                 lambda: cw_b.untag_resource(ResourceARN=arn, TagKeys=["k"])):
        with pytest.raises(ClientError) as e:
            call()
        assert _error(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:  # tenant B cannot build a rule on A's alarm, by name or ARN
        cw_b.put_composite_alarm(AlarmName=_name("steal"), AlarmRule=f"ALARM({_state(cw, child)['AlarmArn']})")
    assert _error(e) == ("ValidationError", 400)
    with pytest.raises(ClientError) as e:
        cw_b.set_alarm_state(AlarmName=parent, StateValue="ALARM", StateReason="mine")
    assert _error(e) == ("ResourceNotFound", 404)
    cw_b.delete_alarms(AlarmNames=[parent, math])
    cw_b.disable_alarm_actions(AlarmNames=[parent])
    assert _state(cw, parent)["ActionsEnabled"] is True
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    assert _state(cw, math)["AlarmName"] == math
    _put(cw, f"{child}-2", namespace)
    token = cw.describe_alarms(AlarmNamePrefix=child, MaxRecords=1)["NextToken"]
    with pytest.raises(ClientError) as e:
        cw_b.describe_alarms(AlarmNamePrefix=child, MaxRecords=1, NextToken=token)
    assert _error(e) == ("InvalidNextToken", 400)
