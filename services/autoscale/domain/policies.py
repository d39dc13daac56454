"""Scaling policies and the arithmetic AWS documents for them, as pure functions.

Three policy types, as PutScalingPolicy defines them::

    SimpleScaling          one ScalingAdjustment of an AdjustmentType; cooldown after each activity
    StepScaling            StepAdjustments chosen by how far the metric is past the alarm's threshold;
                           no cooldown, instances still warming up are not counted when scaling out
    TargetTrackingScaling  a target value for a metric; the service owns the alarms that drive it

How a change becomes a capacity (:func:`adjusted_capacity`), before the group's bounds clamp it:

* ``ChangeInCapacity``: current + adjustment.
* ``ExactCapacity``: the adjustment itself.
* ``PercentChangeInCapacity``: current × adjustment / 100, with AWS's rounding: a change above 1
  is rounded down (12.7 -> 12), one between 0 and 1 becomes 1, one between -1 and 0 becomes -1,
  one below -1 is rounded up (-6.67 -> -6). ``MinAdjustmentMagnitude`` then raises the size of a
  change that is smaller (in absolute value) than it.

How a step is chosen (:func:`select_step`): the bounds are offsets from the breach threshold. When
the metric is at or above the threshold, a step matches ``threshold + lower <= metric <
threshold + upper``; below it, ``threshold + lower < metric <= threshold + upper``; a missing bound
is infinite. The steps of one policy may neither overlap nor leave a gap
(:func:`validate_steps`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from stackwatch import errors


class PolicyType(StrEnum):
    """``PolicyType``."""

    SIMPLE = "SimpleScaling"
    STEP = "StepScaling"
    TARGET_TRACKING = "TargetTrackingScaling"


class AdjustmentType(StrEnum):
    """``AdjustmentType``."""

    CHANGE_IN_CAPACITY = "ChangeInCapacity"
    EXACT_CAPACITY = "ExactCapacity"
    PERCENT_CHANGE_IN_CAPACITY = "PercentChangeInCapacity"


class MetricAggregationType(StrEnum):
    """``MetricAggregationType`` of a step policy: how the alarm's recent datapoints make one value."""

    AVERAGE = "Average"
    MINIMUM = "Minimum"
    MAXIMUM = "Maximum"


@dataclass(frozen=True, slots=True)
class StepAdjustment:
    """One step: an interval of (metric - threshold) and the adjustment it asks for."""

    scaling_adjustment: int
    lower: float | None = None
    upper: float | None = None

    def matches(self, difference: float, above: bool) -> bool:
        """Whether ``difference`` (metric - threshold) falls in this step (see the module doc)."""
        low = -math.inf if self.lower is None else self.lower
        high = math.inf if self.upper is None else self.upper
        if above:
            return low <= difference < high
        return low < difference <= high


@dataclass(frozen=True, slots=True)
class TargetTracking:
    """``TargetTrackingConfiguration``: the metric (predefined or custom, as JSON) and the target."""

    target_value: float
    predefined_metric_type: str = ""
    resource_label: str = ""
    customized_metric: str = ""
    disable_scale_in: bool = False


@dataclass(frozen=True, slots=True)
class ScalingPolicy:
    """A scaling policy of a group, validated when built (AWS's ValidationError messages).

    Attributes:
        name: ``PolicyName``, unique per group.
        group: the group's name.
        arn: ``PolicyARN``.
        policy_type: which of the three kinds.
        adjustment_type: simple and step policies (default ChangeInCapacity).
        scaling_adjustment: simple policies only.
        min_adjustment_magnitude: with PercentChangeInCapacity only.
        cooldown: simple policies: seconds of cooldown after the activity (None: the group's default).
        step_adjustments: step policies only.
        metric_aggregation_type: step policies only.
        estimated_instance_warmup: step and target tracking policies: seconds an instance warms up.
        target_tracking: target tracking policies only.
        enabled: a disabled policy is kept but never run.
        alarm_arns: alarms that invoke it (target tracking: the ones the service owns).
    """

    name: str
    group: str
    arn: str
    policy_type: PolicyType = PolicyType.SIMPLE
    adjustment_type: AdjustmentType | None = None
    scaling_adjustment: int | None = None
    min_adjustment_magnitude: int | None = None
    cooldown: int | None = None
    step_adjustments: tuple[StepAdjustment, ...] = ()
    metric_aggregation_type: MetricAggregationType | None = None
    estimated_instance_warmup: int | None = None
    target_tracking: TargetTracking | None = None
    enabled: bool = True
    alarm_arns: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        _validate(self)


def _validate(p: ScalingPolicy) -> None:
    simple, step, target = (p.policy_type is t for t in PolicyType)
    if simple and p.scaling_adjustment is None:
        raise errors.ValidationError("ScalingAdjustment is required for a SimpleScaling policy.")
    if not simple:
        for value, name in ((p.scaling_adjustment, "ScalingAdjustment"), (p.cooldown, "Cooldown")):
            if value is not None:
                raise errors.ValidationError(f"{name} is not supported for policy type {p.policy_type}.")
    if step:
        if not p.step_adjustments:
            raise errors.ValidationError("StepAdjustments are required for a StepScaling policy.")
        validate_steps(p.step_adjustments)
    elif p.step_adjustments or p.metric_aggregation_type is not None:
        raise errors.ValidationError(f"StepAdjustments are not supported for policy type {p.policy_type}.")
    if target:
        if p.target_tracking is None:
            raise errors.ValidationError("TargetTrackingConfiguration is required for a TargetTrackingScaling policy.")
        if p.adjustment_type is not None or p.min_adjustment_magnitude is not None:
            raise errors.ValidationError(
                "AdjustmentType and MinAdjustmentMagnitude are not supported for policy type TargetTrackingScaling.")
        tt = p.target_tracking
        if bool(tt.predefined_metric_type) == bool(tt.customized_metric):
            raise errors.ValidationError(
                "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification is required.")
    elif p.target_tracking is not None:
        raise errors.ValidationError(f"TargetTrackingConfiguration is not supported for policy type {p.policy_type}.")
    if simple and p.estimated_instance_warmup is not None:
        raise errors.ValidationError("EstimatedInstanceWarmup is not supported for policy type SimpleScaling.")
    if p.min_adjustment_magnitude is not None:
        if p.adjustment_type is not AdjustmentType.PERCENT_CHANGE_IN_CAPACITY:
            raise errors.ValidationError(
                "MinAdjustmentMagnitude is only supported with AdjustmentType PercentChangeInCapacity.")
        if p.min_adjustment_magnitude < 1:
            raise errors.ValidationError("MinAdjustmentMagnitude must be greater than or equal to 1.")
    exact = p.adjustment_type is AdjustmentType.EXACT_CAPACITY
    adjustments = [p.scaling_adjustment] if p.scaling_adjustment is not None else []
    if exact and any(a < 0 for a in adjustments + [s.scaling_adjustment for s in p.step_adjustments]):
        raise errors.ValidationError("ScalingAdjustment must be non-negative for AdjustmentType ExactCapacity.")


def validate_steps(steps: Sequence[StepAdjustment]) -> None:
    """Check AWS's rules for a step policy's intervals.

    Raises:
        ValidationError: a step with no bound at all, two open-ended steps on one side, an
            interval that is empty, or steps that overlap or leave a gap.
    """
    for s in steps:
        if s.lower is None and s.upper is None:
            raise errors.ValidationError("Step adjustment cannot have both lower and upper bound null.")
        if s.lower is not None and s.upper is not None and s.lower >= s.upper:
            raise errors.ValidationError(
                f"Lower bound {s.lower} of a step adjustment must be less than its upper bound {s.upper}.")
    if sum(s.lower is None for s in steps) > 1 or sum(s.upper is None for s in steps) > 1:
        raise errors.ValidationError("At most one step adjustment may have a null lower bound, and one a null upper "
                                     "bound.")
    ordered = sorted(steps, key=lambda s: -math.inf if s.lower is None else s.lower)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.upper != after.lower:
            raise errors.ValidationError("Step adjustments cannot overlap or have gaps between them.")
    if ordered[0].lower is not None and ordered[0].lower < 0:
        raise errors.ValidationError("A step adjustment with a null lower bound is required when one has a negative "
                                     "lower bound.")
    if ordered[-1].upper is not None and ordered[-1].upper > 0:
        raise errors.ValidationError("A step adjustment with a null upper bound is required when one has a positive "
                                     "upper bound.")


def select_step(steps: Sequence[StepAdjustment], threshold: float, metric: float) -> StepAdjustment | None:
    """The step whose interval holds ``metric - threshold`` (None if none does).

    At the threshold itself the step above is tried first (``[0, 10)`` holds it), then the one
    below (``(-10, 0]`` holds it): a scale-in policy whose upper bound is 0 still runs at 0.
    """
    difference = metric - threshold
    for above in ((True, False) if difference == 0 else (difference > 0,)):
        for step in steps:
            if step.matches(difference, above):
                return step
    return None


def adjusted_capacity(current: int, adjustment_type: AdjustmentType, adjustment: int,
                      min_adjustment_magnitude: int | None = None) -> int:
    """The capacity a change asks for, before the group's bounds (see the module doc); never below 0."""
    if adjustment_type is AdjustmentType.EXACT_CAPACITY:
        return max(0, adjustment)
    if adjustment_type is AdjustmentType.CHANGE_IN_CAPACITY:
        return max(0, current + adjustment)
    change = current * adjustment / 100
    if change > 0:
        whole = max(1, math.floor(change))
    elif change < 0:
        whole = min(-1, math.ceil(change))
    else:
        whole = 0
    if min_adjustment_magnitude is not None and whole != 0 and abs(whole) < min_adjustment_magnitude:
        whole = min_adjustment_magnitude if whole > 0 else -min_adjustment_magnitude
    return max(0, current + whole)


@dataclass(frozen=True, slots=True)
class Breach:
    """What a step policy needs from an alarm: its threshold and the metric value that breached it."""

    threshold: float
    metric_value: float


def breach_from_reason_data(reason_data: str, aggregation: MetricAggregationType | None) -> Breach | None:
    """The breach an alarm's ``StateReasonData`` describes (None if it holds no threshold or datapoints).

    The alarm's ``recentDatapoints`` are aggregated as the policy's ``MetricAggregationType`` says
    (Average when unset): Auto Scaling compares that aggregate with the threshold.
    """
    try:
        doc = json.loads(reason_data) if reason_data else None
        threshold = float(doc["threshold"])  # type: ignore[index]
        points = [float(v) for v in doc.get("recentDatapoints") or ()]  # type: ignore[union-attr]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    points = [v for v in points if not math.isnan(v)]
    if not points:
        return None
    if aggregation is MetricAggregationType.MINIMUM:
        value = min(points)
    elif aggregation is MetricAggregationType.MAXIMUM:
        value = max(points)
    else:
        value = sum(points) / len(points)
    return Breach(threshold, value)
