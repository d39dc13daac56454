"""What an alarm's due actions send and how their outcome is recorded in history. Pure: no I/O, no clock.

:func:`notification` is CloudWatch's alarm message (the JSON an SNS notification carries as its
``Message``); :func:`subject` its ``Subject``; :func:`action_item` the ``Action`` history item the
dispatcher (:mod:`services.alarm.delivery`) writes once a delivery is done, with CloudWatch's
summary (``Successfully executed action <arn>`` / ``Failed to execute action <arn>``) and
HistoryData (``actionState``, ``stateUpdateTimestamp``, ``notificationResource``,
``publishedMessage``, and ``error`` on failure).
"""

from __future__ import annotations

from datetime import datetime

from services.alarm.domain import HistoryItem, Outcome
from services.alarm.domain._format import JsonValue, java_json, json_time
from services.alarm.records import AnyConfig, CompositeConfig

#: The longest HistorySummary CloudWatch stores.
MAX_SUMMARY = 255
#: The longest SNS Subject.
MAX_SUBJECT = 100


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


def subject(alarm_name: str, new_state: str, region: str) -> str:
    """The SNS ``Subject`` of an alarm notification: ``ALARM: "name" in <region>`` (at most 100 characters)."""
    text = f'{new_state}: "{alarm_name}" in {region}'
    return text if len(text) <= MAX_SUBJECT else text[:MAX_SUBJECT - 3] + "..."


def action_item(target: str, message: str, now: datetime, *, error: str | None = None) -> HistoryItem:
    """The ``Action`` history item for a finished delivery to ``target`` (failed when ``error`` is set).

    Args:
        target: the action ARN.
        message: the message published (CloudWatch's alarm JSON, as sent).
        now: when the delivery finished.
        error: why it failed; None for a success.
    """
    verb = "Successfully executed" if error is None else "Failed to execute"
    summary = f"{verb} action {target}"
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY - 3] + "..."
    data: dict[str, JsonValue] = {"actionState": "Succeeded" if error is None else "Failed",
                                  "stateUpdateTimestamp": json_time(now), "notificationResource": target,
                                  "publishedMessage": message}
    if error is not None:
        data["error"] = error
    return HistoryItem(now, "Action", summary, java_json(data))
