"""A metric alarm's configuration as the service stores it, and the forms it is shown in.

:class:`AlarmConfig` is what PutMetricAlarm said, checked once when built: it makes the domain's
:class:`~services.alarm.domain.AlarmDefinition` (which validates what evaluation needs, with the
AWS errors CloudWatch answers) and adds what evaluation does not need (the metric's identity,
actions, description, tags). It travels as JSON text (:meth:`AlarmConfig.to_json` /
:meth:`AlarmConfig.from_json`) into one column of the store, so adding a configuration field needs
no schema change. :meth:`AlarmConfig.history_json` is the camelCase document CloudWatch puts in a
ConfigurationUpdate history item.

No protobuf and no I/O here: the servicer maps messages to and from these values.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from services.alarm.domain import (
    AlarmDefinition,
    AlarmState,
    ComparisonOperator,
    LowSampleCountPercentile,
    TreatMissingData,
)
from services.alarm.domain._format import JsonValue, json_time
from services.alarm.domain.model import from_epoch
from services.ingest.domain import validate_metric_identity
from stackwatch import errors

#: Most ARNs in each of the three action lists.
MAX_ACTIONS = 5
#: Most tags on an alarm.
MAX_TAGS = 50


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
    definition: AlarmDefinition = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate as PutMetricAlarm does.

        Raises:
            InvalidParameterValue, InvalidParameterCombination, MissingParameter: a bad name,
                metric, action list, tag list, or anything :class:`AlarmDefinition` refuses.
        """
        if not 1 <= len(self.name) <= 255 or any(ord(c) < 32 for c in self.name):
            raise errors.InvalidParameterValue(
                "AlarmName must be 1-255 characters without control characters.")
        if self.description is not None and len(self.description) > 1024:
            raise errors.InvalidParameterValue("AlarmDescription must be at most 1024 characters.")
        validate_metric_identity(self.namespace, self.metric_name, list(self.dimensions))
        for parameter, arns in (("OKActions", self.ok_actions), ("AlarmActions", self.alarm_actions),
                                ("InsufficientDataActions", self.insufficient_data_actions)):
            if len(arns) > MAX_ACTIONS:
                raise errors.LimitExceeded(f"The maximum number of {parameter} is {MAX_ACTIONS}.")
            for arn in arns:
                if not 1 <= len(arn) <= 1024 or not arn.startswith("arn:"):
                    raise errors.InvalidParameterValue(f"Invalid ARN {arn!r} in {parameter}.")
        if len(self.tags) > MAX_TAGS:
            raise errors.LimitExceeded(f"The maximum number of tags is {MAX_TAGS}.")
        object.__setattr__(self, "definition", AlarmDefinition(
            name=self.name, period=self.period, evaluation_periods=self.evaluation_periods,
            threshold=self.threshold,
            comparison_operator=_enum(ComparisonOperator, self.comparison_operator, "ComparisonOperator"),
            statistic=self.statistic, extended_statistic=self.extended_statistic,
            datapoints_to_alarm=self.datapoints_to_alarm,
            treat_missing_data=_enum(TreatMissingData, self.treat_missing_data, "TreatMissingData")
            or TreatMissingData.MISSING,
            evaluate_low_sample_count_percentile=_enum(
                LowSampleCountPercentile, self.evaluate_low_sample_count_percentile,
                "EvaluateLowSampleCountPercentile") or LowSampleCountPercentile.EVALUATE,
            unit=self.unit, namespace=self.namespace))

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
        return cls(**doc)

    def history_json(self, arn: str, state_value: str, updated: datetime) -> dict[str, JsonValue]:
        """The alarm as a ConfigurationUpdate history item shows it (CloudWatch's camelCase keys)."""
        doc: dict[str, JsonValue] = {"alarmName": self.name, "alarmArn": arn}
        if self.description is not None:
            doc["alarmDescription"] = self.description
        doc.update({"namespace": self.namespace, "metricName": self.metric_name,
                    "dimensions": [{"name": n, "value": v} for n, v in self.dimensions]})
        if self.statistic is not None:
            doc["statistic"] = self.statistic
        if self.extended_statistic is not None:
            doc["extendedStatistic"] = self.extended_statistic
        if self.unit is not None:
            doc["unit"] = self.unit
        doc.update({"period": self.period, "evaluationPeriods": self.evaluation_periods})
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

