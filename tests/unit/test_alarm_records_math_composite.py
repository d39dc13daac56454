"""Validation of metric math and composite alarm configurations, and the suppression decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.alarm.composites import decide, in_cycle
from services.alarm.domain import AlarmState, StateRecord
from services.alarm.records import AlarmConfig, CompositeConfig, MathQuery, check_tags, load_config
from stackwatch import errors

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _stat(qid: str, period: int | None = 60, returns: bool | None = False) -> MathQuery:
    return MathQuery(qid, namespace="App", metric_name="Errors", period=period, stat="Sum", return_data=returns)


def _math(*queries: MathQuery) -> AlarmConfig:
    return AlarmConfig("m", "", "", (), 0, 1, 1.0, "GreaterThanThreshold", metrics=queries)


def test_a_math_alarm_takes_the_returned_querys_period_and_round_trips():
    config = _math(_stat("a", 300), _stat("b", 60), MathQuery("e", expression="a + b"))
    assert config.period == 60  # the expression has none: the shortest metric period
    assert config.definition.metric_math and config.definition.statistic is None
    assert load_config(config.to_json()) == config
    assert _math(_stat("a", 120, returns=None)).period == 120  # ReturnData omitted means true


@pytest.mark.parametrize(("queries", "error", "message"), [
    ((_stat("a"), _stat("b")), errors.ValidationError, "Exactly one element of the metrics list should return data."),
    ((_stat("a", returns=None), _stat("b", returns=None)), errors.ValidationError, "Exactly one element"),
    ((_stat("a", period=45, returns=True),), errors.InvalidParameterValue, "Period of metric a"),
    (tuple(_stat(f"m{i}", returns=i == 0) for i in range(11)), errors.LimitExceeded, "10"),
    ((_stat("a"), MathQuery("e", expression="a +")), errors.ValidationError, ""),
    ((_stat("a"), MathQuery("e", expression="nope * 2")), errors.ValidationError, ""),
], ids=["none-returns", "two-default-returns", "bad-period", "eleven-metrics", "syntax", "unknown-id"])
def test_bad_metrics_get_cloudwatchs_errors(queries, error, message):
    with pytest.raises(error) as e:
        _math(*queries)
    assert message in e.value.message


def test_a_composite_checks_its_rule_suppressor_and_tags():
    config = CompositeConfig("c", 'ALARM(a) OR NOT OK("arn:aws:cloudwatch:us-east-1:111122223333:alarm:b")')
    assert config.children == {"a", "b"}
    assert load_config(config.to_json()) == config
    with pytest.raises(errors.ValidationError, match=r"Error in AlarmRule \["):
        CompositeConfig("c", "ALARM(a) AND")
    with pytest.raises(errors.ValidationError):
        CompositeConfig("c", "TRUE", actions_suppressor="s", actions_suppressor_wait_period=5)
    with pytest.raises(errors.ValidationError):
        CompositeConfig("c", "TRUE", actions_suppressor_wait_period=5, actions_suppressor_extension_period=5)
    with pytest.raises(errors.LimitExceeded):
        CompositeConfig("c", "TRUE", alarm_actions=tuple(f"arn:aws:sns:r:1:t{i}" for i in range(6)))


@pytest.mark.parametrize(("tags", "error"), [
    ([(f"k{i}", "v") for i in range(51)], errors.LimitExceeded),
    ([("", "v")], errors.InvalidParameterValue),
    ([("k" * 129, "v")], errors.InvalidParameterValue),
    ([("k", "v" * 257)], errors.InvalidParameterValue),
    ([("aws:owner", "v")], errors.InvalidParameterValue),
    ([("k", "1"), ("k", "2")], errors.InvalidParameterValue),
], ids=["51-tags", "empty-key", "long-key", "long-value", "aws-prefix", "duplicate"])
def test_tag_limits(tags, error):
    with pytest.raises(error):
        check_tags(tags)
    check_tags([(f"k{i}", "v" * 256) for i in range(50)])


def _state(value: AlarmState, at: float) -> StateRecord:
    moment = datetime.fromtimestamp(at, UTC)
    return StateRecord(value, "r", None, moment, moment)


SUPPRESSED = CompositeConfig("c", "TRUE", actions_suppressor="s", actions_suppressor_wait_period=60,
                             actions_suppressor_extension_period=30)


@pytest.mark.parametrize(("suppressor", "left", "composite", "now", "expected"), [
    (AlarmState.ALARM, None, AlarmState.ALARM, 1000.0, ("Alarm", None)),
    (AlarmState.OK, 990.0, AlarmState.ALARM, 1000.0, ("ExtensionPeriod", 1020.0)),
    (AlarmState.OK, None, AlarmState.ALARM, 1000.0, ("WaitPeriod", 1060.0)),
    (AlarmState.OK, None, AlarmState.ALARM, 1060.0, None),
    (AlarmState.OK, None, AlarmState.OK, 1000.0, None),
    (AlarmState.OK, 900.0, AlarmState.ALARM, 1070.0, None),
], ids=["suppressor-in-alarm", "extension", "wait", "wait-over", "ok-needs-no-wait", "all-over"])
def test_suppression_decision(suppressor, left, composite, now, expected):
    held = decide(SUPPRESSED, _state(composite, 1000.0), _state(suppressor, 0.0), left, now)
    assert (held.by, held.until) == expected if expected else held is None


def test_cycles_are_found_through_composites_only():
    configs = {"a": CompositeConfig("a", "ALARM(b)"), "b": CompositeConfig("b", "ALARM(c) OR ALARM(a)"),
               "d": CompositeConfig("d", "ALARM(b)")}
    assert in_cycle("a", configs) and in_cycle("b", configs)
    assert not in_cycle("d", configs)
