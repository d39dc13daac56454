"""The bounds hold whatever fails: a property over random fault schedules, against the simulator.

Each example starts a fresh simulator and a group (min 1, max 2..4) and plays a random schedule
for a number of rounds, one reconcile pass per round: CloudStack errors (transient and
permanent, on any command the actuator uses), a bare-503 outage, answers slower than the
client's timeout, lost answers (the command ran), failed async jobs (a deploy's VM ends in
``Error``), VMs that crash or vanish behind our back, a VM pulled out of its load balancer rule,
changes of the desired capacity, and restarts of the service (in-flight steps cancelled, a new
client, actuator and reconciler with nothing in memory).

Checked:

* at every moment the simulator served a request, the group never held more than ``max`` VMs
  that are not destroyed (``Starting`` and ``Error`` ones counted): an observer in the simulator
  sees every change, since every change happens while it answers;
* after the faults stop, the reconciler converges: exactly the desired number of VMs, all
  ``Running``, all in the load balancer rule, and ``min <= running <= max``;
* bystanders are untouched: a VM of the same tenant outside the group, and a VM of another
  tenant's group of the same name.

``STACKWATCH_FAULT_EXAMPLES`` sets the number of schedules (default 60).
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from services.autoscale.actuators import CloudStackActuator, slot_of, unit_name
from services.autoscale.domain import GroupSpec, LaunchConfiguration
from services.autoscale.reconcile import Activity, Reconciler
from stackwatch.cloudstack import CloudStackClient, CloudStackSimulator, SimState

EXAMPLES = int(os.environ.get("STACKWATCH_FAULT_EXAMPLES", "60"))
ROUNDS = 14
COMMANDS = ("deployVirtualMachine", "destroyVirtualMachine", "listVirtualMachines", "createTags",
            "assignToLoadBalancerRule", "removeFromLoadBalancerRule", "queryAsyncJobResult",
            "listLoadBalancerRuleInstances")
ASYNC = ("deployVirtualMachine", "destroyVirtualMachine", "createTags", "assignToLoadBalancerRule")

KINDS = ("error", "job", "lose", "outage", "slow", "crash", "crash", "vanish", "unbalance", "restart", "restart",
         "desired")


@st.composite
def fault(draw: st.DrawFn) -> tuple[str, str, int, int]:
    """One fault: (kind, command, error code, count or index)."""
    kind = draw(st.sampled_from(KINDS))
    if kind == "error":
        return kind, draw(st.sampled_from(COMMANDS)), draw(st.sampled_from([530, 534, 431, 533])), draw(st.integers(1, 3))
    if kind == "job":
        return kind, draw(st.sampled_from(ASYNC)), draw(st.sampled_from([530, 533])), draw(st.integers(1, 2))
    if kind == "lose":
        return kind, draw(st.sampled_from(ASYNC)), 0, draw(st.integers(1, 2))
    return kind, "", 0, draw(st.integers(0, 7))


schedules = st.tuples(st.integers(2, 4), st.integers(1, 4),
                      st.lists(st.tuples(st.integers(0, ROUNDS - 1), fault()), min_size=1, max_size=12),
                      st.integers(0, 2**32 - 1))


@dataclass
class World:
    sim: CloudStackSimulator
    spec: GroupSpec
    peak: int = 0
    activities: list[Activity] = field(default_factory=list)


def live_vms(state: SimState, account: str, group: str = "web") -> list[str]:
    """The group's VMs that are not destroyed (by name, whatever their state or tags)."""
    return [vm.id for vm in state.vms.values() if vm.account_id == account and vm.removed is None
            and vm.state not in ("Destroyed", "Expunging") and slot_of(account, group, vm.name) is not None]


async def deploy_directly(sim: CloudStackSimulator, account: str, name: str, zone: str, offering: str,
                          template: str) -> str:
    async with CloudStackClient(sim.endpoint, *sim.admin_keys, job_poll=0.01) as api:
        vm = await api.call_async("deployVirtualMachine", zoneid=zone, serviceofferingid=offering,
                                  templateid=template, name=name, account=account, domainid=sim.state.root.id)
        return str(vm["virtualmachine"]["id"])


def launch() -> LaunchConfiguration:
    state = SimState()
    return LaunchConfiguration("lc", next(iter(state.templates)), next(iter(state.serviceofferings)), state.zone.id)


def new_reconciler(world: World) -> tuple[Reconciler, CloudStackClient]:
    client = CloudStackClient(world.sim.endpoint, *world.sim.admin_keys, timeout=0.25, attempts=2, backoff=0.01,
                              job_poll=0.01, job_timeout=0.5)
    actuator = CloudStackActuator(client, attempts=2, deadline=2.0, backoff=0.01)

    async def source() -> GroupSpec:
        return world.spec

    async def record(activity: Activity) -> None:
        world.activities.append(activity)

    return Reconciler(source, actuator, record, retry_delay=0.01), client


async def scenario(max_size: int, desired: int, events: list[tuple[int, tuple[str, str, int, int]]],
                   seed: int) -> World:
    rng = random.Random(seed)
    async with CloudStackSimulator(job_seconds=0.02) as sim:
        account, _, _ = sim.add_tenant("acme")
        rule = sim.state.add_lb_rule(account, "web")
        world = World(sim, GroupSpec(account.id, "web", 1, max_size, min(desired, max_size), launch(), (rule.id,)))

        def observe(state: SimState) -> None:
            world.peak = max(world.peak, len(live_vms(state, account.id)))

        sim.observers.append(observe)
        # bystanders: a VM of the same tenant outside the group, and one of another tenant's group "web"
        other, _, _ = sim.add_tenant("other")
        ids = (world.spec.launch_configuration.zone_id, world.spec.launch_configuration.instance_type,
               world.spec.launch_configuration.image_id)
        bystanders = [await deploy_directly(sim, account.name, "db-1", *ids),
                      await deploy_directly(sim, other.name, unit_name(other.id, "web", 0), *ids)]
        rec, client = new_reconciler(world)
        try:
            for round_ in range(ROUNDS):
                for kind, command, code, n in (e for at, e in events if at == round_):
                    vms = live_vms(sim.state, account.id)
                    if kind == "error":
                        sim.fail_next(command, code, times=n)
                    elif kind == "job":
                        sim.fail_next_jobs(command, code, times=n)
                    elif kind == "lose":
                        sim.lose_responses(command, times=n)
                    elif kind == "outage":
                        sim.set_unavailable(True)
                    elif kind == "slow":
                        sim.set_delay(0.3)
                    elif kind == "crash" and vms:
                        sim.crash_vm(vms[n % len(vms)])
                    elif kind == "vanish" and vms:
                        sim.vanish_vm(vms[n % len(vms)])
                    elif kind == "unbalance" and rule.members:
                        rule.members.remove(rule.members[n % len(rule.members)])
                    elif kind == "restart":
                        await rec.close()
                        await client.close()
                        rec, client = new_reconciler(world)
                    elif kind == "desired":
                        world.spec = replace(world.spec, desired_capacity=max(1, min(n, max_size)))
                try:
                    await rec.pass_once()
                except Exception:  # a failed pass (listing failed): the next one tries again
                    pass
                await asyncio.sleep(rng.choice([0.0, 0.01, 0.03]))
                if rng.random() < 0.5:  # outages and slowness end at random rounds
                    sim.set_unavailable(False)
                    sim.set_delay(0)
            sim.clear_faults()
            await converge(rec)
        finally:
            await rec.close()
            await client.close()
        assert world.peak <= max_size, f"peak {world.peak} > max {max_size}"
        assert all(sim.state.vms[b].removed is None for b in bystanders)
        vms = [sim.state.vms[i] for i in live_vms(sim.state, account.id) if i not in bystanders]
        assert len(vms) == world.spec.desired_capacity
        assert world.spec.min_size <= len(vms) <= max_size
        assert all(vm.state == "Running" for vm in vms), [vm.state for vm in vms]
        assert sorted(rule.members) == sorted(vm.id for vm in vms)
        return world


async def converge(rec: Reconciler, timeout: float = 20.0) -> None:
    async def loop() -> None:
        quiet = 0
        while quiet < 2:  # two empty passes in a row: nothing in flight and nothing to do
            try:
                await rec.pass_once()
                quiet = quiet + 1 if rec.settled else 0
            except Exception:
                quiet = 0
            await asyncio.sleep(0.03)
    await asyncio.wait_for(loop(), timeout)


@pytest.mark.timeout(900)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(schedule=schedules)
@example(schedule=(2, 2, [(5, ("crash", "", 0, 0))], 1))  # a replacement while the crashed VM still exists
@example(schedule=(3, 3, [(0, ("lose", "deployVirtualMachine", 0, 2)), (1, ("restart", "", 0, 0))], 2))
def test_random_fault_schedules_never_break_the_bounds_and_converge(
        schedule: tuple[int, int, list[tuple[int, tuple[str, str, int, int]]], int]) -> None:
    max_size, desired, events, seed = schedule
    world = asyncio.run(scenario(max_size, desired, events, seed))
    assert world.peak <= max_size
    failed = sum(1 for a in world.activities if a.status == "Failed")
    event("some step failed" if failed else "no step failed")
    event("peak reached max" if world.peak == max_size else "peak below max")
