"""The CloudStack actuator and the Reconciler against the simulator over real HTTP.

The actuator signs with the simulator's admin (StackWatch's service account) and acts in the
tenant's account through ``account``/``domainid``; what it did is checked in the simulator's own
rows (``sim.state``), never through the actuator.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from services.autoscale.actuators import ActuatorError, CloudStackActuator, Unit, unit_name
from services.autoscale.domain import GroupSpec, LaunchConfiguration
from services.autoscale.reconcile import Activity, Reconciler
from stackwatch.cloudstack import CloudStackClient, CloudStackSimulator, SimState

JOB_SECONDS = 0.05


def catalog() -> LaunchConfiguration:
    state = SimState()
    return LaunchConfiguration("lc", next(iter(state.templates)), next(iter(state.serviceofferings)), state.zone.id,
                               user_data=base64.b64encode(b"#!/bin/sh\necho hi\n").decode())


@pytest.fixture
async def sim() -> AsyncIterator[CloudStackSimulator]:
    async with CloudStackSimulator(job_seconds=JOB_SECONDS) as running:
        yield running


@pytest.fixture
async def client(sim: CloudStackSimulator) -> AsyncIterator[CloudStackClient]:
    async with CloudStackClient(sim.endpoint, *sim.admin_keys, backoff=0.01, job_poll=0.02, job_timeout=5,
                                timeout=2) as api:
        yield api


@pytest.fixture
def actuator(client: CloudStackClient) -> CloudStackActuator:
    return CloudStackActuator(client, backoff=0.01, deadline=20)


def tenant_group(sim: CloudStackSimulator, name: str = "acme", **kw: object) -> GroupSpec:
    account, _, _ = sim.add_tenant(name)
    rule = sim.state.add_lb_rule(account, f"{name}-web")
    spec = GroupSpec(account.id, "web", 1, 3, 2, catalog(), (rule.id,))
    return replace(spec, **kw)  # type: ignore[arg-type]


def vms_of(sim: CloudStackSimulator, account: str) -> list[object]:
    return [vm for vm in sim.state.vms.values() if vm.account_id == account and vm.removed is None]


async def test_create_deploys_in_the_tenants_account_with_name_tags_and_user_data(
        sim: CloudStackSimulator, actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    name = unit_name(spec.account, spec.name, 0)
    unit = await actuator.create_unit(spec, name)
    assert unit.state == "Running" and unit.name == name and unit.tagged
    [vm] = vms_of(sim, spec.account)
    assert vm.id == unit.id and vm.name == name  # type: ignore[attr-defined]
    tags = {(t.key, t.value) for t in sim.state.tags if t.resource_id == unit.id}
    assert {("stackwatch:group", "web"), ("stackwatch:account", spec.account)} <= tags
    [listed] = await actuator.list_units(spec)
    assert listed.id == unit.id and listed.tagged and listed.lb_rule_ids == frozenset()
    await actuator.attach(spec, listed, spec.load_balancer_rule_ids[0])
    await actuator.attach(spec, listed, spec.load_balancer_rule_ids[0])  # again: already a member is fine
    assert sim.state.lbrules[spec.load_balancer_rule_ids[0]].members == [unit.id]
    [listed] = await actuator.list_units(spec)
    assert listed.lb_rule_ids == {spec.load_balancer_rule_ids[0]}


async def test_a_second_create_of_the_same_name_finds_the_first(sim: CloudStackSimulator,
                                                                actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    name = unit_name(spec.account, spec.name, 0)
    first, again = await asyncio.gather(actuator.create_unit(spec, name), actuator.create_unit(spec, name))
    assert first.id == again.id
    assert len(vms_of(sim, spec.account)) == 1


async def test_a_deploy_whose_answer_is_lost_is_not_made_twice(sim: CloudStackSimulator,
                                                               actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    sim.lose_responses("deployVirtualMachine")
    unit = await actuator.create_unit(spec, unit_name(spec.account, spec.name, 1))
    assert sim.calls["deployVirtualMachine"] == 1
    assert [vm.id for vm in vms_of(sim, spec.account)] == [unit.id]  # type: ignore[attr-defined]
    assert unit.tagged


async def test_transient_errors_are_retried_and_permanent_ones_are_not(sim: CloudStackSimulator,
                                                                       actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    sim.fail_next("deployVirtualMachine", 530, times=2)
    await actuator.create_unit(spec, unit_name(spec.account, spec.name, 0))
    assert sim.calls["deployVirtualMachine"] == 3
    sim.fail_next("deployVirtualMachine", 532, "account resource limit")
    with pytest.raises(ActuatorError) as info:
        await actuator.create_unit(spec, unit_name(spec.account, spec.name, 1))
    assert not info.value.recoverable and sim.calls["deployVirtualMachine"] == 4


async def test_a_failed_deploy_job_leaves_an_error_vm_that_is_returned(sim: CloudStackSimulator,
                                                                        actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    sim.fail_next_jobs("deployVirtualMachine")
    unit = await actuator.create_unit(spec, unit_name(spec.account, spec.name, 0))
    assert unit.state == "Error" and not unit.healthy
    await actuator.destroy_unit(spec, unit)
    assert vms_of(sim, spec.account) == []


async def test_destroy_leaves_the_rule_and_expunges_and_is_idempotent(sim: CloudStackSimulator,
                                                                     actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    unit = await actuator.create_unit(spec, unit_name(spec.account, spec.name, 0))
    await actuator.attach(spec, unit, spec.load_balancer_rule_ids[0])
    [unit] = await actuator.list_units(spec)
    sim.fail_next_jobs("destroyVirtualMachine", 534)
    await actuator.destroy_unit(spec, unit)  # the failed job is transient: retried
    await actuator.destroy_unit(spec, unit)  # already gone: nothing to do
    assert vms_of(sim, spec.account) == [] and sim.state.lbrules[spec.load_balancer_rule_ids[0]].members == []
    assert sim.state.vms[unit.id].state == "Expunging"
    assert await actuator.list_units(spec) == []


async def test_an_untagged_vm_is_found_by_name_and_repaired(sim: CloudStackSimulator,
                                                           actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    sim.fail_next("createTags", 431, "Unable to create tags")
    with pytest.raises(ActuatorError):
        await actuator.create_unit(spec, unit_name(spec.account, spec.name, 0))
    [bare] = await actuator.list_units(spec)
    assert not bare.tagged
    await actuator.repair_tags(spec, bare)
    [fixed] = await actuator.list_units(spec)
    assert fixed.tagged and fixed.id == bare.id


async def test_groups_of_two_tenants_never_see_each_others_vms(sim: CloudStackSimulator,
                                                               actuator: CloudStackActuator) -> None:
    acme, other = tenant_group(sim, "acme"), tenant_group(sim, "other")
    a = await actuator.create_unit(acme, unit_name(acme.account, "web", 0))
    b = await actuator.create_unit(other, unit_name(other.account, "web", 0))
    assert [u.id for u in await actuator.list_units(acme)] == [a.id]
    assert [u.id for u in await actuator.list_units(other)] == [b.id]
    assert sim.state.vms[a.id].account_id == acme.account and sim.state.vms[b.id].account_id == other.account


async def test_two_groups_of_one_tenant_each_see_and_scale_only_their_own_vms(
        sim: CloudStackSimulator, actuator: CloudStackActuator) -> None:
    web = replace(tenant_group(sim, "acme"), load_balancer_rule_ids=(), desired_capacity=2)
    api = replace(web, name="api", desired_capacity=1)
    for g in (web, api):
        rec = Reconciler(lambda g=g: _const(g), actuator, Activities(), retry_delay=0.01)
        await converge(rec, sim, g)
    web_units, api_units = await actuator.list_units(web), await actuator.list_units(api)
    assert len(web_units) == 2 and len(api_units) == 1
    assert all(u.tagged for u in web_units + api_units) and not {u.id for u in web_units} & {u.id for u in api_units}
    # shrinking one group leaves the other's VM alone
    log = Activities()
    await converge(Reconciler(lambda: _const(replace(web, min_size=0, desired_capacity=0)), actuator, log,
                              retry_delay=0.01),
                   sim, web)
    assert [u.id for u in await actuator.list_units(api)] == [api_units[0].id]
    assert await actuator.list_units(web) == []
    assert not any(a.description.startswith("Tagging") for a in log.final.values())


class Activities:
    def __init__(self) -> None:
        self.final: dict[str, Activity] = {}
        self.started: set[str] = set()

    async def __call__(self, activity: Activity) -> None:
        if activity.status == "InProgress":
            self.started.add(activity.id)
        else:
            assert activity.id in self.started
            self.final[activity.id] = activity


async def converge(rec: Reconciler, sim: CloudStackSimulator, spec: GroupSpec, timeout: float = 15.0) -> None:
    async def done() -> None:
        while True:
            await rec.pass_once()
            if rec.settled:
                return
            await asyncio.sleep(0.02)
    await asyncio.wait_for(done(), timeout)


async def test_reconciler_scales_out_repairs_and_scales_in(sim: CloudStackSimulator,
                                                           actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    current = {"spec": spec}

    async def source() -> GroupSpec:
        return current["spec"]

    log = Activities()
    rec = Reconciler(source, actuator, log, retry_delay=0.01)
    await converge(rec, sim, spec)
    rule = sim.state.lbrules[spec.load_balancer_rule_ids[0]]
    running = vms_of(sim, spec.account)
    assert len(running) == 2 and sorted(rule.members) == sorted(vm.id for vm in running)  # type: ignore[attr-defined]
    descriptions = sorted(a.description for a in log.final.values())
    assert [d.split(":")[0] for d in descriptions].count("Launching a new VM") == 2
    assert all(a.status == "Successful" for a in log.final.values())

    sim.crash_vm(running[0].id)  # type: ignore[attr-defined]
    sim.state.lbrules[rule.id].members.remove(running[1].id)  # type: ignore[attr-defined]
    await converge(rec, sim, spec)
    now = vms_of(sim, spec.account)
    assert len(now) == 2 and all(vm.state == "Running" for vm in now)  # type: ignore[attr-defined]
    assert sorted(rule.members) == sorted(vm.id for vm in now)  # type: ignore[attr-defined]
    assert any("CloudStack state Error" in a.cause for a in log.final.values())

    current["spec"] = replace(spec, desired_capacity=1)
    await converge(rec, sim, spec)
    assert len(vms_of(sim, spec.account)) == 1 and len(rule.members) == 1
    assert any(a.cause.endswith("shrinking the capacity from 2 to 1.") for a in log.final.values())


async def test_a_failed_step_is_recorded_as_failed(sim: CloudStackSimulator, actuator: CloudStackActuator) -> None:
    spec = replace(tenant_group(sim), desired_capacity=1)

    async def source() -> GroupSpec:
        return spec

    log = Activities()
    rec = Reconciler(source, actuator, log, retry_delay=0.01)
    sim.fail_next_jobs("deployVirtualMachine", errortext="no capacity")
    await converge(rec, sim, spec)
    statuses = sorted((a.description.split(":")[0], a.status) for a in log.final.values())
    assert ("Launching a new VM", "Failed") in statuses and ("Launching a new VM", "Successful") in statuses
    assert ("Terminating VM", "Successful") in statuses
    failed = next(a for a in log.final.values() if a.status == "Failed")
    assert "Error" in failed.status_message
    assert len(vms_of(sim, spec.account)) == 1


async def test_run_loop_converges_follows_pokes_and_stops_when_the_group_is_gone(
        sim: CloudStackSimulator, actuator: CloudStackActuator) -> None:
    spec = tenant_group(sim)
    current: dict[str, GroupSpec | None] = {"spec": spec}

    async def source() -> GroupSpec | None:
        return current["spec"]

    async def until(count: int) -> None:
        while len(vms_of(sim, spec.account)) != count or any(
                vm.state != "Running" for vm in vms_of(sim, spec.account)):  # type: ignore[attr-defined]
            await asyncio.sleep(0.02)

    rec = Reconciler(source, actuator, Activities(), interval=60, retry_delay=0.01)
    task = asyncio.create_task(rec.run())
    await asyncio.wait_for(until(2), 10)  # no poke needed: steps that end wake the loop
    current["spec"] = replace(spec, desired_capacity=3)
    rec.poke()
    await asyncio.wait_for(until(3), 10)
    current["spec"] = None
    rec.poke()
    await asyncio.wait_for(task, 5)


async def test_a_restart_mid_scale_finishes_the_half_done_vms_without_making_more(
        sim: CloudStackSimulator, client: CloudStackClient) -> None:
    spec = replace(tenant_group(sim), desired_capacity=3)

    async def source() -> GroupSpec:
        return spec

    sim.job_seconds = 0.5  # deploys stay pending: the "crash" comes before tags and LB membership
    first = Reconciler(source, CloudStackActuator(client, backoff=0.01), Activities(), retry_delay=0.01)
    await first.pass_once()
    while len(vms_of(sim, spec.account)) < 3:
        await asyncio.sleep(0.01)
    await first.close()  # the service dies: its in-flight steps are cancelled mid-wait
    assert not any(t.resource_id == vm.id for vm in vms_of(sim, spec.account) for t in sim.state.tags)  # type: ignore[attr-defined]
    sim.job_seconds = JOB_SECONDS
    log = Activities()
    async with CloudStackClient(sim.endpoint, *sim.admin_keys, backoff=0.01, job_poll=0.02) as fresh:
        second = Reconciler(source, CloudStackActuator(fresh, backoff=0.01), log, retry_delay=0.01)
        await converge(second, sim, spec)
    vms = vms_of(sim, spec.account)
    assert len(vms) == 3 and sim.calls["deployVirtualMachine"] == 3
    assert sorted(sim.state.lbrules[spec.load_balancer_rule_ids[0]].members) == sorted(vm.id for vm in vms)  # type: ignore[attr-defined]
    assert {a.description.split(" ")[0] for a in log.final.values()} == {"Tagging", "Adding"}


class _ListingTakenBeforeACreateEnds(CloudStackActuator):
    """The real actuator, except that one listing is held until a create has ended (a slow listing).

    The listing itself is taken from the simulator before the create's VM exists; its answer
    arrives only after the create finished: what a busy store or CloudStack does to a pass.
    """

    def __init__(self, client: CloudStackClient) -> None:
        super().__init__(client, backoff=0.01, deadline=20)
        self.hold_next_listing = False
        self.created = asyncio.Event()
        self.creating = asyncio.Event()
        self.go = asyncio.Event()

    async def list_units(self, group: GroupSpec) -> list[Unit]:
        units = await super().list_units(group)
        if self.hold_next_listing:
            self.hold_next_listing = False
            self.go.set()  # let the create deploy now, after the listing was taken
            await self.created.wait()
        return units

    async def create_unit(self, group: GroupSpec, name: str) -> Unit:
        self.creating.set()
        await self.go.wait()
        unit = await super().create_unit(group, name)
        self.created.set()
        return unit


async def test_a_create_that_ends_during_a_listing_is_not_planned_twice(sim: CloudStackSimulator,
                                                                       client: CloudStackClient) -> None:
    # slots 0 and 1 run, slot 0 fails: the first pass destroys it and creates slot 2; a second
    # pass whose listing misses slot 2 (taken before its deploy) must not fill slot 0 as well
    spec = replace(tenant_group(sim), desired_capacity=2, max_size=3, load_balancer_rule_ids=())
    warm = Reconciler(lambda: _const(spec), CloudStackActuator(client, backoff=0.01), Activities(), retry_delay=0.01)
    await converge(warm, sim, spec)
    slot0 = next(vm for vm in vms_of(sim, spec.account) if vm.name.endswith("-0"))  # type: ignore[attr-defined]
    sim.crash_vm(slot0.id)  # type: ignore[attr-defined]
    gated = _ListingTakenBeforeACreateEnds(client)
    rec = Reconciler(lambda: _const(spec), gated, Activities(), retry_delay=0.01)
    first = await rec.pass_once()
    assert first is not None and sorted(type(s).__name__ for s in first) == ["Create", "Destroy"]
    await gated.creating.wait()
    while any(k[0] == "destroy" for k in rec.in_flight):  # the Error VM goes; slot 0 is free
        await asyncio.sleep(0.01)
    gated.hold_next_listing = True
    second = await rec.pass_once()
    assert second == [], second
    await converge(rec, sim, spec)
    assert sorted(vm.name[-1] for vm in vms_of(sim, spec.account)) == ["1", "2"]  # type: ignore[attr-defined]


async def _const(spec: GroupSpec) -> GroupSpec:
    return spec
