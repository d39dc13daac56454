"""The alarm service's pure core: CloudWatch's alarm rules as functions over plain values.

No I/O, no clock, no protobuf, no grpc/aiohttp/clickhouse/tenacity: the service fetches the
alarm's per-period datapoints, passes them in with the time, stores what comes back and runs the
actions it names. ::

    scheduler, period closed   evaluate(alarm, datapoints, now, state) -> Evaluation      (evaluate)
                               apply_evaluation(kind, state, evaluation, now) -> Outcome    (transitions)
                               due_actions(outcome, actions, enabled) -> ARNs to run        (transitions)
                               action_key(alarm_arn, outcome, now) -> idempotency key       (transitions)
    child alarm changed        evaluate_composite(parse_rule(rule), children) -> Evaluation (composite)
    PutMetricAlarm             AlarmDefinition(...) validates; on_put(existing, now) keeps state
    PutCompositeAlarm          parse_rule(rule) validates
    SetAlarmState              set_alarm_state(kind, state, value, reason, data, now) -> Outcome

An :class:`Outcome` carries the new :class:`StateRecord` and the StateUpdate
:class:`HistoryItem` to write, if any.
"""

from services.alarm.domain.composite import ChildState, Rule, children, evaluate_composite, holds, parse_rule
from services.alarm.domain.evaluate import Evaluation, evaluate, period_starts
from services.alarm.domain.model import (
    AlarmDefinition,
    AlarmState,
    ComparisonOperator,
    Datapoint,
    LowSampleCountPercentile,
    StateRecord,
    TreatMissingData,
)
from services.alarm.domain.transitions import (
    AlarmKind,
    HistoryItem,
    IllegalTransition,
    Outcome,
    Trigger,
    action_key,
    apply,
    apply_evaluation,
    configuration_item,
    due_actions,
    initial_state,
    on_put,
    set_alarm_state,
    state_update_item,
)

__all__ = [
    "AlarmDefinition",
    "AlarmKind",
    "AlarmState",
    "ChildState",
    "ComparisonOperator",
    "Datapoint",
    "Evaluation",
    "HistoryItem",
    "IllegalTransition",
    "LowSampleCountPercentile",
    "Outcome",
    "Rule",
    "StateRecord",
    "TreatMissingData",
    "Trigger",
    "action_key",
    "apply",
    "apply_evaluation",
    "children",
    "configuration_item",
    "due_actions",
    "evaluate",
    "evaluate_composite",
    "holds",
    "initial_state",
    "on_put",
    "parse_rule",
    "period_starts",
    "set_alarm_state",
    "state_update_item",
]
