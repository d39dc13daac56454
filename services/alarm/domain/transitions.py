"""The alarm state machine: everything that changes an alarm's state, and what each change writes.

Like ``h11/_state.py``, the rules are data. :data:`ALLOWED` says which states each trigger may put
an alarm of each kind in; :data:`EFFECTS` says, for each trigger and each kind of change, whether
a StateUpdate history item is written, which actions are due and which timestamps move.
:func:`apply` is the only function that changes a :class:`StateRecord`; an illegal change raises
:class:`IllegalTransition` (a bug in the caller, never the client's fault).

::

    trigger            who                                    may set          kinds
    CREATE             PutMetricAlarm / PutCompositeAlarm, new INSUFFICIENT_DATA metric, composite
    UPDATE             the same for an existing name          (keeps state)    metric, composite
    EVALUATE           scheduler (metric), a child (composite) OK ALARM INSUF.  metric
                                                              OK ALARM         composite
    SET_ALARM_STATE    SetAlarmState                          OK ALARM INSUF.  metric, composite

    change    when                                 history item   actions                timestamps
    VALUE     StateValue differs                   StateUpdate    the new state's list   updated, transitioned
    REASON    same value, other reason or data     none           Auto Scaling repeat*   none
    NONE      nothing differs (or rules kept it)   none           Auto Scaling repeat*   none

    (SetAlarmState runs no action unless the value changes.) The model documents
    ``StateTransitionedTimestamp`` as the last change of StateValue and ``StateUpdatedTimestamp``
    as the last change of StateValue or EvaluationState, so a new reason alone moves neither; the
    new reason and reason data are stored all the same.

    * AWS: "For Amazon EC2 Auto Scaling actions, the alarm continues to invoke the action for
      every period that the alarm remains in the new state" (evaluations only; composites cannot
      have Auto Scaling actions).

Re-putting an alarm keeps its state, reason and timestamps as AWS does (the next evaluation
decides); it writes a ConfigurationUpdate item (:func:`configuration_item`), not a StateUpdate.
SetAlarmState changes the state until the next evaluation (metric alarms) or the next child change
(composites); its reason data must be JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.alarm.domain._format import JsonValue, java_json, json_time
from services.alarm.domain.evaluate import MAX_REASON, MAX_REASON_DATA, Evaluation
from services.alarm.domain.model import AlarmState, StateRecord
from stackwatch import errors

#: StateReason of a newly created alarm.
CREATION_REASON = "Unchecked: Initial alarm creation"


class AlarmKind(StrEnum):
    """``AlarmType``."""

    METRIC = "MetricAlarm"
    COMPOSITE = "CompositeAlarm"


class Trigger(StrEnum):
    """What asks for a state change."""

    CREATE = "create"
    UPDATE = "update"
    EVALUATE = "evaluate"
    SET_ALARM_STATE = "setAlarmState"


class Change(StrEnum):
    """How a proposed state differs from the current one."""

    VALUE = "value"
    REASON = "reason"
    NONE = "none"


class Actions(StrEnum):
    """Which of the alarm's actions a change makes due."""

    NONE = "none"
    NEW_STATE = "newState"  # every action in the list of the state entered
    AUTOSCALING_REPEAT = "autoscalingRepeat"  # the Auto Scaling actions of the state the alarm stays in


@dataclass(frozen=True, slots=True)
class Effects:
    """What one (trigger, change) pair does besides setting the state.

    Attributes:
        history: a StateUpdate history item is written.
        actions: which actions become due.
        timestamps: ``StateUpdatedTimestamp`` and ``StateTransitionedTimestamp`` move to now.
    """

    history: bool
    actions: Actions
    timestamps: bool


_ALL = frozenset(AlarmState)
_DECIDED = frozenset({AlarmState.OK, AlarmState.ALARM})

#: The states each trigger may set, by alarm kind. A composite is INSUFFICIENT_DATA only from
#: creation (or SetAlarmState); its evaluation always decides.
ALLOWED: dict[tuple[AlarmKind, Trigger], frozenset[AlarmState]] = {
    (AlarmKind.METRIC, Trigger.CREATE): frozenset({AlarmState.INSUFFICIENT_DATA}),
    (AlarmKind.METRIC, Trigger.EVALUATE): _ALL,
    (AlarmKind.METRIC, Trigger.SET_ALARM_STATE): _ALL,
    (AlarmKind.COMPOSITE, Trigger.CREATE): frozenset({AlarmState.INSUFFICIENT_DATA}),
    (AlarmKind.COMPOSITE, Trigger.EVALUATE): _DECIDED,
    (AlarmKind.COMPOSITE, Trigger.SET_ALARM_STATE): _ALL,
}

_CHANGED = Effects(history=True, actions=Actions.NEW_STATE, timestamps=True)

#: What each kind of change does, by trigger (see the module docstring's table).
EFFECTS: dict[tuple[Trigger, Change], Effects] = {
    (Trigger.EVALUATE, Change.VALUE): _CHANGED,
    (Trigger.EVALUATE, Change.REASON): Effects(False, Actions.AUTOSCALING_REPEAT, False),
    (Trigger.EVALUATE, Change.NONE): Effects(False, Actions.AUTOSCALING_REPEAT, False),
    (Trigger.SET_ALARM_STATE, Change.VALUE): _CHANGED,
    (Trigger.SET_ALARM_STATE, Change.REASON): Effects(False, Actions.NONE, False),
    (Trigger.SET_ALARM_STATE, Change.NONE): Effects(False, Actions.NONE, False),
}


class IllegalTransition(errors.ServiceError):
    """A change the state machine does not allow: the caller's bug, reported as ``InternalFailure``."""

    code = "InternalFailure"
    status = 500
    sender_fault = False


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One DescribeAlarmHistory item, less the alarm name and type the caller adds.

    Attributes:
        timestamp: when it happened.
        item_type: ``HistoryItemType`` (``StateUpdate``, ``ConfigurationUpdate``, ``Action``).
        summary: ``HistorySummary``.
        data: ``HistoryData`` (JSON text).
    """

    timestamp: datetime
    item_type: str
    summary: str
    data: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of :func:`apply`.

    Attributes:
        state: the alarm's state afterwards.
        change: how it differs from before.
        effects: what the change does (:data:`EFFECTS`).
        history: the StateUpdate item to write, if any.
    """

    state: StateRecord
    change: Change
    effects: Effects
    history: HistoryItem | None


def initial_state(now: datetime) -> StateRecord:
    """The state of a newly created alarm (metric or composite)."""
    return StateRecord(AlarmState.INSUFFICIENT_DATA, CREATION_REASON, None, now, now)


def on_put(existing: StateRecord | None, now: datetime) -> StateRecord:
    """The state after PutMetricAlarm / PutCompositeAlarm: new alarms start unchecked, re-put ones keep theirs."""
    return initial_state(now) if existing is None else existing


def apply(kind: AlarmKind, current: StateRecord, trigger: Trigger, value: AlarmState, reason: str,
          reason_data: str | None, now: datetime) -> Outcome:
    """Move an alarm to ``value`` with ``reason``, by the tables above.

    Raises:
        IllegalTransition: ``trigger`` may not set ``value`` on an alarm of ``kind`` (or is CREATE
            or UPDATE, which do not go through here).
    """
    allowed = ALLOWED.get((kind, trigger))
    if allowed is None or trigger is Trigger.CREATE or value not in allowed:
        raise IllegalTransition(f"{trigger} may not put a {kind} in {value}")
    if value is not current.value:
        change = Change.VALUE
    elif (reason, reason_data) != (current.reason, current.reason_data):
        change = Change.REASON
    else:
        change = Change.NONE
    effects = EFFECTS[trigger, change]
    state = replace(current, value=value, reason=reason, reason_data=reason_data)
    if effects.timestamps:
        state = replace(state, updated=now, transitioned=now)
    history = state_update_item(current, state, now) if effects.history else None
    return Outcome(state, change, effects, history)


def apply_evaluation(kind: AlarmKind, current: StateRecord, evaluation: Evaluation, now: datetime) -> Outcome:
    """:func:`apply` for an evaluation result (a kept state changes nothing)."""
    return apply(kind, current, Trigger.EVALUATE, evaluation.state, evaluation.reason, evaluation.reason_data, now)


def set_alarm_state(kind: AlarmKind, current: StateRecord, value: str, reason: str, reason_data: str | None,
                    now: datetime) -> Outcome:
    """SetAlarmState: check the request as CloudWatch does, then :func:`apply` it.

    Raises:
        InvalidParameterValue: an unknown state value or a reason over 1023 characters.
        InvalidFormat: reason data over 4000 characters or not JSON.
    """
    try:
        state = AlarmState(value)
    except ValueError:
        raise errors.InvalidParameterValue(
            f"Invalid value {value!r} for StateValue; valid values are OK, ALARM, INSUFFICIENT_DATA.") from None
    if len(reason) > MAX_REASON:
        raise errors.InvalidParameterValue(f"StateReason must be at most {MAX_REASON} characters.")
    if reason_data is not None:
        if len(reason_data) > MAX_REASON_DATA:
            raise errors.InvalidFormat(f"StateReasonData must be at most {MAX_REASON_DATA} characters.")
        try:
            json.loads(reason_data)
        except ValueError:
            raise errors.InvalidFormat("StateReasonData is not valid JSON.") from None
    return apply(kind, current, Trigger.SET_ALARM_STATE, state, reason, reason_data or None, now)


def due_actions(outcome: Outcome, actions: Mapping[AlarmState, tuple[str, ...]], enabled: bool) -> tuple[str, ...]:
    """The action ARNs to run after ``outcome``.

    Args:
        outcome: what :func:`apply` returned.
        actions: the alarm's ``OKActions`` / ``AlarmActions`` / ``InsufficientDataActions`` by state.
        enabled: ``ActionsEnabled``; when False nothing runs (the transition is still recorded).
    """
    if not enabled or outcome.effects.actions is Actions.NONE:
        return ()
    arns = actions.get(outcome.state.value, ())
    if outcome.effects.actions is Actions.AUTOSCALING_REPEAT:
        return tuple(a for a in arns if a.split(":")[2:3] == ["autoscaling"])
    return tuple(arns)


def action_key(alarm_arn: str, outcome: Outcome, now: datetime) -> str:
    """The idempotency key for the actions :func:`due_actions` names (DESIGN: ARN + transition time).

    A transition's actions are keyed by the time the state changed, so a retried dispatch of the
    same transition is recognised; Auto Scaling repeats are keyed by the evaluation time, so each
    period's repeat is a new invocation.
    """
    moment = outcome.state.transitioned if outcome.change is Change.VALUE else now
    return f"{alarm_arn}#{json_time(moment)}"


def _state_json(state: StateRecord) -> str:
    out = '{"stateValue":' + json.dumps(str(state.value)) + ',"stateReason":' + json.dumps(
        state.reason, ensure_ascii=False)
    if state.reason_data:
        out += ',"stateReasonData":' + state.reason_data.strip()  # an object, not a string
    return out + "}"


def state_update_item(old: StateRecord, new: StateRecord, now: datetime) -> HistoryItem:
    """The StateUpdate history item for a change of value.

    Summary ``Alarm updated from OK to ALARM``; data
    ``{"version":"1.0","oldState":{"stateValue":..,"stateReason":..[,"stateReasonData":{..}]},
    "newState":{...}}`` with the reason data embedded as JSON objects.
    """
    data = '{"version":"1.0","oldState":' + _state_json(old) + ',"newState":' + _state_json(new) + "}"
    return HistoryItem(now, "StateUpdate", f"Alarm updated from {old.value} to {new.value}", data)


_CONFIG_VERBS = {"Create": ("created", "createdAlarm"), "Update": ("updated", "updatedAlarm"),
                 "Delete": ("deleted", "deletedAlarm")}


def configuration_item(name: str, change: str, alarm: Mapping[str, JsonValue], now: datetime) -> HistoryItem:
    """A ConfigurationUpdate history item: ``Alarm "cpu" created`` with the alarm as camelCase JSON.

    Args:
        name: the alarm name.
        change: ``Create``, ``Update`` or ``Delete``.
        alarm: the alarm's configuration with CloudWatch's camelCase keys (``alarmName``, ...);
            datetimes must already be strings (``2026-12-03T10:01:00.000+0000``).
        now: the time of the change.

    Raises:
        ValueError: an unknown ``change``.
    """
    if change not in _CONFIG_VERBS:
        raise ValueError(f"unknown configuration change {change!r}")
    verb, key = _CONFIG_VERBS[change]
    data = java_json({"version": "1.0", "type": change, key: dict(alarm)})
    return HistoryItem(now, "ConfigurationUpdate", f'Alarm "{name}" {verb}', data)


__all__ = [
    "ALLOWED", "CREATION_REASON", "action_key", "EFFECTS", "Actions", "AlarmKind", "Change", "Effects", "HistoryItem",
    "IllegalTransition", "Outcome", "apply", "apply_evaluation", "configuration_item", "due_actions",
    "initial_state", "on_put", "set_alarm_state", "state_update_item",
]
