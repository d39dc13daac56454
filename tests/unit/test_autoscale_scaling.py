"""Auto Scaling's capacity rules as timelines: requests in, desired capacity and activity per step out."""

from __future__ import annotations

import pytest

from services.autoscale.domain.policies import (
    AdjustmentType,
    Breach,
    MetricAggregationType,
    PolicyType,
    ScalingPolicy,
    StepAdjustment,
    adjusted_capacity,
    breach_from_reason_data,
    select_step,
)
from services.autoscale.domain.scaling import Capacity, Trigger, create, execute, set_desired, update
from stackwatch import errors

S = 1000  # ms per second


def _simple(adjustment: int, kind: AdjustmentType = AdjustmentType.CHANGE_IN_CAPACITY, **kw: object) -> ScalingPolicy:
    return ScalingPolicy("p", "g", "arn:p", PolicyType.SIMPLE, kind, adjustment, **kw)  # type: ignore[arg-type]


STEPS = (StepAdjustment(1, 0, 10), StepAdjustment(2, 10, 20), StepAdjustment(3, 20, None))


def _step(warmup: int | None = 60) -> ScalingPolicy:
    return ScalingPolicy("s", "g", "arn:s", PolicyType.STEP, AdjustmentType.CHANGE_IN_CAPACITY,
                         step_adjustments=STEPS, estimated_instance_warmup=warmup)


ALARM = Trigger(alarm_name="high-cpu", breach=None)


@pytest.mark.parametrize(("current", "kind", "adjustment", "magnitude", "expected"), [
    (2, AdjustmentType.CHANGE_IN_CAPACITY, 3, None, 5),
    (2, AdjustmentType.CHANGE_IN_CAPACITY, -5, None, 0),
    (2, AdjustmentType.EXACT_CAPACITY, 7, None, 7),
    (100, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, 127, None, 227),   # 127 exactly
    (10, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, 127, None, 22),     # 12.7 rounds down to 12
    (1, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, 67, None, 2),        # 0.67 becomes 1
    (1, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, -67, None, 0),       # -0.67 becomes -1
    (10, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, -67, None, 4),      # -6.7 rounds up to -6
    (4, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, 25, 2, 6),           # 1 raised to MinAdjustmentMagnitude 2
    (4, AdjustmentType.PERCENT_CHANGE_IN_CAPACITY, -25, 3, 1),          # -1 raised to -3
], ids=["change", "change-floors-at-0", "exact", "percent-whole", "percent-rounds-down", "percent-small-up",
        "percent-small-down", "percent-rounds-up-negative", "min-magnitude-up", "min-magnitude-down"])
def test_adjusted_capacity_rounds_as_aws_documents(current, kind, adjustment, magnitude, expected):
    assert adjusted_capacity(current, kind, adjustment, magnitude) == expected


@pytest.mark.parametrize(("metric", "expected"), [
    (50.0, 1), (59.9, 1), (60.0, 2), (69.99, 2), (70.0, 3), (1e9, 3), (49.9, None),
], ids=["at-threshold", "in-first", "first-upper-exclusive", "second", "third-lower-inclusive", "far", "below"])
def test_a_scale_out_step_is_chosen_by_distance_above_the_threshold(metric, expected):
    step = select_step(STEPS, 50.0, metric)
    assert (step.scaling_adjustment if step else None) == expected


def test_a_scale_in_step_holds_the_threshold_in_its_upper_bound():
    steps = (StepAdjustment(-1, -10, 0), StepAdjustment(-2, None, -10))
    assert select_step(steps, 50.0, 50.0).scaling_adjustment == -1  # type: ignore[union-attr]
    assert select_step(steps, 50.0, 40.0).scaling_adjustment == -2  # type: ignore[union-attr]  # (-inf, -10]
    assert select_step(steps, 50.0, 40.5).scaling_adjustment == -1  # type: ignore[union-attr]


@pytest.mark.parametrize("steps", [
    (StepAdjustment(1, 0, 10), StepAdjustment(2, 5, None)),
    (StepAdjustment(1, 0, 10), StepAdjustment(2, 20, None)),
    (StepAdjustment(1, None, None),),
    (StepAdjustment(1, 0, 10),),
    (StepAdjustment(1, None, 0), StepAdjustment(2, None, 5)),
], ids=["overlap", "gap", "unbounded", "positive-upper-without-open-end", "two-open-lowers"])
def test_bad_step_intervals_are_refused(steps):
    with pytest.raises(errors.ValidationError):
        ScalingPolicy("s", "g", "arn", PolicyType.STEP, step_adjustments=steps)


def test_breach_aggregates_the_alarms_recent_datapoints():
    data = '{"version":"1.0","threshold":50.0,"recentDatapoints":[40.0,80.0]}'
    assert breach_from_reason_data(data, None) == Breach(50.0, 60.0)
    assert breach_from_reason_data(data, MetricAggregationType.MAXIMUM) == Breach(50.0, 80.0)
    assert breach_from_reason_data("not json", None) is None
    assert breach_from_reason_data('{"threshold":1}', None) is None


def test_simple_policy_timeline_honours_cooldown_and_bounds():
    """Min 1, max 4, cooldown 300 s; +2 at t=0, again at 100 s (cooldown), at 301 s (clamped to 4)."""
    start = create("g", 1, 4, None, 300, 0, "a0")
    assert start.capacity.desired == 1
    assert start.activity is not None and "from 0 to 1" in start.activity.cause
    policy = _simple(2)
    t0 = execute(start.capacity, policy, ALARM, 1000 * S, "a1")
    assert t0.capacity.desired == 3
    assert t0.activity is not None
    assert t0.activity.cause.endswith(
        "a monitor alarm high-cpu in state ALARM triggered policy p changing the desired capacity from 1 to 3.")
    t1 = execute(t0.capacity, policy, ALARM, 1100 * S, "a2")
    assert (t1.capacity.desired, t1.activity) == (3, None)
    assert "cooldown" in t1.skipped
    user = execute(t0.capacity, policy, Trigger(), 1100 * S, "a3")  # HonorCooldown false: runs
    assert user.capacity.desired == 4
    with pytest.raises(errors.ScalingActivityInProgress):
        execute(t0.capacity, policy, Trigger(honor_cooldown=True), 1100 * S, "a4")
    t2 = execute(t1.capacity, policy, ALARM, 1301 * S, "a5")
    assert t2.capacity.desired == 4  # 5 clamped to max
    t3 = execute(t2.capacity, policy, ALARM, 1700 * S, "a6")
    assert (t3.capacity.desired, t3.activity) == (4, None)  # already at max: no activity


def test_a_policy_cooldown_overrides_the_groups():
    cap = Capacity(0, 10, 1, default_cooldown=300)
    first = execute(cap, _simple(1, cooldown=30), ALARM, 0, "a")
    assert execute(first.capacity, _simple(1), ALARM, 29 * S, "b").capacity.desired == 2
    assert execute(first.capacity, _simple(1), ALARM, 30 * S, "c").capacity.desired == 3


def test_step_policy_timeline_counts_warming_instances_once():
    """Threshold 50; breaches at 55 (step +1), 58 (same step, while warming), 75 (step +3), after warm-up."""
    cap = Capacity(1, 10, 2, default_cooldown=300)
    policy = _step(warmup=60)

    def breach(value: float) -> Trigger:
        return Trigger(alarm_name="a", breach=Breach(50.0, value))

    t0 = execute(cap, policy, breach(55), 0, "x")
    assert t0.capacity.desired == 3
    t1 = execute(t0.capacity, policy, breach(58), 10 * S, "y")  # base 2 + 1 = 3: nothing new
    assert (t1.capacity.desired, t1.activity) == (3, None)
    t2 = execute(t1.capacity, policy, breach(75), 20 * S, "z")  # base 2 + 3 = 5
    assert t2.capacity.desired == 5
    t3 = execute(t2.capacity, policy, breach(55), 81 * S, "w")  # all warmed up: 5 + 1
    assert t3.capacity.desired == 6


def test_step_policy_ignores_cooldown_and_needs_a_matching_step():
    cap = Capacity(1, 10, 2, default_cooldown=300, cooldown_until_ms=10**12)
    assert execute(cap, _step(), Trigger(breach=Breach(50, 61)), 0, "x").capacity.desired == 4
    with pytest.raises(errors.ValidationError):
        execute(cap, _step(), Trigger(breach=Breach(50, 40)), 0, "x")
    with pytest.raises(errors.ValidationError):
        execute(cap, _step(), Trigger(), 0, "x")


@pytest.mark.parametrize(("desired", "message"), [
    (5, "New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup."),
    (0, "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup."),
])
def test_set_desired_outside_bounds_is_refused(desired, message):
    with pytest.raises(errors.ValidationError) as e:
        set_desired("g", Capacity(1, 4, 2), desired, 0, "a")
    assert e.value.message == message


def test_updating_bounds_drags_desired_and_refuses_crossed_bounds():
    moved = update("g", Capacity(1, 4, 2), 0, "a", min_size=3)
    assert moved.capacity.desired == 3
    assert moved.activity is not None
    assert "update of AutoScalingGroup constraints to min: 3, max: 4, desired: 3" in moved.activity.cause
    with pytest.raises(errors.ValidationError, match="Max bound, 1, must be greater than or equal to min bound, 2"):
        update("g", Capacity(1, 4, 2), 0, "a", min_size=2, max_size=1)
    with pytest.raises(errors.ValidationError,
                       match="Desired capacity:9 must be between the specified min size:1 and max size:4"):
        update("g", Capacity(1, 4, 2), 0, "a", desired=9)
