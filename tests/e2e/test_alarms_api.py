"""CloudWatch's metric alarm API end to end: real boto3 clients, over HTTP, in each wire protocol.

Every test runs once per protocol (json 1.0, query, rpc-v2-cbor) against the session's stack,
whose alarm scheduler passes every half second. Alarms whose state must not move during a test
use a one-hour period (evaluated only when an hour closes); the evaluation test uses 10-second
periods, so it waits for a period to close, not for a minute.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackwatch.domain.arn import account_number
from tests.e2e.stack import TENANTS


def _name(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _put(cw: Any, name: str, namespace: str, **extra: Any) -> None:
    params: dict[str, Any] = {
        "AlarmName": name, "Namespace": namespace, "MetricName": "Latency", "Statistic": "Maximum",
        "Dimensions": [{"Name": "Service", "Value": "web"}], "Period": 3600, "EvaluationPeriods": 1,
        "Threshold": 100.0, "ComparisonOperator": "GreaterThanThreshold", **extra}
    cw.put_metric_alarm(**params)


def _one(cw: Any, name: str) -> dict[str, Any]:
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def _actions(cw: Any, name: str) -> list[dict[str, Any]]:
    """The alarm's Action items once the dispatcher has recorded one (it delivers after the change)."""
    deadline = time.monotonic() + 10
    while not (items := cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return list(items)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_a_new_alarm_is_described_as_cloudwatch_describes_it(cw, namespace):
    name = _name("cpu")
    _put(cw, name, namespace, AlarmDescription="too slow", Unit="Milliseconds", DatapointsToAlarm=1,
         TreatMissingData="notBreaching", AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"])
    alarm = _one(cw, name)
    number = account_number(TENANTS["a"]["account_id"])
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{number}:alarm:{name}"
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert "StateReasonData" not in alarm
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (namespace, "Latency", "Maximum")
    assert alarm["Dimensions"] == [{"Name": "Service", "Value": "web"}]
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3600, 1, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (100.0, "GreaterThanThreshold")
    assert (alarm["TreatMissingData"], alarm["Unit"], alarm["AlarmDescription"]) == ("notBreaching", "Milliseconds",
                                                                                     "too slow")
    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    assert alarm["OKActions"] == [] and alarm["InsufficientDataActions"] == []
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime)
    assert abs(alarm["AlarmConfigurationUpdatedTimestamp"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert "ExtendedStatistic" not in alarm
    [created] = cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert (created["HistoryItemType"], created["HistorySummary"]) == ("ConfigurationUpdate", f'Alarm "{name}" created')
    assert json.loads(created["HistoryData"])["createdAlarm"]["alarmName"] == name


def test_describe_filters_and_pages(cw, namespace):
    prefix = _name("page")
    names = [f"{prefix}-{i}" for i in range(3)]
    for n in names:
        _put(cw, n, namespace)
    first = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == names[:2]
    rest = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == names[2:]
    assert "NextToken" not in rest
    assert cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"] == []
    assert cw.describe_alarms(ChildrenOfAlarmName=names[0])["MetricAlarms"] == []
    found = cw.describe_alarms_for_metric(Namespace=namespace, MetricName="Latency",
                                          Dimensions=[{"Name": "Service", "Value": "web"}])
    assert sorted(a["AlarmName"] for a in found["MetricAlarms"]) == names
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(AlarmNamePrefix=prefix, AlarmNames=[names[0]])
    assert _error(e) == ("InvalidParameterCombination", 400)


def test_an_invalid_alarm_gets_cloudwatchs_error(cw, namespace):
    with pytest.raises(ClientError) as e:
        _put(cw, _name("bad"), namespace, Period=45)
    assert _error(e) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        _put(cw, _name("bad"), namespace, EvaluationPeriods=2, DatapointsToAlarm=3)
    assert _error(e) == ("InvalidParameterValue", 400)


def test_breaching_data_puts_the_alarm_in_alarm(cw, namespace):
    name = _name("hot")
    now = datetime.now(UTC)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "web"}],
         "Timestamp": now - timedelta(seconds=s), "Value": 500.0, "StorageResolution": 1} for s in (0, 5, 10, 15, 20)])
    _put(cw, name, namespace, Period=10, AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"])
    deadline = time.monotonic() + 30  # the open period closes within 10 s, then a pass within 0.5 s
    while (alarm := _one(cw, name))["StateValue"] != "ALARM" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [500.0 (")
    reason_data = json.loads(alarm["StateReasonData"])
    assert (reason_data["statistic"], reason_data["period"], reason_data["threshold"]) == ("Maximum", 10, 100.0)
    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
    [action] = _actions(cw, name)  # another account's topic: not delivered
    assert action["HistorySummary"] == "Failed to execute action arn:aws:sns:us-east-1:123456789012:ops"
    published = json.loads(json.loads(action["HistoryData"])["publishedMessage"])
    assert (published["NewStateValue"], published["OldStateValue"]) == ("ALARM", "INSUFFICIENT_DATA")


def test_set_alarm_state_and_re_put_keeps_it(cw, namespace):
    name = _name("manual")
    _put(cw, name, namespace)
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing", StateReasonData='{"why":"test"}')
    alarm = _one(cw, name)
    assert (alarm["StateValue"], alarm["StateReason"], alarm["StateReasonData"]) == ("ALARM", "testing",
                                                                                     '{"why":"test"}')
    _put(cw, name, namespace, Threshold=5.0)  # re-put: new configuration, same state
    alarm = _one(cw, name)
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 5.0)
    items = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in items] == [
        f'Alarm "{name}" created', "Alarm updated from INSUFFICIENT_DATA to ALARM", f'Alarm "{name}" updated']
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x", StateReasonData="not json")
    assert _error(e) == ("InvalidFormat", 400)
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName=_name("missing"), StateValue="OK", StateReason="x")
    assert _error(e) == ("ResourceNotFound", 404)


def test_delete_alarms_skips_unknown_names(cw, namespace):
    name = _name("gone")
    _put(cw, name, namespace)
    cw.delete_alarms(AlarmNames=[name, _name("never-existed")])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    summaries = [h["HistorySummary"] for h in cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]]
    assert summaries == [f'Alarm "{name}" deleted', f'Alarm "{name}" created']


def test_another_tenant_cannot_see_or_touch_an_alarm(cw, cw_b, namespace):
    name = _name("private")
    _put(cw, name, namespace)
    arn = _one(cw, name)["AlarmArn"]
    for ref in (name, arn):
        assert cw_b.describe_alarms(AlarmNames=[ref])["MetricAlarms"] == []
        with pytest.raises(ClientError) as e:
            cw_b.set_alarm_state(AlarmName=ref, StateValue="ALARM", StateReason="mine now")
        assert _error(e) == ("ResourceNotFound", 404)
        cw_b.delete_alarms(AlarmNames=[ref])
    assert cw_b.describe_alarms(AlarmNamePrefix=name[:5])["MetricAlarms"] == []
    assert cw_b.describe_alarms_for_metric(Namespace=namespace, MetricName="Latency",
                                           Dimensions=[{"Name": "Service", "Value": "web"}])["MetricAlarms"] == []
    assert cw_b.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"] == []
    alarm = _one(cw, name)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    _put(cw, f"{name}-2", namespace)
    token = cw.describe_alarms(AlarmNamePrefix=name, MaxRecords=1)["NextToken"]
    with pytest.raises(ClientError) as e:  # a page token is good for the tenant it was given to only
        cw_b.describe_alarms(AlarmNamePrefix=name, MaxRecords=1, NextToken=token)
    assert _error(e) == ("InvalidNextToken", 400)


def test_disable_and_enable_alarm_actions(cw, namespace):
    name = _name("quiet")
    _put(cw, name, namespace, AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"])
    cw.disable_alarm_actions(AlarmNames=[name, _name("unknown")])
    alarm = _one(cw, name)
    assert alarm["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="quietly")
    assert cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"] == []
    cw.enable_alarm_actions(AlarmNames=[name])
    assert _one(cw, name)["ActionsEnabled"] is True
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="loudly")  # OK has no actions: none due
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="loudly")
    [action] = _actions(cw, name)
    assert action["HistorySummary"].endswith("arn:aws:sns:us-east-1:123456789012:ops")
