"""The values the alarm engine works on: a metric alarm as evaluation needs it, and its state.

Nothing here does I/O or reads a clock. The service builds an :class:`AlarmDefinition` from a
stored PutMetricAlarm request (the gateway has already mapped ``DatapointsToAlarm`` to
``datapoints_to_alarm`` and so on), fetches per-period :class:`Datapoint` values, and hands both,
with the time, to :func:`services.alarm.domain.evaluate.evaluate`.

Enum values are the wire strings, so ``TreatMissingData("notBreaching")`` and
``str(AlarmState.ALARM)`` need no table. Definitions are validated when built, with the AWS error
CloudWatch answers a PutMetricAlarm with (:mod:`stackwatch.errors`); a definition that exists is
one the evaluator can run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction

from services.ingest.domain import parse_percentile
from stackwatch import errors

#: The basic statistics (``Statistic`` enum).
BASIC_STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})
#: Periods below a minute an alarm may use ("high-resolution alarms").
HIGH_RESOLUTION_PERIODS = frozenset({10, 20, 30})
#: How many periods CloudWatch fetches beyond ``EvaluationPeriods`` (its "evaluation range"). AWS
#: documents 5 for N = 3 and says the number depends on the period and resolution without saying
#: how; we use N + 2 for every alarm.
EXTRA_PERIODS = 2


class AlarmState(StrEnum):
    """``StateValue``."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class ComparisonOperator(StrEnum):
    """The static-threshold ``ComparisonOperator`` values (anomaly-band ones are not supported)."""

    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    GREATER_THAN = "GreaterThanThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"

    def breaches(self, value: float, threshold: float) -> bool:
        """Whether ``value`` is on the alarming side of ``threshold`` (NaN never is)."""
        if self is ComparisonOperator.GREATER_THAN_OR_EQUAL:
            return value >= threshold
        if self is ComparisonOperator.GREATER_THAN:
            return value > threshold
        if self is ComparisonOperator.LESS_THAN:
            return value < threshold
        return value <= threshold

    @property
    def words(self) -> str:
        """The phrase StateReason uses: ``greater than or equal to`` etc."""
        return _WORDS[self]


_WORDS = {
    ComparisonOperator.GREATER_THAN_OR_EQUAL: "greater than or equal to",
    ComparisonOperator.GREATER_THAN: "greater than",
    ComparisonOperator.LESS_THAN: "less than",
    ComparisonOperator.LESS_THAN_OR_EQUAL: "less than or equal to",
}


class TreatMissingData(StrEnum):
    """``TreatMissingData``; ``missing`` when omitted."""

    MISSING = "missing"
    IGNORE = "ignore"
    BREACHING = "breaching"
    NOT_BREACHING = "notBreaching"


class LowSampleCountPercentile(StrEnum):
    """``EvaluateLowSampleCountPercentile``; ``evaluate`` when omitted."""

    EVALUATE = "evaluate"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class AlarmDefinition:
    """What evaluation needs of a metric alarm (PutMetricAlarm, single-metric or metric math).

    Attributes:
        name: ``AlarmName``.
        period: seconds per datapoint: 10, 20, 30 or a multiple of 60.
        evaluation_periods: ``EvaluationPeriods`` (N).
        threshold: ``Threshold``.
        comparison_operator: ``ComparisonOperator``.
        statistic: ``Statistic`` for a single-metric alarm with a basic statistic, else None.
        extended_statistic: ``ExtendedStatistic``, a percentile (``p99``, ``p99.9``), else None.
        metric_math: True for an alarm on ``Metrics`` (its ``ReturnData`` series is evaluated; the
            reason data then names no statistic).
        datapoints_to_alarm: ``DatapointsToAlarm`` (M) as given; None when omitted, which means
            M = N and also selects CloudWatch's shorter StateReason sentence.
        treat_missing_data: ``TreatMissingData``.
        evaluate_low_sample_count_percentile: ``EvaluateLowSampleCountPercentile``.
        unit: ``Unit``, or None.
        namespace: ``Namespace`` (``AWS/DynamoDB`` alarms always ignore missing data).
    """

    name: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison_operator: ComparisonOperator
    statistic: str | None = None
    extended_statistic: str | None = None
    metric_math: bool = False
    datapoints_to_alarm: int | None = None
    treat_missing_data: TreatMissingData = TreatMissingData.MISSING
    evaluate_low_sample_count_percentile: LowSampleCountPercentile = LowSampleCountPercentile.EVALUATE
    unit: str | None = None
    namespace: str | None = None

    def __post_init__(self) -> None:
        """Check the combination as PutMetricAlarm does.

        Raises:
            InvalidParameterCombination: both or neither of a statistic and metric math, or both
                ``Statistic`` and ``ExtendedStatistic``.
            InvalidParameterValue: a bad period, N, M, threshold or statistic name.
        """
        stats = (self.statistic is not None) + (self.extended_statistic is not None)
        if self.metric_math and stats:
            raise errors.InvalidParameterCombination(
                "Statistic and ExtendedStatistic must not be used with Metrics.")
        if stats > 1:
            raise errors.InvalidParameterCombination(
                "Statistic and ExtendedStatistic must not be specified together.")
        if not self.metric_math and not stats:
            raise errors.MissingParameter("One of Statistic, ExtendedStatistic or Metrics must be specified.")
        if self.statistic is not None and self.statistic not in BASIC_STATISTICS:
            raise errors.InvalidParameterValue(f"Invalid value {self.statistic!r} for Statistic.")
        if self.extended_statistic is not None and parse_percentile(self.extended_statistic) is None:
            # The store answers percentiles only (services.ingest.domain), so trimmed means and the
            # other extended statistics are refused rather than evaluated as missing data forever.
            raise errors.InvalidParameterValue(
                f"The value {self.extended_statistic} for parameter ExtendedStatistic is invalid. "
                "Specify a percentile between p0.0 and p100.")
        if self.period < 1 or (self.period not in HIGH_RESOLUTION_PERIODS and self.period % 60):
            raise errors.InvalidParameterValue(
                "Period must be 10, 20, 30 or a multiple of 60.")
        if self.evaluation_periods < 1:
            raise errors.InvalidParameterValue("EvaluationPeriods must be at least 1.")
        limit = 86_400 if self.period < 3600 else 604_800
        if self.period * self.evaluation_periods > limit:
            raise errors.InvalidParameterValue(
                f"The evaluation period (Period x EvaluationPeriods) must not exceed {limit} seconds.")
        m = self.datapoints_to_alarm
        if m is not None and not 1 <= m <= self.evaluation_periods:
            raise errors.InvalidParameterValue(
                "DatapointsToAlarm must be at least 1 and at most EvaluationPeriods.")
        if not math.isfinite(self.threshold):
            raise errors.InvalidParameterValue("Threshold must be a finite number.")

    @property
    def m(self) -> int:
        """Datapoints to alarm, M (N when ``DatapointsToAlarm`` was omitted)."""
        return self.evaluation_periods if self.datapoints_to_alarm is None else self.datapoints_to_alarm

    @property
    def n(self) -> int:
        """Evaluation periods, N."""
        return self.evaluation_periods

    @property
    def evaluation_range(self) -> int:
        """How many periods back evaluation looks: N plus :data:`EXTRA_PERIODS`."""
        return self.evaluation_periods + EXTRA_PERIODS

    @property
    def missing_data_treatment(self) -> TreatMissingData:
        """``treat_missing_data``, except ``ignore`` for ``AWS/DynamoDB`` as CloudWatch does."""
        return TreatMissingData.IGNORE if self.namespace == "AWS/DynamoDB" else self.treat_missing_data

    def too_few_samples(self, sample_count: float | None) -> bool:
        """Whether a period with ``sample_count`` samples is one ``ignore`` leaves out.

        The rule covers percentile alarms (``pNN``) with ``evaluate_low_sample_count_percentile``
        set to ``ignore``: a period needs ``10 / (1 - p)`` samples for p in [0.5, 1) and ``10 / p``
        below 0.5 (p99 needs 1,000, p10 needs 100); p0 and p100 never have enough. Compared in
        exact arithmetic, so p99 with exactly 1,000 samples is enough. An unknown count is enough.
        """
        if self.evaluate_low_sample_count_percentile is not LowSampleCountPercentile.IGNORE:
            return False
        q = parse_percentile(self.extended_statistic) if self.extended_statistic else None
        if q is None or sample_count is None:
            return False
        p = Fraction(repr(q))
        divisor = 1 - p if p >= Fraction(1, 2) else p
        return divisor == 0 or Fraction(sample_count) * divisor < 10


@dataclass(frozen=True, slots=True)
class Datapoint:
    """One period's aggregated value, as the shell fetched it.

    Attributes:
        timestamp: the start of the period, UTC.
        value: the alarm's statistic over the period (or the math expression's value).
        sample_count: samples in the period; needed for reason data and low-sample percentiles.
    """

    timestamp: datetime
    value: float
    sample_count: float | None = None


@dataclass(frozen=True, slots=True)
class StateRecord:
    """An alarm's current state as stored (DescribeAlarms' state fields).

    Attributes:
        value: ``StateValue``.
        reason: ``StateReason``.
        reason_data: ``StateReasonData`` (a JSON string), or None.
        updated: ``StateUpdatedTimestamp``: last change of value (the model: "of either the
            StateValue or EvaluationState"; a new reason alone does not move it).
        transitioned: ``StateTransitionedTimestamp``: last change of value.
    """

    value: AlarmState
    reason: str
    reason_data: str | None
    updated: datetime
    transitioned: datetime


def epoch(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime.

    Raises:
        ValueError: ``moment`` is naive: the engine never guesses a time zone.
    """
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware (UTC) time")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """The aware UTC datetime of ``seconds`` since the epoch."""
    return datetime.fromtimestamp(seconds, UTC)
