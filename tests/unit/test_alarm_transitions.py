"""The alarm state machine: walk the tables, then follow an alarm's life as a timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.alarm.domain.evaluate import Evaluation, evaluate
from services.alarm.domain.model import AlarmDefinition, AlarmState, ComparisonOperator, Datapoint, StateRecord
from services.alarm.domain.transitions import (
    ALLOWED,
    CREATION_REASON,
    EFFECTS,
    Actions,
    AlarmKind,
    Change,
    IllegalTransition,
    Trigger,
    action_key,
    apply,
    apply_evaluation,
    configuration_item,
    due_actions,
    initial_state,
    on_put,
    set_alarm_state,
)
from stackwatch import errors

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
ASG = "arn:aws:autoscaling:zone1:123456789012:scalingPolicy:p1:autoScalingGroupName/web:policyName/up"
SNS = "arn:aws:sns:zone1:123456789012:ops"
ACTIONS = {ALARM: (SNS, ASG), OK: (SNS,), INSUFFICIENT: ()}


def record(value: AlarmState, reason: str = "r", data: str | None = None) -> StateRecord:
    return StateRecord(value, reason, data, T0, T0)


@pytest.mark.parametrize("kind", list(AlarmKind))
@pytest.mark.parametrize("trigger", [Trigger.EVALUATE, Trigger.SET_ALARM_STATE])
@pytest.mark.parametrize("old", list(AlarmState))
@pytest.mark.parametrize("new", list(AlarmState))
def test_walk_the_table(kind, trigger, old, new):
    current = record(old)
    if new not in ALLOWED[kind, trigger]:
        with pytest.raises(IllegalTransition):
            apply(kind, current, trigger, new, "why", None, LATER)
        return
    out = apply(kind, current, trigger, new, "why", None, LATER)
    assert out.state.value is new
    assert out.change is (Change.VALUE if old is not new else Change.REASON)
    assert out.effects == EFFECTS[trigger, out.change]
    assert out.state.reason == "why"
    assert out.state.updated == out.state.transitioned == (LATER if old is not new else T0)
    assert (out.history is not None) is (old is not new)


def test_composite_evaluation_never_sets_insufficient_data():
    with pytest.raises(IllegalTransition) as info:
        apply(AlarmKind.COMPOSITE, record(OK), Trigger.EVALUATE, INSUFFICIENT, "x", None, LATER)
    assert info.value.code == "InternalFailure" and info.value.status == 500


def test_create_does_not_go_through_apply():
    with pytest.raises(IllegalTransition):
        apply(AlarmKind.METRIC, record(INSUFFICIENT), Trigger.CREATE, INSUFFICIENT, "x", None, LATER)


def test_state_update_history_item():
    data = '{"version":"1.0","statistic":"Average","recentDatapoints":[5.0],"threshold":3.0}'
    out = apply(AlarmKind.METRIC, initial_state(T0), Trigger.EVALUATE, ALARM, "Threshold Crossed: ...", data, LATER)
    assert out.history is not None
    assert out.history.item_type == "StateUpdate"
    assert out.history.summary == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert out.history.timestamp == LATER
    assert out.history.data == (
        '{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm '
        'creation"},"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: ...","stateReasonData":'
        + data + "}}")
    parsed = json.loads(out.history.data)
    assert parsed["newState"]["stateReasonData"]["threshold"] == 3.0  # an object, not a string


def test_actions_run_on_transitions_and_autoscaling_repeats_while_in_alarm():
    entered = apply(AlarmKind.METRIC, record(OK), Trigger.EVALUATE, ALARM, "a", None, LATER)
    assert due_actions(entered, ACTIONS, enabled=True) == (SNS, ASG)
    assert due_actions(entered, ACTIONS, enabled=False) == ()
    stayed = apply(AlarmKind.METRIC, entered.state, Trigger.EVALUATE, ALARM, "a", None, LATER)
    assert stayed.change is Change.NONE and stayed.history is None
    assert due_actions(stayed, ACTIONS, enabled=True) == (ASG,)
    reworded = apply(AlarmKind.METRIC, entered.state, Trigger.EVALUATE, ALARM, "b", None, LATER)
    assert reworded.effects.actions is Actions.AUTOSCALING_REPEAT
    assert due_actions(reworded, ACTIONS, enabled=True) == (ASG,)


def test_put_keeps_the_state_of_an_existing_alarm():
    created = on_put(None, T0)
    assert (created.value, created.reason, created.reason_data) == (INSUFFICIENT, CREATION_REASON, None)
    existing = StateRecord(ALARM, "Threshold Crossed: ...", "{}", T0, T0)
    assert on_put(existing, LATER) is existing


def test_set_alarm_state_then_next_evaluation_takes_over():
    a = AlarmDefinition(name="cpu", period=60, evaluation_periods=1, threshold=3.0, statistic="Average",
                        comparison_operator=ComparisonOperator.GREATER_THAN)
    current = initial_state(T0)
    forced = set_alarm_state(AlarmKind.METRIC, current, "ALARM", "testing", '{"a":1}', T0 + timedelta(seconds=5))
    assert forced.state.value is ALARM and forced.history is not None
    assert due_actions(forced, ACTIONS, enabled=True) == (SNS, ASG)
    now = T0 + timedelta(minutes=1, seconds=2)
    e = evaluate(a, [Datapoint(T0, 1.0, 1.0)], now, forced.state)
    back = apply_evaluation(AlarmKind.METRIC, forced.state, e, now)
    assert back.state.value is OK and back.history is not None
    assert back.history.summary == "Alarm updated from ALARM to OK"


def test_kept_evaluation_changes_nothing():
    current = record(ALARM, "r", '{"x":1}')
    out = apply_evaluation(AlarmKind.METRIC, current, Evaluation(ALARM, "r", '{"x":1}', kept=True), LATER)
    assert out.change is Change.NONE and out.state == current


@pytest.mark.parametrize(("value", "reason", "data", "error"), [
    ("BROKEN", "r", None, errors.InvalidParameterValue),
    ("OK", "r" * 1024, None, errors.InvalidParameterValue),
    ("OK", "r", "{not json", errors.InvalidFormat),
    ("OK", "r", "[" + "1," * 2000 + "1]", errors.InvalidFormat),
])
def test_set_alarm_state_validation(value, reason, data, error):
    with pytest.raises(error):
        set_alarm_state(AlarmKind.METRIC, record(OK), value, reason, data, LATER)


def test_set_alarm_state_to_the_same_value_writes_no_history():
    out = set_alarm_state(AlarmKind.METRIC, record(OK), "OK", "manual", None, LATER)
    assert out.change is Change.REASON and out.history is None and out.state.reason == "manual"
    assert due_actions(out, ACTIONS, enabled=True) == ()


def test_configuration_items():
    item = configuration_item("cpu", "Create", {"alarmName": "cpu", "threshold": 80.0, "period": 60}, T0)
    assert item.summary == 'Alarm "cpu" created'
    assert item.data == '{"version":"1.0","type":"Create","createdAlarm":{"alarmName":"cpu","threshold":80.0,"period":60}}'
    assert configuration_item("cpu", "Update", {}, T0).summary == 'Alarm "cpu" updated'
    assert configuration_item("cpu", "Delete", {}, T0).data == '{"version":"1.0","type":"Delete","deletedAlarm":{}}'
    with pytest.raises(ValueError):
        configuration_item("cpu", "Rename", {}, T0)


def test_action_keys_identify_a_transition_and_each_repeat():
    arn = "arn:aws:cloudwatch:zone1:123456789012:alarm:cpu"
    entered = apply(AlarmKind.METRIC, record(OK), Trigger.EVALUATE, ALARM, "a", None, LATER)
    assert action_key(arn, entered, LATER + timedelta(seconds=3)) == arn + "#2026-12-03T10:05:00.000+0000"
    stayed = apply(AlarmKind.METRIC, entered.state, Trigger.EVALUATE, ALARM, "a", None, LATER + timedelta(minutes=1))
    assert action_key(arn, stayed, LATER + timedelta(minutes=1)) == arn + "#2026-12-03T10:06:00.000+0000"
