"""The simulator's fault switches and admin scoping, seen through the ``cs`` client (written by others).

What the autoscale tests rely on: an admin acting for a tenant with ``account`` + ``domainid``
sees and creates only in that account (two accounts of the same name in different domains stay
apart); a failed job looks like a failed CloudStack job to ``cs``; a lost answer is a connection
error although the command ran; a crashed VM is ``Error``; a vanished one is gone from lists,
rules and tags.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from cs import CloudStack, CloudStackApiException

from stackwatch.cloudstack import CloudStackSimulator, SimulatorThread


@pytest.fixture
def sim() -> Iterator[CloudStackSimulator]:
    with SimulatorThread(job_seconds=0.05) as running:
        yield running


@pytest.fixture
def admin(sim: CloudStackSimulator) -> CloudStack:
    return CloudStack(sim.endpoint, *sim.admin_keys, poll_interval=0.02, job_timeout=5, timeout=2)


def catalog(api: CloudStack) -> dict[str, str]:
    return {"zoneid": api.listZones()["zone"][0]["id"],
            "serviceofferingid": api.listServiceOfferings()["serviceoffering"][0]["id"],
            "templateid": api.listTemplates(templatefilter="featured")["template"][0]["id"]}


def test_admin_acts_for_one_account_by_name_and_domain(sim: CloudStackSimulator, admin: CloudStack) -> None:
    root_acme = sim.state.add_account("acme")
    other_acme = sim.state.add_account("acme", domain=sim.state.domain("east"))
    for account in (root_acme, other_acme):
        admin.deployVirtualMachine(**catalog(admin), name="web-0", account="acme", domainid=account.domain_id,
                                   fetch_result=True)
    for account in (root_acme, other_acme):
        vms = admin.listVirtualMachines(account="acme", domainid=account.domain_id)["virtualmachine"]
        assert [(v["name"], v["domainid"]) for v in vms] == [("web-0", account.domain_id)]
        assert {vm.account_id for vm in sim.state.vms.values() if vm.id == vms[0]["id"]} == {account.id}
    assert admin.listVirtualMachines(account="acme")["count"] == 2  # without domainid: every "acme"


def test_a_failed_job_and_a_crashed_vm(sim: CloudStackSimulator, admin: CloudStack) -> None:
    vm = admin.deployVirtualMachine(**catalog(admin), fetch_result=True)["virtualmachine"]
    rule = next(iter(sim.state.lbrules.values()))
    sim.fail_next_jobs("assignToLoadBalancerRule", 530, "lost the agent")
    with pytest.raises(CloudStackApiException) as info:
        admin.assignToLoadBalancerRule(id=rule.id, virtualmachineids=[vm["id"]], fetch_result=True)
    assert (info.value.error["errorcode"], info.value.error["errortext"]) == (530, "lost the agent")
    assert rule.members == []
    sim.crash_vm(vm["id"])
    assert admin.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Error"


def test_a_lost_answer_is_a_connection_error_but_the_command_ran(sim: CloudStackSimulator,
                                                                admin: CloudStack) -> None:
    sim.lose_responses("deployVirtualMachine")
    with pytest.raises(requests.ConnectionError):
        admin.deployVirtualMachine(**catalog(admin), name="lost-1")
    assert [v["name"] for v in admin.listVirtualMachines()["virtualmachine"]] == ["lost-1"]
    sim.clear_faults()
    admin.deployVirtualMachine(**catalog(admin), name="kept-1", fetch_result=True)


def test_a_vanished_vm_leaves_lists_rules_and_tags(sim: CloudStackSimulator, admin: CloudStack) -> None:
    vm = admin.deployVirtualMachine(**catalog(admin), fetch_result=True)["virtualmachine"]
    rule = next(iter(sim.state.lbrules.values()))
    admin.assignToLoadBalancerRule(id=rule.id, virtualmachineids=[vm["id"]], fetch_result=True)
    admin.createTags(resourcetype="UserVm", resourceids=[vm["id"]], tags=[{"key": "k", "value": "v"}],
                     fetch_result=True)
    sim.vanish_vm(vm["id"])
    assert admin.listVirtualMachines(listall=True) == {}
    assert admin.listLoadBalancerRuleInstances(id=rule.id) == {} and admin.listTags() == {}
