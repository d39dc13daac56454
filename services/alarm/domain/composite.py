"""Composite alarms: the AlarmRule language, parsed once and evaluated over the children's states.

Grammar (PutCompositeAlarm; keywords are upper case, whitespace separates tokens)::

    rule     := or
    or       := and { "OR" and }
    and      := unary { "AND" unary }
    unary    := "NOT" unary | "(" or ")" | "TRUE" | "FALSE" | function
    function := ("ALARM" | "OK" | "INSUFFICIENT_DATA") "(" name ")"
    name     := alarm name or ARN, bare (no whitespace or parentheses) or in double quotes

NOT binds tightest, then AND, then OR (AWS documents the operators, not their precedence; this is
the usual order and what parentheses make moot). A rule CloudWatch would refuse raises
:class:`stackwatch.errors.ValidationError` worded as CloudWatch words it: ``Error in AlarmRule
[Unsupported token ')' at char 1]``, ``... at char 67, must be: ')']``, char counted from 0.
(``AT_LEAST``, added to CloudWatch in 2025, is not supported.)

:func:`evaluate_composite` decides ALARM (the rule holds) or OK and writes CloudWatch's reason,
``arn:...:alarm:child transitioned to ALARM at Friday 04 August, 2023 12:54:46 UTC``, with reason
data ``{"triggeringAlarms":[{"arn":...,"state":{"value":"ALARM","timestamp":...}}]}``. The
triggering alarms are the children whose function agrees with the outcome (seen through any NOT),
newest state change first; the reason names the newest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.alarm.domain._format import JsonValue, java_json, json_time, long_time
from services.alarm.domain.evaluate import Evaluation
from services.alarm.domain.model import AlarmState
from stackwatch import errors

#: Limits from the PutCompositeAlarm documentation.
MAX_RULE_LENGTH, MAX_CHILDREN, MAX_ELEMENTS = 10240, 100, 500
_FUNCTIONS = {"ALARM": AlarmState.ALARM, "OK": AlarmState.OK, "INSUFFICIENT_DATA": AlarmState.INSUFFICIENT_DATA}


@dataclass(frozen=True, slots=True)
class Const:
    """``TRUE`` or ``FALSE``."""

    value: bool


@dataclass(frozen=True, slots=True)
class StateIs:
    """``ALARM(x)`` / ``OK(x)`` / ``INSUFFICIENT_DATA(x)``: true iff child ``name`` is in ``state``.

    Attributes:
        state: the state the function tests for.
        ref: the name or ARN as written.
        name: the alarm name (the part after ``:alarm:`` of an ARN).
    """

    state: AlarmState
    ref: str
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT x``."""

    operand: Rule


@dataclass(frozen=True, slots=True)
class And:
    """``a AND b AND ...``."""

    operands: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """``a OR b OR ...``."""

    operands: tuple[Rule, ...]


Rule = Const | StateIs | Not | And | Or


@dataclass(frozen=True, slots=True)
class ChildState:
    """A child alarm's state as a composite sees it.

    Attributes:
        arn: the child's ARN.
        value: its ``StateValue``.
        timestamp: when it last changed value (``StateTransitionedTimestamp``).
    """

    arn: str
    value: AlarmState
    timestamp: datetime


def _rule_error(detail: str) -> errors.ServiceError:
    return errors.ValidationError(f"Error in AlarmRule [{detail}]")


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    """``(token, position)`` pairs; a quoted name is one token with its quotes."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            yield c, i
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _rule_error(f"Unterminated quoted name at char {i}")
            yield text[i:end + 1], i
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            yield text[start:i], start


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.end = len(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self, must: str | None = None) -> str:
        if self.i >= len(self.tokens):
            raise _rule_error(f"Unexpected end of rule at char {self.end}" + (f", must be: '{must}'" if must else ""))
        token, at = self.tokens[self.i]
        if must is not None and token != must:
            raise _rule_error(f"Unsupported token '{token}' at char {at}, must be: '{must}'")
        self.i += 1
        return token

    def unsupported(self) -> errors.ServiceError:
        token, at = self.tokens[self.i - 1]
        return _rule_error(f"Unsupported token '{token}' at char {at}")

    def parse(self) -> Rule:
        rule = self.or_()
        if self.i < len(self.tokens):
            self.i += 1
            raise self.unsupported()
        return rule

    def or_(self) -> Rule:
        operands = [self.and_()]
        while self.peek() == "OR":
            self.take()
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_(self) -> Rule:
        operands = [self.unary()]
        while self.peek() == "AND":
            self.take()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Rule:
        token = self.take()
        if token == "NOT":
            return Not(self.unary())
        if token == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if token in ("TRUE", "FALSE"):
            return Const(token == "TRUE")
        if token in _FUNCTIONS:
            self.take("(")
            ref = self.take()
            name = ref[1:-1] if ref.startswith('"') else ref
            if ref in ("(", ")") or not name:
                raise self.unsupported()
            self.take(")")
            return StateIs(_FUNCTIONS[token], name, alarm_name(name))
        raise self.unsupported()


def alarm_name(ref: str) -> str:
    """The alarm name a rule reference stands for: itself, or what follows ``:alarm:`` in an ARN."""
    if ref.startswith("arn:"):
        parts = ref.split(":", 6)
        if len(parts) == 7 and parts[2] == "cloudwatch" and parts[5] == "alarm":
            return parts[6]
    return ref


def parse_rule(text: str) -> Rule:
    """Parse an AlarmRule.

    Raises:
        ValidationError: a rule CloudWatch would not accept: bad syntax, more than 10,240
            characters, more than 100 child alarms or 500 elements.
    """
    if not 1 <= len(text) <= MAX_RULE_LENGTH:
        raise errors.ValidationError(f"AlarmRule must be between 1 and {MAX_RULE_LENGTH} characters long.")
    parser = _Parser(text)
    rule = parser.parse()
    if len(children(rule)) > MAX_CHILDREN:
        raise errors.ValidationError(f"AlarmRule must reference at most {MAX_CHILDREN} alarms.")
    elements = sum(1 for t, _ in parser.tokens if t not in ("AND", "OR", "NOT", "ALARM", "OK", "INSUFFICIENT_DATA"))
    if elements > MAX_ELEMENTS:
        raise errors.ValidationError(f"AlarmRule must have at most {MAX_ELEMENTS} elements.")
    return rule


def children(rule: Rule) -> frozenset[str]:
    """The names of the alarms a rule reads."""
    if isinstance(rule, StateIs):
        return frozenset({rule.name})
    if isinstance(rule, Not):
        return children(rule.operand)
    if isinstance(rule, And | Or):
        return frozenset().union(*(children(r) for r in rule.operands))
    return frozenset()


def holds(rule: Rule, states: Mapping[str, ChildState]) -> bool:
    """Whether ``rule`` is true for the children's ``states`` (by alarm name).

    A child missing from ``states`` is in no state: each of its functions is false.
    """
    if isinstance(rule, Const):
        return rule.value
    if isinstance(rule, StateIs):
        child = states.get(rule.name)
        return child is not None and child.value is rule.state
    if isinstance(rule, Not):
        return not holds(rule.operand, states)
    if isinstance(rule, And):
        return all(holds(r, states) for r in rule.operands)
    return any(holds(r, states) for r in rule.operands)


def _agreeing(rule: Rule, states: Mapping[str, ChildState], outcome: bool, negated: bool = False) -> set[str]:
    """Children whose function's value, seen through the NOTs above it, equals ``outcome``."""
    if isinstance(rule, StateIs):
        return {rule.name} if (holds(rule, states) != negated) is outcome and rule.name in states else set()
    if isinstance(rule, Not):
        return _agreeing(rule.operand, states, outcome, not negated)
    if isinstance(rule, And | Or):
        return set().union(*(_agreeing(r, states, outcome, negated) for r in rule.operands))
    return set()


def evaluate_composite(rule: Rule, states: Mapping[str, ChildState]) -> Evaluation:
    """ALARM if ``rule`` holds, else OK, with CloudWatch's reason and reason data.

    The reason names the triggering child that changed state last; a rule with no triggering child
    (``TRUE``, ``FALSE``, or children not yet known) says what the rule evaluated to.
    """
    outcome = holds(rule, states)
    state = AlarmState.ALARM if outcome else AlarmState.OK
    triggering = sorted((states[name] for name in _agreeing(rule, states, outcome)),
                        key=lambda c: (c.timestamp, c.arn), reverse=True)
    if triggering:
        newest = triggering[0]
        reason = f"{newest.arn} transitioned to {newest.value} at {long_time(newest.timestamp)}"
    else:
        reason = f"AlarmRule evaluated to {'TRUE' if outcome else 'FALSE'}"
    entries: list[JsonValue] = [
        {"arn": c.arn, "state": {"value": str(c.value), "timestamp": json_time(c.timestamp)}} for c in triggering]
    return Evaluation(state, reason, java_json({"triggeringAlarms": entries}))
