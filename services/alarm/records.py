"""An alarm's configuration as the service stores it, and the forms it is shown in.

:class:`AlarmConfig` is what PutMetricAlarm said (one metric, or metric math over the
:class:`MathQuery` list ``Metrics``); :class:`CompositeConfig` is what PutCompositeAlarm said.
:func:`load_config` reads either back from the store. Each is checked once when built;
:class:`AlarmConfig` makes the domain's
:class:`~services.alarm.domain.AlarmDefinition` (which validates what evaluation needs, with the
AWS errors CloudWatch answers) and adds what evaluation does not need (the metric's identity,
actions, description, tags). It travels as JSON text (:meth:`AlarmConfig.to_json` /
:meth:`AlarmConfig.from_json`) into one column of the store, so adding a configuration field needs
no schema change. :meth:`AlarmConfig.history_json` is the camelCase document CloudWatch puts in a
ConfigurationUpdate history item.

No protobuf and no I/O here: the servicer maps messages to and from these values.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from services.alarm.domain import (
    AlarmDefinition,
    AlarmState,
    ComparisonOperator,
    LowSampleCountPercentile,
    StateRecord,
    TreatMissingData,
)
from services.alarm.domain._format import JsonValue, json_time
from services.alarm.domain.composite import Rule, alarm_name, children, parse_rule
from services.alarm.domain.model import HIGH_RESOLUTION_PERIODS, from_epoch
from services.ingest.domain import validate_metric_identity
from stackwatch import errors
from stackwatch.domain import metricmath

#: Most ARNs in each of the three action lists.
MAX_ACTIONS = 5
#: Most tags on an alarm.
MAX_TAGS = 50
#: Most queries in a metric math alarm's ``Metrics``.
MAX_MATH_METRICS = 10
#: The longest tag key and value.
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256


def check_tags(tags: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> None:
    """Check tags as TagResource and the Put operations do.

    Raises:
        LimitExceeded: more than 50 tags.
        InvalidParameterValue: a key of 0 or more than 128 characters, a value over 256, a key
            starting with the reserved ``aws:`` prefix, or a key given twice.
    """
    if len(tags) > MAX_TAGS:
        raise errors.LimitExceeded(f"The maximum number of tags is {MAX_TAGS}.")
    seen = set()
    for key, value in tags:
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise errors.InvalidParameterValue(f"Tag keys must be between 1 and {MAX_TAG_KEY} characters long.")
        if len(value) > MAX_TAG_VALUE:
            raise errors.InvalidParameterValue(f"Tag values must be at most {MAX_TAG_VALUE} characters long.")
        if key.lower().startswith("aws:"):
            raise errors.InvalidParameterValue("Tag keys starting with the reserved prefix 'aws:' are not allowed.")
        if key in seen:
            raise errors.InvalidParameterValue(f"Duplicate tag key {key!r}.")
        seen.add(key)


def _check_name(name: str, description: str | None) -> None:
    if not 1 <= len(name) <= 255 or any(ord(c) < 32 for c in name):
        raise errors.InvalidParameterValue("AlarmName must be 1-255 characters without control characters.")
    if description is not None and len(description) > 1024:
        raise errors.InvalidParameterValue("AlarmDescription must be at most 1024 characters.")


def _check_actions(lists: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    for parameter, arns in lists:
        if len(arns) > MAX_ACTIONS:
            raise errors.LimitExceeded(f"The maximum number of {parameter} is {MAX_ACTIONS}.")
        for arn in arns:
            if not 1 <= len(arn) <= 1024 or not arn.startswith("arn:"):
                raise errors.InvalidParameterValue(f"Invalid ARN {arn!r} in {parameter}.")


@dataclass(frozen=True, slots=True)
class MathQuery:
    """One entry of a metric math alarm's ``Metrics`` (CloudWatch MetricDataQuery, snake_case).

    Exactly one of ``expression`` and ``metric_name`` is set (a MetricStat query has the metric,
    ``period`` and ``stat``; an expression query may have a ``period``).

    Attributes:
        id: ``Id``.
        expression: ``Expression``, or None for a MetricStat query.
        namespace: ``MetricStat.Metric.Namespace``.
        metric_name: ``MetricStat.Metric.MetricName`` (None for an expression).
        dimensions: ``MetricStat.Metric.Dimensions`` as (name, value) pairs.
        period: ``MetricStat.Period`` or the expression's ``Period``; None when not given.
        stat: ``MetricStat.Stat``.
        unit: ``MetricStat.Unit``.
        label: ``Label``.
        return_data: ``ReturnData`` as given (None: omitted, which means true).
        account_id: ``AccountId`` as given (kept and shown; StackWatch reads the caller's account).
    """

    id: str
    expression: str | None = None
    namespace: str = ""
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    period: int | None = None
    stat: str = ""
    unit: str | None = None
    label: str | None = None
    return_data: bool | None = None
    account_id: str | None = None

    @property
    def returns(self) -> bool:
        """Whether this query's result is the alarmed series (``ReturnData`` defaults to true)."""
        return self.return_data is not False

    def engine_query(self) -> metricmath.Query:
        """The metric math engine's view of this query (for validation)."""
        ref = None
        if self.metric_name is not None:
            ref = metricmath.MetricRef(self.namespace, self.metric_name, tuple(sorted(self.dimensions)), self.stat,
                                       self.period or 0)
        return metricmath.Query(self.id, self.expression, ref, self.label, self.returns, self.period)

    def history_json(self) -> dict[str, JsonValue]:
        """The query as ConfigurationUpdate history items show it (camelCase)."""
        doc: dict[str, JsonValue] = {"id": self.id}
        if self.metric_name is not None:
            stat: dict[str, JsonValue] = {
                "metric": {"namespace": self.namespace, "metricName": self.metric_name,
                           "dimensions": [{"name": n, "value": v} for n, v in self.dimensions]},
                "period": self.period, "stat": self.stat}
            if self.unit is not None:
                stat["unit"] = self.unit
            doc["metricStat"] = stat
        else:
            doc["expression"] = self.expression
        if self.label is not None:
            doc["label"] = self.label
        doc["returnData"] = self.returns
        if self.expression is not None and self.period is not None:
            doc["period"] = self.period
        return doc


def _valid_period(period: int) -> bool:
    return period in HIGH_RESOLUTION_PERIODS or (period >= 60 and period % 60 == 0)


def math_period(queries: tuple[MathQuery, ...]) -> int:
    """Check a metric math alarm's ``Metrics`` and return the alarm's period.

    The period is the returned query's (its MetricStat's, or the expression's ``Period``), else
    the shortest MetricStat period among the queries.

    Raises:
        ValidationError: not exactly one query returns data, or the engine refuses the queries.
        LimitExceeded: more than 10 queries.
        InvalidParameterValue: a MetricStat period that is not 10, 20, 30 or a multiple of 60.
    """
    if len(queries) > MAX_MATH_METRICS:
        raise errors.LimitExceeded(f"The maximum number of metrics in Metrics is {MAX_MATH_METRICS}.")
    returned = [q for q in queries if q.returns]
    if len(returned) != 1:
        raise errors.ValidationError("Exactly one element of the metrics list should return data.")
    for q in queries:
        if q.metric_name is not None and q.expression is None:
            if q.period is None or not _valid_period(q.period):
                raise errors.InvalidParameterValue(
                    f"The Period of metric {q.id} must be 10, 20, 30 or a multiple of 60.")
            if not q.stat:
                raise errors.MissingParameter(f"The Stat of metric {q.id} must be specified.")
            validate_metric_identity(q.namespace, q.metric_name, list(q.dimensions))
        elif q.expression is not None and q.period is not None and not _valid_period(q.period):
            raise errors.InvalidParameterValue(f"The Period of metric {q.id} must be 10, 20, 30 or a multiple of 60.")
    metricmath.plan([q.engine_query() for q in queries])
    if returned[0].period is not None:
        return returned[0].period
    periods = [q.period for q in queries if q.period is not None]
    if not periods:
        raise errors.ValidationError(f"The Period of metric {returned[0].id} must be specified.")
    return min(periods)


def _enum(kind: type[Any], value: str | None, parameter: str) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(v) for v in kind)
        raise errors.InvalidParameterValue(
            f"Invalid value {value!r} for {parameter}; valid values are {allowed}.") from None


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """A single-metric alarm's configuration (PutMetricAlarm's parameters, snake_case).

    Attributes:
        name: ``AlarmName``.
        namespace: ``Namespace``.
        metric_name: ``MetricName``.
        dimensions: ``Dimensions`` as (name, value) pairs, in the order given.
        period: ``Period``.
        evaluation_periods: ``EvaluationPeriods``.
        threshold: ``Threshold``.
        comparison_operator: ``ComparisonOperator``.
        statistic: ``Statistic`` or None.
        extended_statistic: ``ExtendedStatistic`` or None.
        datapoints_to_alarm: ``DatapointsToAlarm`` or None (= N).
        treat_missing_data: ``TreatMissingData`` or None (= missing; shown only when given).
        evaluate_low_sample_count_percentile: ``EvaluateLowSampleCountPercentile`` or None.
        unit: ``Unit`` or None.
        description: ``AlarmDescription`` or None.
        actions_enabled: ``ActionsEnabled``.
        ok_actions: ``OKActions``.
        alarm_actions: ``AlarmActions``.
        insufficient_data_actions: ``InsufficientDataActions``.
        tags: ``Tags`` as (key, value) pairs (kept from creation).
        updated: ``AlarmConfigurationUpdatedTimestamp``, epoch seconds.
    """

    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    period: int
    evaluation_periods: int
    threshold: float
    comparison_operator: str
    statistic: str | None = None
    extended_statistic: str | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    evaluate_low_sample_count_percentile: str | None = None
    unit: str | None = None
    description: str | None = None
    actions_enabled: bool = True
    ok_actions: tuple[str, ...] = ()
    alarm_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    updated: float = 0.0
    metrics: tuple[MathQuery, ...] = ()
    definition: AlarmDefinition = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate as PutMetricAlarm does.

        A metric math alarm (``metrics`` set) has no namespace, metric name or dimensions; its
        ``period`` is the one :func:`math_period` derives (it replaces whatever was passed).

        Raises:
            InvalidParameterValue, InvalidParameterCombination, MissingParameter, ValidationError,
                LimitExceeded: a bad name, metric, math query, action list, tag list, or anything
                :class:`AlarmDefinition` refuses.
        """
        _check_name(self.name, self.description)
        if self.metrics:
            object.__setattr__(self, "period", math_period(self.metrics))
        else:
            validate_metric_identity(self.namespace, self.metric_name, list(self.dimensions))
        _check_actions((("OKActions", self.ok_actions), ("AlarmActions", self.alarm_actions),
                        ("InsufficientDataActions", self.insufficient_data_actions)))
        check_tags(self.tags)
        object.__setattr__(self, "definition", AlarmDefinition(
            name=self.name, period=self.period, metric_math=bool(self.metrics),
            evaluation_periods=self.evaluation_periods,
            threshold=self.threshold,
            comparison_operator=_enum(ComparisonOperator, self.comparison_operator, "ComparisonOperator"),
            statistic=self.statistic, extended_statistic=self.extended_statistic,
            datapoints_to_alarm=self.datapoints_to_alarm,
            treat_missing_data=_enum(TreatMissingData, self.treat_missing_data, "TreatMissingData")
            or TreatMissingData.MISSING,
            evaluate_low_sample_count_percentile=_enum(
                LowSampleCountPercentile, self.evaluate_low_sample_count_percentile,
                "EvaluateLowSampleCountPercentile") or LowSampleCountPercentile.EVALUATE,
            unit=self.unit, namespace=self.namespace or None))

    def actions(self) -> dict[AlarmState, tuple[str, ...]]:
        """The action lists by the state that runs them (``due_actions``' mapping)."""
        return {AlarmState.OK: self.ok_actions, AlarmState.ALARM: self.alarm_actions,
                AlarmState.INSUFFICIENT_DATA: self.insufficient_data_actions}

    def all_actions(self) -> tuple[str, ...]:
        """Every action ARN of every state."""
        return self.ok_actions + self.alarm_actions + self.insufficient_data_actions

    def to_json(self) -> str:
        """The stored form (keys are the field names)."""
        doc = asdict(self)
        doc.pop("definition", None)
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> AlarmConfig:
        """Back from :meth:`to_json` (lists become tuples again)."""
        doc = json.loads(text)
        doc.pop("definition", None)
        for key in ("dimensions", "tags"):
            doc[key] = tuple(tuple(pair) for pair in doc.get(key, ()))
        for key in ("ok_actions", "alarm_actions", "insufficient_data_actions"):
            doc[key] = tuple(doc.get(key, ()))
        doc["metrics"] = tuple(MathQuery(**{**q, "dimensions": tuple(tuple(d) for d in q.get("dimensions", ()))})
                               for q in doc.get("metrics", ()))
        return cls(**doc)

    def history_json(self, arn: str, state_value: str, updated: datetime) -> dict[str, JsonValue]:
        """The alarm as a ConfigurationUpdate history item shows it (CloudWatch's camelCase keys)."""
        doc: dict[str, JsonValue] = {"alarmName": self.name, "alarmArn": arn}
        if self.description is not None:
            doc["alarmDescription"] = self.description
        if self.metrics:
            doc["metrics"] = [q.history_json() for q in self.metrics]
        else:
            doc.update({"namespace": self.namespace, "metricName": self.metric_name,
                        "dimensions": [{"name": n, "value": v} for n, v in self.dimensions]})
        if self.statistic is not None:
            doc["statistic"] = self.statistic
        if self.extended_statistic is not None:
            doc["extendedStatistic"] = self.extended_statistic
        if self.unit is not None:
            doc["unit"] = self.unit
        if not self.metrics:
            doc["period"] = self.period
        doc["evaluationPeriods"] = self.evaluation_periods
        if self.datapoints_to_alarm is not None:
            doc["datapointsToAlarm"] = self.datapoints_to_alarm
        doc.update({"threshold": float(self.threshold), "comparisonOperator": self.comparison_operator,
                    "treatMissingData": self.treat_missing_data or "missing", "stateValue": state_value,
                    "actionsEnabled": self.actions_enabled, "alarmActions": list(self.alarm_actions),
                    "insufficientDataActions": list(self.insufficient_data_actions),
                    "okactions": list(self.ok_actions),
                    "alarmConfigurationUpdatedTimestamp": json_time(updated)})
        return doc

    @property
    def updated_at(self) -> datetime:
        """``updated`` as an aware datetime."""
        return from_epoch(self.updated)



@dataclass(frozen=True, slots=True)
class CompositeConfig:
    """A composite alarm's configuration (PutCompositeAlarm's parameters, snake_case).

    Attributes:
        name: ``AlarmName``.
        alarm_rule: ``AlarmRule`` as written.
        description: ``AlarmDescription`` or None.
        actions_enabled: ``ActionsEnabled``.
        ok_actions: ``OKActions``.
        alarm_actions: ``AlarmActions``.
        insufficient_data_actions: ``InsufficientDataActions``.
        actions_suppressor: ``ActionsSuppressor`` (name or ARN) or None.
        actions_suppressor_wait_period: ``ActionsSuppressorWaitPeriod`` (seconds) or None.
        actions_suppressor_extension_period: ``ActionsSuppressorExtensionPeriod`` or None.
        tags: ``Tags`` as (key, value) pairs.
        updated: ``AlarmConfigurationUpdatedTimestamp``, epoch seconds.
        rule: the parsed rule.
    """

    name: str
    alarm_rule: str
    description: str | None = None
    actions_enabled: bool = True
    ok_actions: tuple[str, ...] = ()
    alarm_actions: tuple[str, ...] = ()
    insufficient_data_actions: tuple[str, ...] = ()
    actions_suppressor: str | None = None
    actions_suppressor_wait_period: int | None = None
    actions_suppressor_extension_period: int | None = None
    tags: tuple[tuple[str, str], ...] = ()
    updated: float = 0.0
    rule: Rule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate as PutCompositeAlarm does.

        Raises:
            ValidationError: a bad rule (CloudWatch's ``Error in AlarmRule [...]``), or a
                suppressor without both periods.
            InvalidParameterValue, LimitExceeded: a bad name, action list, tag list or period.
        """
        _check_name(self.name, self.description)
        object.__setattr__(self, "rule", parse_rule(self.alarm_rule))
        _check_actions((("OKActions", self.ok_actions), ("AlarmActions", self.alarm_actions),
                        ("InsufficientDataActions", self.insufficient_data_actions)))
        check_tags(self.tags)
        periods = (self.actions_suppressor_wait_period, self.actions_suppressor_extension_period)
        if self.actions_suppressor is not None:
            if not 1 <= len(self.actions_suppressor) <= 1600:
                raise errors.InvalidParameterValue("ActionsSuppressor must be 1-1600 characters.")
            if None in periods:
                raise errors.ValidationError(
                    "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required "
                    "when ActionsSuppressor is specified.")
        elif periods != (None, None):
            raise errors.ValidationError(
                "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod may only be specified "
                "with ActionsSuppressor.")
        if any(p is not None and p < 0 for p in periods):
            raise errors.InvalidParameterValue("Actions suppressor periods must not be negative.")

    @property
    def children(self) -> frozenset[str]:
        """The names of the alarms the rule reads."""
        return children(self.rule)

    @property
    def suppressor_name(self) -> str | None:
        """The suppressor's alarm name (an ARN reduced to its name), or None."""
        return alarm_name(self.actions_suppressor) if self.actions_suppressor is not None else None

    def actions(self) -> dict[AlarmState, tuple[str, ...]]:
        """The action lists by the state that runs them."""
        return {AlarmState.OK: self.ok_actions, AlarmState.ALARM: self.alarm_actions,
                AlarmState.INSUFFICIENT_DATA: self.insufficient_data_actions}

    def all_actions(self) -> tuple[str, ...]:
        """Every action ARN of every state."""
        return self.ok_actions + self.alarm_actions + self.insufficient_data_actions

    def to_json(self) -> str:
        """The stored form (keys are the field names; ``alarm_rule`` marks a composite)."""
        doc = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "rule"}
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CompositeConfig:
        """Back from :meth:`to_json`."""
        doc = json.loads(text)
        doc["tags"] = tuple(tuple(pair) for pair in doc.get("tags", ()))
        for key in ("ok_actions", "alarm_actions", "insufficient_data_actions"):
            doc[key] = tuple(doc.get(key, ()))
        return cls(**doc)

    def history_json(self, arn: str, state_value: str, updated: datetime) -> dict[str, JsonValue]:
        """The alarm as a ConfigurationUpdate history item shows it (camelCase keys)."""
        doc: dict[str, JsonValue] = {"alarmName": self.name, "alarmArn": arn}
        if self.description is not None:
            doc["alarmDescription"] = self.description
        doc.update({"alarmRule": self.alarm_rule, "stateValue": state_value, "actionsEnabled": self.actions_enabled,
                    "alarmActions": list(self.alarm_actions),
                    "insufficientDataActions": list(self.insufficient_data_actions),
                    "okactions": list(self.ok_actions)})
        if self.actions_suppressor is not None:
            doc.update({"actionsSuppressor": self.actions_suppressor,
                        "actionsSuppressorWaitPeriod": self.actions_suppressor_wait_period,
                        "actionsSuppressorExtensionPeriod": self.actions_suppressor_extension_period})
        doc["alarmConfigurationUpdatedTimestamp"] = json_time(updated)
        return doc

    @property
    def updated_at(self) -> datetime:
        """``updated`` as an aware datetime."""
        return from_epoch(self.updated)

    def notification(self, arn: str, old_state: str, state: StateRecord, region: str) -> dict[str, JsonValue]:
        """The SNS alarm notification of a composite (``AlarmRule`` and ``TriggeringChildren``, no ``Trigger``)."""
        triggering: list[JsonValue] = []
        if state.reason_data:
            with contextlib.suppress(ValueError, TypeError, KeyError):
                for child in json.loads(state.reason_data)["triggeringAlarms"]:
                    triggering.append({"Arn": child["arn"], "State": {"Value": child["state"]["value"],
                                                                      "Timestamp": child["state"]["timestamp"]}})
        return {
            "AlarmName": self.name, "AlarmDescription": self.description, "AWSAccountId": arn.split(":")[4],
            "NewStateValue": str(state.value), "NewStateReason": state.reason,
            "StateChangeTime": json_time(state.transitioned), "Region": region, "AlarmArn": arn,
            "OldStateValue": old_state, "AlarmRule": self.alarm_rule, "TriggeringChildren": triggering,
            "OKActions": list(self.ok_actions), "AlarmActions": list(self.alarm_actions),
            "InsufficientDataActions": list(self.insufficient_data_actions)}


#: Either kind of alarm configuration.
AnyConfig: TypeAlias = AlarmConfig | CompositeConfig


def load_config(text: str) -> AnyConfig:
    """A stored configuration of either kind (a composite's has an ``alarm_rule``)."""
    if '"alarm_rule":' in text:
        return CompositeConfig.from_json(text)
    return AlarmConfig.from_json(text)


def kind_of(config: AnyConfig) -> str:
    """``AlarmType`` of a configuration: ``CompositeAlarm`` or ``MetricAlarm``."""
    return "CompositeAlarm" if isinstance(config, CompositeConfig) else "MetricAlarm"
