"""CloudWatch's alarm operations: AWS params -> alarm proto -> AlarmService -> AWS result dict.

Metric alarms (one metric or ``Metrics`` math), composite alarms and alarm tags.

The same shape as :mod:`gateway.apis.cloudwatch` (one small entry per operation, no validation
or semantics here); its own table so the alarm API and the metric API change independently.
:data:`OPERATIONS` is merged into the CloudWatch table by ``gateway.app``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from google.protobuf import timestamp_pb2

from gateway.apis.cloudwatch import _data_query
from gateway.calls import Call
from stackwatch import errors
from stackwatch.proto.alarm.v1 import alarm_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result]]

_STATES = {"OK": alarm_pb2.STATE_VALUE_OK, "ALARM": alarm_pb2.STATE_VALUE_ALARM,
           "INSUFFICIENT_DATA": alarm_pb2.STATE_VALUE_INSUFFICIENT_DATA}
_STATE_NAMES = {v: k for k, v in _STATES.items()}

#: Optional scalar PutMetricAlarm members and the MetricAlarm fields they map to.
_OPTIONAL = (("AlarmDescription", "alarm_description"), ("Statistic", "statistic"),
             ("ExtendedStatistic", "extended_statistic"), ("DatapointsToAlarm", "datapoints_to_alarm"),
             ("TreatMissingData", "treat_missing_data"), ("Unit", "unit"),
             ("EvaluateLowSampleCountPercentile", "evaluate_low_sample_count_percentile"),
             ("ActionsEnabled", "actions_enabled"))
#: Required (in the model) or defaulted members, the same way round.
_PLAIN = (("AlarmName", "alarm_name"), ("Namespace", "namespace"), ("MetricName", "metric_name"),
          ("Period", "period"), ("EvaluationPeriods", "evaluation_periods"), ("Threshold", "threshold"),
          ("ComparisonOperator", "comparison_operator"))
_ACTIONS = (("OKActions", "ok_actions"), ("AlarmActions", "alarm_actions"),
            ("InsufficientDataActions", "insufficient_data_actions"))


def _ts(value: datetime) -> timestamp_pb2.Timestamp:
    t = value.timestamp()
    seconds = int(t // 1)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=int(round((t - seconds) * 1e9)) % 1_000_000_000)


def _seconds(ts: timestamp_pb2.Timestamp) -> float:
    return float(ts.seconds + ts.nanos / 1e9)


def _dims(items: list[dict[str, str]] | None) -> list[metrics_pb2.Dimension]:
    return [metrics_pb2.Dimension(name=d["Name"], value=d["Value"]) for d in items or ()]


def _query(q: metrics_pb2.MetricDataQuery) -> Result:
    """A ``Metrics`` entry as DescribeAlarms shows it."""
    out: Result = {"Id": q.id}
    if q.HasField("metric_stat"):
        ms = q.metric_stat
        dims = [{"Name": d.name, "Value": d.value} for d in ms.metric.dimensions]
        out["MetricStat"] = {"Metric": {"Namespace": ms.metric.namespace, "MetricName": ms.metric.metric_name,
                                        "Dimensions": dims}, "Period": ms.period, "Stat": ms.stat}
        if ms.HasField("unit"):
            out["MetricStat"]["Unit"] = ms.unit
    for key, field in (("Expression", "expression"), ("Label", "label"), ("ReturnData", "return_data"),
                       ("Period", "period"), ("AccountId", "account_id")):
        if q.HasField(field):
            out[key] = getattr(q, field)
    return out


def _partial(a: alarm_pb2.MetricAlarm | alarm_pb2.CompositeAlarm) -> Result:
    """The fields ChildrenOfAlarmName / ParentsOfAlarmName return."""
    out: Result = {"AlarmName": a.alarm_name, "AlarmArn": a.alarm_arn}
    if a.state_value:
        out.update({"StateValue": _STATE_NAMES[a.state_value],
                    "StateUpdatedTimestamp": _seconds(a.state_updated_timestamp)})
    return out


def _composite(a: alarm_pb2.CompositeAlarm) -> Result:
    """A CompositeAlarm as DescribeAlarms shows it."""
    if a.partial:
        return _partial(a)
    out: Result = {"ActionsEnabled": a.actions_enabled, "AlarmActions": list(a.alarm_actions),
                   "AlarmArn": a.alarm_arn,
                   "AlarmConfigurationUpdatedTimestamp": _seconds(a.alarm_configuration_updated_timestamp)}
    if a.HasField("alarm_description"):
        out["AlarmDescription"] = a.alarm_description
    out.update({"AlarmName": a.alarm_name, "AlarmRule": a.alarm_rule,
                "InsufficientDataActions": list(a.insufficient_data_actions), "OKActions": list(a.ok_actions),
                "StateReason": a.state_reason})
    if a.HasField("state_reason_data"):
        out["StateReasonData"] = a.state_reason_data
    out.update({"StateUpdatedTimestamp": _seconds(a.state_updated_timestamp),
                "StateValue": _STATE_NAMES.get(a.state_value, "INSUFFICIENT_DATA"),
                "StateTransitionedTimestamp": _seconds(a.state_transitioned_timestamp)})
    for key, field in (("ActionsSuppressedBy", "actions_suppressed_by"),
                       ("ActionsSuppressedReason", "actions_suppressed_reason"),
                       ("ActionsSuppressor", "actions_suppressor"),
                       ("ActionsSuppressorWaitPeriod", "actions_suppressor_wait_period"),
                       ("ActionsSuppressorExtensionPeriod", "actions_suppressor_extension_period")):
        if a.HasField(field):
            out[key] = getattr(a, field)
    return out


def _alarm(a: alarm_pb2.MetricAlarm) -> Result:
    """A MetricAlarm as DescribeAlarms shows it: action lists always, optional scalars when set."""
    if a.partial:
        return _partial(a)
    out: Result = {"AlarmName": a.alarm_name, "AlarmArn": a.alarm_arn,
                   "AlarmConfigurationUpdatedTimestamp": _seconds(a.alarm_configuration_updated_timestamp),
                   "ActionsEnabled": a.actions_enabled}
    for key, field in _ACTIONS:
        out[key] = list(getattr(a, field))
    out.update({"StateValue": _STATE_NAMES.get(a.state_value, "INSUFFICIENT_DATA"), "StateReason": a.state_reason})
    if a.HasField("state_reason_data"):
        out["StateReasonData"] = a.state_reason_data
    out.update({"StateUpdatedTimestamp": _seconds(a.state_updated_timestamp),
                "StateTransitionedTimestamp": _seconds(a.state_transitioned_timestamp)})
    if a.metrics:
        out.update({"Dimensions": [], "Metrics": [_query(q) for q in a.metrics]})
    else:
        out.update({"MetricName": a.metric_name, "Namespace": a.namespace,
                    "Dimensions": [{"Name": d.name, "Value": d.value} for d in a.dimensions], "Period": a.period})
    out.update({"EvaluationPeriods": a.evaluation_periods, "Threshold": a.threshold,
                "ComparisonOperator": a.comparison_operator})
    for key, field in _OPTIONAL:
        if key != "ActionsEnabled" and a.HasField(field):
            out[key] = getattr(a, field)
    return out


async def put_metric_alarm(call: Call, p: Params) -> Result:
    """PutMetricAlarm (one metric, or ``Metrics`` math)."""
    alarm = alarm_pb2.MetricAlarm(dimensions=_dims(p.get("Dimensions")))
    for key, field in _PLAIN + _OPTIONAL:
        if key in p:
            setattr(alarm, field, p[key])
    for key, field in _ACTIONS:
        getattr(alarm, field).extend(p.get(key, ()))
    alarm.metrics.extend(_data_query(q) for q in p.get("Metrics", ()))
    request = alarm_pb2.PutMetricAlarmRequest(alarm=alarm, tags=_tags(p))
    await call.alarm("PutMetricAlarm", request, idempotent=False)
    return {}


async def describe_alarms(call: Call, p: Params) -> Result:
    """DescribeAlarms."""
    request = alarm_pb2.DescribeAlarmsRequest(alarm_names=p.get("AlarmNames", ()),
                                              alarm_types=p.get("AlarmTypes", ()),
                                              max_records=p.get("MaxRecords", 0))
    for key, field in (("AlarmNamePrefix", "alarm_name_prefix"), ("ActionPrefix", "action_prefix"),
                       ("NextToken", "next_token"), ("ChildrenOfAlarmName", "children_of_alarm_name"),
                       ("ParentsOfAlarmName", "parents_of_alarm_name")):
        if key in p:
            setattr(request, field, p[key])
    if "StateValue" in p:
        if p["StateValue"] not in _STATES:
            raise errors.InvalidParameterValue(
                f"Invalid value {p['StateValue']!r} for StateValue; valid values are OK, ALARM, INSUFFICIENT_DATA.")
        request.state_value = _STATES[p["StateValue"]]
    response: alarm_pb2.DescribeAlarmsResponse = await call.alarm("DescribeAlarms", request)
    result: Result = {"MetricAlarms": [_alarm(a) for a in response.metric_alarms],
                      "CompositeAlarms": [_composite(a) for a in response.composite_alarms]}
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


async def describe_alarms_for_metric(call: Call, p: Params) -> Result:
    """DescribeAlarmsForMetric."""
    request = alarm_pb2.DescribeAlarmsForMetricRequest(
        namespace=p["Namespace"], metric_name=p["MetricName"], dimensions=_dims(p.get("Dimensions")))
    for key, field in (("Statistic", "statistic"), ("ExtendedStatistic", "extended_statistic"),
                       ("Period", "period"), ("Unit", "unit")):
        if key in p:
            setattr(request, field, p[key])
    response: alarm_pb2.DescribeAlarmsForMetricResponse = await call.alarm("DescribeAlarmsForMetric", request)
    return {"MetricAlarms": [_alarm(a) for a in response.metric_alarms]}


async def delete_alarms(call: Call, p: Params) -> Result:
    """DeleteAlarms."""
    await call.alarm("DeleteAlarms", alarm_pb2.DeleteAlarmsRequest(alarm_names=p["AlarmNames"]), idempotent=False)
    return {}


async def set_alarm_state(call: Call, p: Params) -> Result:
    """SetAlarmState."""
    request = alarm_pb2.SetAlarmStateRequest(alarm_name=p["AlarmName"], state_value=p["StateValue"],
                                             state_reason=p["StateReason"])
    if "StateReasonData" in p:
        request.state_reason_data = p["StateReasonData"]
    await call.alarm("SetAlarmState", request, idempotent=False)
    return {}


async def describe_alarm_history(call: Call, p: Params) -> Result:
    """DescribeAlarmHistory."""
    request = alarm_pb2.DescribeAlarmHistoryRequest(alarm_types=p.get("AlarmTypes", ()),
                                                    max_records=p.get("MaxRecords", 0))
    for key, field in (("AlarmName", "alarm_name"), ("HistoryItemType", "history_item_type"),
                       ("ScanBy", "scan_by"), ("NextToken", "next_token")):
        if key in p:
            setattr(request, field, p[key])
    for key, field in (("StartDate", "start_date"), ("EndDate", "end_date")):
        if key in p:
            getattr(request, field).CopyFrom(_ts(p[key]))
    response: alarm_pb2.DescribeAlarmHistoryResponse = await call.alarm("DescribeAlarmHistory", request)
    result: Result = {"AlarmHistoryItems": [
        {"AlarmName": h.alarm_name, "AlarmType": h.alarm_type, "Timestamp": _seconds(h.timestamp),
         "HistoryItemType": h.history_item_type, "HistorySummary": h.history_summary, "HistoryData": h.history_data}
        for h in response.alarm_history_items]}
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


async def enable_alarm_actions(call: Call, p: Params) -> Result:
    """EnableAlarmActions."""
    await call.alarm("EnableAlarmActions", alarm_pb2.EnableAlarmActionsRequest(alarm_names=p["AlarmNames"]))
    return {}


async def disable_alarm_actions(call: Call, p: Params) -> Result:
    """DisableAlarmActions."""
    await call.alarm("DisableAlarmActions", alarm_pb2.DisableAlarmActionsRequest(alarm_names=p["AlarmNames"]))
    return {}


def _tags(p: Params) -> list[alarm_pb2.Tag]:
    return [alarm_pb2.Tag(key=t["Key"], value=t.get("Value", "")) for t in p.get("Tags", ())]


async def put_composite_alarm(call: Call, p: Params) -> Result:
    """PutCompositeAlarm."""
    alarm = alarm_pb2.CompositeAlarm(alarm_name=p["AlarmName"], alarm_rule=p["AlarmRule"])
    for key, field in (("AlarmDescription", "alarm_description"), ("ActionsEnabled", "actions_enabled"),
                       ("ActionsSuppressor", "actions_suppressor"),
                       ("ActionsSuppressorWaitPeriod", "actions_suppressor_wait_period"),
                       ("ActionsSuppressorExtensionPeriod", "actions_suppressor_extension_period")):
        if key in p:
            setattr(alarm, field, p[key])
    for key, field in _ACTIONS:
        getattr(alarm, field).extend(p.get(key, ()))
    await call.alarm("PutCompositeAlarm", alarm_pb2.PutCompositeAlarmRequest(alarm=alarm, tags=_tags(p)),
                     idempotent=False)
    return {}


async def tag_resource(call: Call, p: Params) -> Result:
    """TagResource (alarm ARNs)."""
    await call.alarm("TagResource", alarm_pb2.TagResourceRequest(resource_arn=p["ResourceARN"], tags=_tags(p)))
    return {}


async def untag_resource(call: Call, p: Params) -> Result:
    """UntagResource (alarm ARNs)."""
    await call.alarm("UntagResource", alarm_pb2.UntagResourceRequest(resource_arn=p["ResourceARN"],
                                                                     tag_keys=p["TagKeys"]))
    return {}


async def list_tags_for_resource(call: Call, p: Params) -> Result:
    """ListTagsForResource (alarm ARNs)."""
    response: alarm_pb2.ListTagsForResourceResponse = await call.alarm(
        "ListTagsForResource", alarm_pb2.ListTagsForResourceRequest(resource_arn=p["ResourceARN"]))
    return {"Tags": [{"Key": t.key, "Value": t.value} for t in response.tags]}


OPERATIONS: dict[str, Handler] = {
    "PutCompositeAlarm": put_composite_alarm,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "PutMetricAlarm": put_metric_alarm,
    "DescribeAlarms": describe_alarms,
    "DescribeAlarmsForMetric": describe_alarms_for_metric,
    "DeleteAlarms": delete_alarms,
    "SetAlarmState": set_alarm_state,
    "DescribeAlarmHistory": describe_alarm_history,
    "EnableAlarmActions": enable_alarm_actions,
    "DisableAlarmActions": disable_alarm_actions,
}
