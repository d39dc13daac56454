# ruff: noqa: D103 - test names say what each test checks
"""AlarmConfig (the stored PutMetricAlarm) and the Action items recorded for due actions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.alarm.actions import MAX_SUMMARY, action_item, notification, subject
from services.alarm.domain import AlarmKind, AlarmState, TreatMissingData, initial_state, set_alarm_state
from services.alarm.records import AlarmConfig
from stackwatch import errors

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"
CONFIG = AlarmConfig(name="cpu", namespace="App", metric_name="CPU", dimensions=(("Host", "a"),), period=60,
                     evaluation_periods=3, threshold=80.0, comparison_operator="GreaterThanThreshold",
                     statistic="Average", datapoints_to_alarm=2, treat_missing_data="breaching",
                     alarm_actions=("arn:aws:sns:us-east-1:123456789012:ops",), tags=(("team", "web"),),
                     updated=T0.timestamp())


def test_a_config_survives_its_stored_form():
    again = AlarmConfig.from_json(CONFIG.to_json())
    assert again == CONFIG
    assert again.definition == CONFIG.definition
    assert again.definition.treat_missing_data is TreatMissingData.BREACHING


@pytest.mark.parametrize(("change", "error"), [
    pytest.param({"comparison_operator": "Bigger"}, errors.InvalidParameterValue, id="operator"),
    pytest.param({"treat_missing_data": "never"}, errors.InvalidParameterValue, id="treat-missing-data"),
    pytest.param({"evaluate_low_sample_count_percentile": "x"}, errors.InvalidParameterValue, id="low-sample"),
    pytest.param({"name": "a\nb"}, errors.InvalidParameterValue, id="control-character"),
    pytest.param({"name": "x" * 256}, errors.InvalidParameterValue, id="long-name"),
    pytest.param({"description": "x" * 1025}, errors.InvalidParameterValue, id="long-description"),
    pytest.param({"namespace": ""}, errors.ServiceError, id="empty-namespace"),
    pytest.param({"ok_actions": ("sns:topic",)}, errors.InvalidParameterValue, id="not-an-arn"),
    pytest.param({"tags": tuple((f"k{i}", "v") for i in range(51))}, errors.LimitExceeded, id="51-tags"),
    pytest.param({"statistic": None}, errors.MissingParameter, id="no-statistic"),
])
def test_put_metric_alarm_validation(change, error):
    with pytest.raises(error):
        replace(CONFIG, **change)


def test_history_document_uses_cloudwatchs_keys():
    doc = CONFIG.history_json(ARN, "OK", T0)
    assert doc["alarmArn"] == ARN and doc["okactions"] == [] and doc["datapointsToAlarm"] == 2
    assert doc["dimensions"] == [{"name": "Host", "value": "a"}]
    assert doc["alarmConfigurationUpdatedTimestamp"] == "2026-12-03T10:00:00.000+0000"


def test_action_items_say_what_was_published_and_how_it_went():
    outcome = set_alarm_state(AlarmKind.METRIC, initial_state(T0), "ALARM", "testing", None, T0)
    message = json.dumps(notification(CONFIG, ARN, "INSUFFICIENT_DATA", outcome, "us-east-1"))
    failed = action_item("arn:aws:sns:us-east-1:123456789012:ops", message, T0, error="HTTP 400")
    assert (failed.item_type, failed.summary) == ("Action", "Failed to execute action arn:aws:sns:us-east-1:123456789012:ops")
    data = json.loads(failed.data)
    assert (data["actionState"], data["error"], data["notificationResource"]) == (
        "Failed", "HTTP 400", "arn:aws:sns:us-east-1:123456789012:ops")
    published = json.loads(data["publishedMessage"])
    assert (published["NewStateValue"], published["AWSAccountId"]) == (str(AlarmState.ALARM), "123456789012")
    assert published["Trigger"]["Statistic"] == "AVERAGE"
    done = action_item("arn:aws:sns:us-east-1:123456789012:ops", message, T0)
    assert done.summary == "Successfully executed action arn:aws:sns:us-east-1:123456789012:ops"
    assert json.loads(done.data)["actionState"] == "Succeeded" and "error" not in json.loads(done.data)
    long = action_item("arn:" + "x" * 400, message, T0)
    assert len(long.summary) == MAX_SUMMARY and long.summary.endswith("...")


def test_the_subject_is_cloudwatchs_and_at_most_100_characters():
    assert subject("cpu", "ALARM", "us-east-1") == 'ALARM: "cpu" in us-east-1'
    assert len(subject("x" * 200, "OK", "us-east-1")) == 100
