"""Composite alarm rules: parsing with CloudWatch's errors, evaluation, and the reason written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alarm.domain.composite import (
    And,
    ChildState,
    Const,
    Not,
    Or,
    StateIs,
    children,
    evaluate_composite,
    holds,
    parse_rule,
)
from services.alarm.domain.model import AlarmState
from services.alarm.domain.transitions import (
    AlarmKind,
    IllegalTransition,
    Trigger,
    apply,
    apply_evaluation,
    initial_state,
)
from stackwatch import errors

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
T0 = datetime(2023, 8, 4, 12, 54, 46, 138000, tzinfo=UTC)


def child(name: str, value: AlarmState, at: datetime = T0) -> ChildState:
    return ChildState(ARN + name, value, at)


def states(**values: AlarmState) -> dict[str, ChildState]:
    return {name: child(name, v) for name, v in values.items()}


@pytest.mark.parametrize(("text", "rule"), [
    ("ALARM(cpu)", StateIs(ALARM, "cpu", "cpu")),
    ('OK("my alarm")', StateIs(OK, "my alarm", "my alarm")),
    (f"INSUFFICIENT_DATA({ARN}disk)", StateIs(INSUFFICIENT, ARN + "disk", "disk")),
    ("TRUE", Const(True)),
    ("FALSE", Const(False)),
    ("NOT ALARM(a)", Not(StateIs(ALARM, "a", "a"))),
    ("ALARM(a) OR ALARM(b) AND ALARM(c)",
     Or((StateIs(ALARM, "a", "a"), And((StateIs(ALARM, "b", "b"), StateIs(ALARM, "c", "c")))))),
    ("(ALARM(a) OR ALARM(b)) AND NOT OK(c)",
     And((Or((StateIs(ALARM, "a", "a"), StateIs(ALARM, "b", "b"))), Not(StateIs(OK, "c", "c"))))),
    ("  ALARM( a )  ", StateIs(ALARM, "a", "a")),
])
def test_parse(text, rule):
    assert parse_rule(text) == rule


@pytest.mark.parametrize(("text", "message"), [
    # verified against CloudWatch's answers (aws-cdk issues 34662 and 13953)
    ("()", "Error in AlarmRule [Unsupported token ')' at char 1]"),
    (f"(ALARM({ARN}SampleQueue Oldest Age Alarm) OR ALARM({ARN}b))",
     "Error in AlarmRule [Unsupported token 'Oldest' at char 67, must be: ')']"),
    # same wording, our cases
    ("alarm(a)", "Error in AlarmRule [Unsupported token 'alarm' at char 0]"),
    ("ALARM(a) ALARM(b)", "Error in AlarmRule [Unsupported token 'ALARM' at char 9]"),
    ("ALARM(a) AND", "Error in AlarmRule [Unexpected end of rule at char 12]"),
    ("ALARM(a", "Error in AlarmRule [Unexpected end of rule at char 7, must be: ')']"),
    ("ALARM()", "Error in AlarmRule [Unsupported token ')' at char 6]"),
    ('ALARM("")', "Error in AlarmRule [Unsupported token '\"\"' at char 6]"),
    ("ALARM a", "Error in AlarmRule [Unsupported token 'a' at char 6, must be: '(']"),
    ('OK("a)', "Error in AlarmRule [Unterminated quoted name at char 3]"),
])
def test_parse_errors(text, message):
    with pytest.raises(errors.ValidationError) as info:
        parse_rule(text)
    assert info.value.message == message
    assert (info.value.code, info.value.status) == ("ValidationError", 400)


def test_limits():
    parse_rule(" OR ".join(f"ALARM(a{i})" for i in range(100)))
    with pytest.raises(errors.ValidationError, match="at most 100 alarms"):
        parse_rule(" OR ".join(f"ALARM(a{i})" for i in range(101)))
    with pytest.raises(errors.ValidationError, match="at most 500 elements"):
        parse_rule(" OR ".join("TRUE" for _ in range(501)))
    with pytest.raises(errors.ValidationError, match="between 1 and 10240"):
        parse_rule("")
    assert children(parse_rule(f"ALARM(a) AND NOT OK({ARN}b) OR TRUE")) == {"a", "b"}


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("ALARM(a) AND ALARM(b)", {"a": ALARM, "b": ALARM}, True),
    ("ALARM(a) AND ALARM(b)", {"a": ALARM, "b": OK}, False),
    ("ALARM(a) OR ALARM(b)", {"a": OK, "b": ALARM}, True),
    ("NOT OK(a)", {"a": INSUFFICIENT}, True),
    ("INSUFFICIENT_DATA(a)", {"a": INSUFFICIENT}, True),
    ("ALARM(missing)", {}, False),
    ("NOT ALARM(missing)", {}, True),
    ("TRUE AND FALSE", {}, False),
])
def test_holds(text, values, expected):
    assert holds(parse_rule(text), states(**values)) is expected


def test_reason_names_the_newest_triggering_child():
    rule = parse_rule("ALARM(first) OR ALARM(second)")
    s = {"first": child("first", ALARM, T0), "second": child("second", ALARM, T0 - timedelta(minutes=3))}
    e = evaluate_composite(rule, s)
    assert e.state is ALARM
    assert e.reason == f"{ARN}first transitioned to ALARM at Friday 04 August, 2023 12:54:46 UTC"
    assert e.reason_data == (
        '{"triggeringAlarms":[{"arn":"' + ARN + 'first","state":{"value":"ALARM","timestamp":'
        '"2023-08-04T12:54:46.138+0000"}},{"arn":"' + ARN + 'second","state":{"value":"ALARM","timestamp":'
        '"2023-08-04T12:51:46.138+0000"}}]}')


def test_ok_outcome_lists_the_children_that_keep_it_ok():
    rule = parse_rule("ALARM(a) AND NOT OK(b)")
    e = evaluate_composite(rule, {"a": child("a", OK), "b": child("b", OK, T0 + timedelta(seconds=1))})
    assert e.state is OK
    assert [t["arn"] for t in json.loads(e.reason_data or "")["triggeringAlarms"]] == [ARN + "b", ARN + "a"]


def test_constant_rule_reason():
    e = evaluate_composite(parse_rule("FALSE"), {})
    assert (e.state, e.reason, e.reason_data) == (OK, "AlarmRule evaluated to FALSE", '{"triggeringAlarms":[]}')


def test_composite_timeline_goes_through_the_state_machine():
    rule = parse_rule("ALARM(a) AND ALARM(b)")
    current = initial_state(T0)
    seen = []
    for a, b in [(OK, OK), (ALARM, OK), (ALARM, ALARM), (ALARM, ALARM), (OK, ALARM)]:
        out = apply_evaluation(AlarmKind.COMPOSITE, current, evaluate_composite(rule, states(a=a, b=b)), T0)
        current = out.state
        seen.append((current.value, out.history.summary if out.history else None))
    assert seen == [(OK, "Alarm updated from INSUFFICIENT_DATA to OK"), (OK, None),
                    (ALARM, "Alarm updated from OK to ALARM"), (ALARM, None), (OK, "Alarm updated from ALARM to OK")]
    with pytest.raises(IllegalTransition):
        apply(AlarmKind.COMPOSITE, current, Trigger.EVALUATE, INSUFFICIENT, "x", None, T0)


names = st.sampled_from(["a", "b", "c"])
leaves = st.one_of(st.booleans().map(lambda b: "TRUE" if b else "FALSE"),
                   st.builds(lambda f, n: f"{f}({n})", st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), names))
rules = st.recursive(leaves, lambda inner: st.one_of(
    inner.map(lambda r: f"NOT {r}"),
    st.builds(lambda x, op, y: f"({x} {op} {y})", inner, st.sampled_from(["AND", "OR"]), inner)), max_leaves=8)
assignments = st.fixed_dictionaries({n: st.sampled_from(list(AlarmState)) for n in "abc"})


def _python(text: str, values: dict[str, AlarmState]) -> bool:
    """The same rule as a Python expression: an independent oracle for parse + holds."""
    expr = text.replace("AND", "and").replace("OR", "or").replace("NOT", "not")
    expr = expr.replace("TRUE", "True").replace("FALSE", "False")
    for f in ("INSUFFICIENT_DATA", "ALARM", "OK"):
        expr = expr.replace(f + "(", f"is_{f}(")

    def is_in(state: AlarmState):
        return lambda n: values[n] is state

    env = {f"is_{s.value}": is_in(s) for s in AlarmState}
    return bool(eval(expr, env, {n: n for n in "abc"}))  # noqa: S307 - test oracle over generated text


@given(rules, assignments)
def test_holds_agrees_with_python_boolean_logic(text, values):
    assert holds(parse_rule(text), states(**values)) is _python(text, values)


@given(rules, assignments)
def test_triggering_alarms_are_referenced_children(text, values):
    rule = parse_rule(text)
    e = evaluate_composite(rule, states(**values))
    listed = {t["arn"].removeprefix(ARN) for t in json.loads(e.reason_data or "")["triggeringAlarms"]}
    assert listed <= children(rule)


def test_golden_ok_reason_with_two_children():
    # An EventBridge composite event quoted in a public repository (2023): both children OK, the
    # reason names the newer. The rule itself was cut off in the quote; an OR of the two fits.
    arn = "arn:aws:cloudwatch:ap-northeast-1:0000000000:alarm:"
    rule = parse_rule(f'(ALARM("{arn}test1") OR ALARM("{arn}test2"))')
    s = {"test1": ChildState(arn + "test1", OK, datetime(2023, 6, 22, 14, 25, 30, 174000, tzinfo=UTC)),
         "test2": ChildState(arn + "test2", OK, datetime(2023, 6, 22, 14, 26, 1, 928000, tzinfo=UTC))}
    e = evaluate_composite(rule, s)
    assert e.reason == f"{arn}test2 transitioned to OK at Thursday 22 June, 2023 14:26:01 UTC"
    assert e.reason_data == (
        '{"triggeringAlarms":[{"arn":"' + arn + 'test2","state":{"value":"OK","timestamp":"2023-06-22T14:26:01.928+0000"}},'
        '{"arn":"' + arn + 'test1","state":{"value":"OK","timestamp":"2023-06-22T14:25:30.174+0000"}}]}')
