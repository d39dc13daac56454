"""plan() as timelines: observed units in, steps out, and the bounds it can never break."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from services.autoscale.actuators import Unit, launch_fingerprint, unit_name
from services.autoscale.domain import GroupSpec, LaunchConfiguration, ScalingProcess
from services.autoscale.reconcile import Attach, Create, Destroy, RepairTags, describe, plan

LC = LaunchConfiguration("lc", "tmpl", "small", "zone")
SPEC = GroupSpec("acct-1", "web", 1, 3, 2, LC, ("rule-1",))
FP = launch_fingerprint(SPEC)


def name(slot: int, spec: GroupSpec = SPEC) -> str:
    return unit_name(spec.account, spec.name, slot)


def unit(slot: int, state: str = "Running", *, lb: bool = True, created: float = 0.0, launch: str = FP,
         tagged: bool = True) -> Unit:
    return Unit(f"vm-{slot}", name(slot), state, created, launch, frozenset({"rule-1"} if lb else ()), tagged)


def test_an_empty_group_creates_up_to_desired_in_the_lowest_slots() -> None:
    assert plan(SPEC, []) == [Create(name(0), 0), Create(name(1), 1)]


def test_in_flight_creates_count_and_are_not_planned_again() -> None:
    assert plan(SPEC, [], {("create", name(0))}) == [Create(name(1), 1)]
    assert plan(SPEC, [], {("create", name(0)), ("create", name(1))}) == []


def test_a_created_unit_that_is_already_listed_is_not_counted_twice() -> None:
    steps = plan(SPEC, [unit(0, "Starting", lb=False)], {("create", name(0))})
    assert steps == [Create(name(1), 1)]


def test_converged_group_needs_nothing() -> None:
    assert plan(SPEC, [unit(0), unit(1)]) == []


def test_a_running_unit_outside_its_rule_is_attached_a_starting_one_waits() -> None:
    u0, u1 = unit(0, lb=False), unit(1, "Starting", lb=False)
    assert plan(SPEC, [u0, u1]) == [Attach(u0, "rule-1")]


def test_unhealthy_units_are_destroyed_and_replaced_within_max() -> None:
    bad = unit(1, "Error", lb=False)
    # its slot stays taken and it counts against max until it is gone: the replacement takes slot 2
    assert plan(SPEC, [unit(0), bad]) == [Destroy(bad, "unhealthy"), Create(name(2), 2)]
    assert plan(SPEC, [unit(0), bad], {("destroy", "vm-1")}) == [Create(name(2), 2)]
    # with max reached, the replacement waits until the unhealthy one is gone
    assert plan(SPEC, [unit(0), bad, unit(2, "Starting")]) == [Destroy(bad, "unhealthy")]
    assert plan(SPEC, [unit(0)]) == [Create(name(1), 1)]


def test_creates_never_exceed_max_counting_unhealthy_and_dying_units() -> None:
    spec = dataclasses.replace(SPEC, desired_capacity=3)
    units = [unit(0), unit(1, "Error"), unit(2, "Stopped")]
    steps = plan(spec, units)
    assert not [s for s in steps if isinstance(s, Create)]
    assert {s.unit.id for s in steps if isinstance(s, Destroy)} == {"vm-1", "vm-2"}


def test_scale_in_prefers_out_of_range_then_old_launch_config_then_newest() -> None:
    spec = dataclasses.replace(SPEC, desired_capacity=1)
    old, new, newest = unit(0, created=1.0), unit(1, created=2.0), unit(2, created=3.0)
    assert plan(spec, [old, new, newest]) == [Destroy(newest, "scale-in"), Destroy(new, "scale-in")]
    outdated = unit(2, created=1.0, launch="other")
    assert plan(spec, [old, new, outdated])[0] == Destroy(outdated, "scale-in")
    smaller = dataclasses.replace(SPEC, max_size=2, desired_capacity=2)
    assert plan(smaller, [unit(0, created=5.0), unit(1), unit(2)]) == [Destroy(unit(2), "scale-in")]


def test_desired_is_clamped_to_the_bounds() -> None:
    assert len(plan(dataclasses.replace(SPEC, desired_capacity=9), [])) == 3
    assert plan(dataclasses.replace(SPEC, desired_capacity=0), [unit(0)]) == []


def test_untagged_units_found_by_name_are_repaired() -> None:
    bare = unit(0, tagged=False)
    assert plan(SPEC, [bare, unit(1)]) == [RepairTags(bare)]


def test_suspended_processes_are_honoured() -> None:
    spec = dataclasses.replace(SPEC, suspended_processes=frozenset({ScalingProcess.LAUNCH, ScalingProcess.ADD_TO_LOAD_BALANCER}))
    assert plan(spec, [unit(0, lb=False)]) == []
    spec = dataclasses.replace(SPEC, desired_capacity=1, suspended_processes=frozenset({ScalingProcess.TERMINATE}))
    assert plan(spec, [unit(0), unit(1)]) == []


def test_gone_units_do_not_count() -> None:
    assert plan(SPEC, [unit(0), unit(1, "Expunging")]) == [Create(name(1), 1)]


units_strategy = st.lists(
    st.builds(lambda slot, state, lb, created: unit(slot, state, lb=lb, created=created),
              st.integers(0, 5), st.sampled_from(["Starting", "Running", "Error", "Stopped", "Destroyed"]),
              st.booleans(), st.floats(0, 100)),
    max_size=6, unique_by=lambda u: u.name)


@settings(max_examples=500, deadline=None)
@given(units=units_strategy, lo=st.integers(0, 3), span=st.integers(0, 3), want=st.integers(0, 8),
       flying=st.sets(st.integers(0, 5), max_size=3))
def test_plan_never_plans_past_max_nor_below_desired(units: list[Unit], lo: int, span: int, want: int,
                                                      flying: set[int]) -> None:
    spec = dataclasses.replace(SPEC, min_size=lo, max_size=lo + span, desired_capacity=want)
    in_flight = {("create", name(s)) for s in flying if s < spec.max_size}
    steps = plan(spec, units, in_flight)
    live = [u for u in units if not u.gone]
    pending = {k[1] for k in in_flight} - {u.name for u in live}
    creates = [s for s in steps if isinstance(s, Create)]
    existing_or_coming = len(live) + len(pending)
    # never plans more than max, unless more than max already exist (then it plans no create)
    assert existing_or_coming + len(creates) <= max(spec.max_size, existing_or_coming)
    if existing_or_coming >= spec.max_size:
        assert not creates
    assert all(c.slot < spec.max_size for c in creates)
    assert len({c.name for c in creates} | {u.name for u in live} | pending) == \
        len(creates) + len({u.name for u in live} | pending)
    healthy_after = sum(1 for u in live if u.healthy) + len(pending) - sum(
        1 for s in steps if isinstance(s, Destroy) and s.why == "scale-in")
    desired = min(max(want, spec.min_size), spec.max_size)
    assert healthy_after >= min(desired, sum(1 for u in live if u.healthy) + len(pending))


def test_a_unit_stuck_starting_past_the_limit_is_replaced() -> None:
    stuck = unit(1, "Starting", lb=False, created=1000.0)
    assert plan(SPEC, [unit(0), stuck], now=1000.0 + 60) == []
    steps = plan(SPEC, [unit(0), stuck], now=1000.0 + 901)
    assert [type(s).__name__ for s in steps] == ["Destroy", "Create"] and steps[0].unit.id == "vm-1"
    cause, description = describe(steps[0], SPEC, 1, 0.0)
    assert cause == ("At 1970-01-01T00:00:00Z an instance was taken out of service because it stayed Starting "
                     "longer than 900 seconds.") and description == f"Terminating VM: {name(1)} (vm-1)"
    patient = dataclasses.replace(SPEC, health_check_grace_period=3600)
    assert plan(patient, [unit(0), stuck], now=1000.0 + 901) == []
