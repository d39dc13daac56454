"""Changes of a group's desired capacity: bounds, cooldowns, warm-up, and the activity each records.

Every way the desired capacity changes goes through here and comes back as a :class:`Decision`::

    CreateAutoScalingGroup        create(min, max, desired, ...)            always an activity
    UpdateAutoScalingGroup        update(capacity, min, max, desired, ...)  bounds may move desired
    SetDesiredCapacity            set_desired(capacity, desired, ...)       HonorCooldown optional
    ExecutePolicy / alarm action  execute(capacity, policy, trigger, ...)   cooldown / step / warm-up

The rules, as AWS documents them:

* Desired capacity always lies in ``[min, max]``. A request that names a capacity outside them is
  refused (ValidationError); a policy's result is clamped to them; moving a bound past the desired
  capacity drags it along.
* **Cooldown** (simple scaling): every change of desired capacity starts a cooldown, of the
  simple policy's ``Cooldown`` if it made the change and has one, else of the group's
  ``DefaultCooldown``. While it lasts, a simple policy an alarm invokes does nothing (the
  invocation is recorded as skipped), and an ExecutePolicy or SetDesiredCapacity with
  ``HonorCooldown`` fails with ScalingActivityInProgress. Step and target tracking policies ignore
  cooldowns.
* **Warm-up** (step and target tracking scaling): instances a scale-out added count as warming up
  for ``EstimatedInstanceWarmup`` seconds (the group's DefaultCooldown when unset), and a further
  scale-out computes from the capacity without them, so repeated breaches in one step's range
  while they warm up make one scale-out, and a breach in a higher step adds only the difference.
* A change that leaves the desired capacity where it is records no activity.

Time is an argument (epoch milliseconds); ids of new activities are arguments too.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from services.autoscale.domain.policies import (
    AdjustmentType,
    Breach,
    PolicyType,
    ScalingPolicy,
    adjusted_capacity,
    select_step,
)
from stackwatch import errors

#: The message of ScalingActivityInProgress when a request honours a cooldown that is running.
IN_PROGRESS = "Scaling activity is in progress and blocks this action."


class ActivityStatus(StrEnum):
    """``StatusCode`` of a scaling activity (the ones this service and the reconciler write)."""

    PENDING = "PreInService"
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass(frozen=True, slots=True)
class Capacity:
    """The part of a group scaling decisions read and write.

    Attributes:
        min_size: fewest instances.
        max_size: most instances.
        desired: desired capacity, in ``[min_size, max_size]``.
        default_cooldown: seconds (``DefaultCooldown``).
        cooldown_until_ms: simple policies wait until then (epoch ms; 0: no cooldown).
        warming: ``(until_ms, count)`` of instances added by step or target tracking scale-outs
            that are still warming up.
    """

    min_size: int
    max_size: int
    desired: int
    default_cooldown: int = 300
    cooldown_until_ms: int = 0
    warming: tuple[tuple[int, int], ...] = ()

    def warming_count(self, now_ms: int) -> int:
        """Instances still warming up at ``now_ms``."""
        return sum(count for until, count in self.warming if until > now_ms)

    def in_cooldown(self, now_ms: int) -> bool:
        """Whether a simple policy must wait at ``now_ms``."""
        return now_ms < self.cooldown_until_ms


@dataclass(frozen=True, slots=True)
class Activity:
    """A scaling activity, worded as DescribeScalingActivities shows it.

    Attributes:
        activity_id: a UUID.
        group: the group's name.
        cause: why (``At 2026-01-01T00:00:00Z a user request ... changing the desired capacity from 1 to 2.``).
        description: what.
        status: ``StatusCode``.
        start_ms: when it started (epoch ms).
        end_ms: when it ended (None while running).
        progress: percent done.
        status_message: why it failed, or "".
        details: JSON details, or "{}".
    """

    activity_id: str
    group: str
    cause: str
    description: str
    status: ActivityStatus
    start_ms: int
    end_ms: int | None = None
    progress: int = 0
    status_message: str = ""
    details: str = "{}"


@dataclass(frozen=True, slots=True)
class Trigger:
    """Who asks a policy to run: an alarm (``alarm_name`` set) or a user's ExecutePolicy."""

    alarm_name: str | None = None
    honor_cooldown: bool = False
    breach: Breach | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a request does: the group's new capacity, the activity to record, or why nothing happened.

    Attributes:
        capacity: the capacity after the request (the same one when nothing changed).
        activity: the activity to record, None when the desired capacity did not change.
        skipped: why a policy invocation did nothing ("" when it ran).
    """

    capacity: Capacity
    activity: Activity | None = None
    skipped: str = ""


def iso(ms: int) -> str:
    """``2026-01-01T00:00:00Z``: the time as activity causes write it."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _changing(before: int, after: int) -> str:
    return f"changing the desired capacity from {before} to {after}."


def _activity(group: str, activity_id: str, now_ms: int, why: str, before: int, after: int) -> Activity:
    verb = "Launching" if after > before else "Terminating"
    n = abs(after - before)
    what = f"{verb} {n} instance{'s' if n != 1 else ''}: desired capacity set from {before} to {after}"
    return Activity(activity_id, group, f"At {iso(now_ms)} {why} {_changing(before, after)}", what,
                    ActivityStatus.SUCCESSFUL, now_ms, now_ms, 100)


def check_bounds(min_size: int, max_size: int, desired: int | None) -> None:
    """Refuse bounds and a desired capacity AWS refuses.

    Raises:
        ValidationError: ``min > max``, or ``desired`` outside them.
    """
    if min_size > max_size:
        raise errors.ValidationError(f"Max bound, {max_size}, must be greater than or equal to min bound, {min_size}")
    if desired is not None and not min_size <= desired <= max_size:
        raise errors.ValidationError(
            f"Desired capacity:{desired} must be between the specified min size:{min_size} and max size:{max_size}")


def clamp(desired: int, min_size: int, max_size: int) -> int:
    """``desired`` brought into ``[min_size, max_size]``."""
    return max(min_size, min(max_size, desired))


def _changed(capacity: Capacity, desired: int, now_ms: int, cooldown: int | None = None,
             warming: tuple[tuple[int, int], ...] | None = None) -> Capacity:
    """``capacity`` with a new desired value and the cooldown its change starts."""
    seconds = capacity.default_cooldown if cooldown is None else cooldown
    live = tuple(w for w in (capacity.warming if warming is None else warming) if w[0] > now_ms)
    return dataclasses.replace(capacity, desired=desired, cooldown_until_ms=now_ms + seconds * 1000, warming=live)


def create(group: str, min_size: int, max_size: int, desired: int | None, default_cooldown: int, now_ms: int,
           activity_id: str) -> Decision:
    """A new group's capacity (desired defaults to min) and the activity that records it."""
    check_bounds(min_size, max_size, desired)
    value = min_size if desired is None else desired
    capacity = Capacity(min_size, max_size, value, default_cooldown)
    if value == 0:
        return Decision(capacity)
    return Decision(_changed(capacity, value, now_ms),
                    _activity(group, activity_id, now_ms, "a user request created an AutoScalingGroup", 0, value))


def update(group: str, capacity: Capacity, now_ms: int, activity_id: str, *, min_size: int | None = None,
           max_size: int | None = None, desired: int | None = None, default_cooldown: int | None = None) -> Decision:
    """UpdateAutoScalingGroup: new bounds (and maybe desired); a bound moved past desired drags it along."""
    lo = capacity.min_size if min_size is None else min_size
    hi = capacity.max_size if max_size is None else max_size
    check_bounds(lo, hi, desired)
    new = dataclasses.replace(capacity, min_size=lo, max_size=hi,
                              default_cooldown=capacity.default_cooldown if default_cooldown is None
                              else default_cooldown)
    value = clamp(capacity.desired, lo, hi) if desired is None else desired
    if value == capacity.desired:
        return Decision(new)
    why = f"a user request update of AutoScalingGroup constraints to min: {lo}, max: {hi}, desired: {value}"
    return Decision(_changed(new, value, now_ms), _activity(group, activity_id, now_ms, why, capacity.desired, value))


def set_desired(group: str, capacity: Capacity, desired: int, now_ms: int, activity_id: str,
                honor_cooldown: bool = False) -> Decision:
    """SetDesiredCapacity.

    Raises:
        ValidationError: ``desired`` outside the group's bounds.
        ScalingActivityInProgress: ``honor_cooldown`` and the group is in a cooldown.
    """
    if desired > capacity.max_size:
        raise errors.ValidationError(f"New SetDesiredCapacity value {desired} is above max value "
                                     f"{capacity.max_size} for the AutoScalingGroup.")
    if desired < capacity.min_size:
        raise errors.ValidationError(f"New SetDesiredCapacity value {desired} is below min value "
                                     f"{capacity.min_size} for the AutoScalingGroup.")
    if honor_cooldown and capacity.in_cooldown(now_ms):
        raise errors.ScalingActivityInProgress(IN_PROGRESS)
    if desired == capacity.desired:
        return Decision(capacity)
    return Decision(_changed(capacity, desired, now_ms), _activity(
        group, activity_id, now_ms, "a user request explicitly set group desired capacity", capacity.desired, desired))


def execute(capacity: Capacity, policy: ScalingPolicy, trigger: Trigger, now_ms: int, activity_id: str) -> Decision:
    """Run ``policy`` on a group (see the module doc for cooldown and warm-up).

    Raises:
        ValidationError: a step policy without a breach, or one no step matches; a user's
            ExecutePolicy of a target tracking policy.
        ScalingActivityInProgress: a user's ``HonorCooldown`` request of a simple policy in cooldown.
    """
    who = (f"a monitor alarm {trigger.alarm_name} in state ALARM triggered policy {policy.name}"
           if trigger.alarm_name is not None else f"a user request executed policy {policy.name}")
    if not policy.enabled:
        return Decision(capacity, skipped=f"The policy {policy.name} is disabled.")
    if policy.policy_type is PolicyType.SIMPLE:
        if capacity.in_cooldown(now_ms) and (trigger.honor_cooldown or trigger.alarm_name is not None):
            if trigger.alarm_name is None:
                raise errors.ScalingActivityInProgress(IN_PROGRESS)
            return Decision(capacity, skipped=f"The group is in a cooldown until {iso(capacity.cooldown_until_ms)}.")
        wanted = adjusted_capacity(capacity.desired, policy.adjustment_type or AdjustmentType.CHANGE_IN_CAPACITY,
                                   policy.scaling_adjustment or 0, policy.min_adjustment_magnitude)
        target = clamp(wanted, capacity.min_size, capacity.max_size)
        if target == capacity.desired:
            return Decision(capacity, skipped=_unchanged(capacity))
        return Decision(_changed(capacity, target, now_ms, policy.cooldown),
                        _activity(policy.group, activity_id, now_ms, who, capacity.desired, target))
    target = _warm_target(capacity, policy, trigger, now_ms)
    if target == capacity.desired:
        return Decision(capacity, skipped=_unchanged(capacity))
    warming = capacity.warming
    if target > capacity.desired:
        warmup = policy.estimated_instance_warmup
        until = now_ms + (capacity.default_cooldown if warmup is None else warmup) * 1000
        warming = (*warming, (until, target - capacity.desired))
    else:
        warming = ()
    return Decision(_changed(capacity, target, now_ms, warming=warming),
                    _activity(policy.group, activity_id, now_ms, who, capacity.desired, target))


def _unchanged(capacity: Capacity) -> str:
    return f"The desired capacity stays {capacity.desired} (min {capacity.min_size}, max {capacity.max_size})."


def _warm_target(capacity: Capacity, policy: ScalingPolicy, trigger: Trigger, now_ms: int) -> int:
    """The new desired capacity of a step or target tracking policy, warm-up taken into account."""
    if trigger.breach is None:
        raise errors.ValidationError(f"BreachThreshold and MetricValue are required for a {policy.policy_type} policy.")
    base = capacity.desired - capacity.warming_count(now_ms)
    if policy.policy_type is PolicyType.STEP:
        step = select_step(policy.step_adjustments, trigger.breach.threshold, trigger.breach.metric_value)
        if step is None:
            raise errors.ValidationError(
                f"The metric value {trigger.breach.metric_value} does not match any step adjustment of policy "
                f"{policy.name} (breach threshold {trigger.breach.threshold}).")
        kind = policy.adjustment_type or AdjustmentType.CHANGE_IN_CAPACITY
        scale_out = adjusted_capacity(capacity.desired, kind, step.scaling_adjustment,
                                      policy.min_adjustment_magnitude) > capacity.desired
        wanted = adjusted_capacity(base if scale_out else capacity.desired, kind, step.scaling_adjustment,
                                   policy.min_adjustment_magnitude)
    else:
        if trigger.alarm_name is None:
            raise errors.ValidationError("ExecutePolicy is not supported for a TargetTrackingScaling policy.")
        tt = policy.target_tracking
        assert tt is not None  # validated with the policy
        ratio = trigger.breach.metric_value / tt.target_value if tt.target_value > 0 else 1.0
        scale_out = ratio > 1
        if not scale_out and tt.disable_scale_in:
            return capacity.desired
        wanted = math.ceil((base if scale_out else capacity.desired) * ratio)
        if scale_out and wanted <= base:
            wanted = base + 1
    target = clamp(wanted, capacity.min_size, capacity.max_size)
    if scale_out:
        return max(target, capacity.desired)  # a breach never lowers what a warming scale-out asked for
    return min(target, capacity.desired)
