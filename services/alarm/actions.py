"""What an alarm's due actions would send, recorded as ``Action`` history items.

Delivery (SNS-style notifications, webhooks, Auto Scaling policies) is later work. Until then
every due action is recorded, honestly, as not executed: an ``Action`` history item whose summary
is CloudWatch's ``Failed to execute action <arn>`` and whose data carries the message that would
have been sent (the SNS alarm notification's JSON), the idempotency key the delivery will use
(:func:`services.alarm.domain.action_key`) and why nothing was sent. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime

from services.alarm.domain import HistoryItem, Outcome
from services.alarm.domain._format import JsonValue, java_json, json_time
from services.alarm.records import AnyConfig, CompositeConfig

#: The longest HistorySummary CloudWatch stores.
MAX_SUMMARY = 255
NOT_DELIVERED = "StackWatch does not deliver alarm actions yet; this is the message it would send."


def notification(config: AnyConfig, arn: str, old_state: str, outcome: Outcome, region: str) -> dict[str, JsonValue]:
    """The alarm notification CloudWatch publishes to SNS for ``outcome`` (its documented keys)."""
    if isinstance(config, CompositeConfig):
        return config.notification(arn, old_state, outcome.state, region)
    trigger: dict[str, JsonValue] = {
        "MetricName": config.metric_name, "Namespace": config.namespace,
        "StatisticType": "ExtendedStatistic" if config.extended_statistic else "Statistic",
        "Statistic": config.extended_statistic or (config.statistic or "").upper(),
        "Unit": config.unit, "Dimensions": [{"value": v, "name": n} for n, v in config.dimensions],
        "Period": config.period, "EvaluationPeriods": config.evaluation_periods,
        "ComparisonOperator": config.comparison_operator, "Threshold": float(config.threshold),
        "TreatMissingData": config.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": config.evaluate_low_sample_count_percentile or ""}
    if config.datapoints_to_alarm is not None:
        trigger["DatapointsToAlarm"] = config.datapoints_to_alarm
    return {
        "AlarmName": config.name, "AlarmDescription": config.description, "AWSAccountId": arn.split(":")[4],
        "AlarmConfigurationUpdatedTimestamp": json_time(config.updated_at),
        "NewStateValue": str(outcome.state.value), "NewStateReason": outcome.state.reason,
        "StateChangeTime": json_time(outcome.state.transitioned), "Region": region, "AlarmArn": arn,
        "OldStateValue": old_state, "OKActions": list(config.ok_actions),
        "AlarmActions": list(config.alarm_actions), "InsufficientDataActions": list(config.insufficient_data_actions),
        "Trigger": trigger}


def action_item(target: str, message: dict[str, JsonValue], key: str, now: datetime) -> HistoryItem:
    """The ``Action`` history item recording that ``target`` was due and not delivered."""
    summary = f"Failed to execute action {target}"
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY - 3] + "..."
    data = java_json({"actionState": "Failed", "stateUpdateTimestamp": json_time(now),
                      "notificationResource": target, "idempotencyKey": key, "error": NOT_DELIVERED,
                      "publishedMessage": java_json(message)})
    return HistoryItem(now, "Action", summary, data)
