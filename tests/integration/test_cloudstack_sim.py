"""The simulator as a client written by others sees it: the ``cs`` package, sync and async.

``cs`` signs the way CloudStack clients have for years, polls jobs its own way and raises
``CloudStackApiException`` with the error envelope's inner object as ``.error``. Everything here
goes over real HTTP to a simulator on 127.0.0.1: the sync client against a thread-backed one,
the async client against one on the test's own loop. Jobs take 0.1 s, polls every 0.05 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cs import AIOCloudStack, CloudStack, CloudStackApiException

from stackwatch.cloudstack import CloudStackClient, CloudStackSimulator, SimulatorThread, signed_params

JOB_SECONDS = 0.1


@pytest.fixture
def sim() -> Iterator[CloudStackSimulator]:
    with SimulatorThread(job_seconds=JOB_SECONDS) as running:
        yield running


def client(sim: CloudStackSimulator, key: str | None = None, secret: str | None = None,
           **kw: Any) -> CloudStack:
    admin_key, admin_secret = sim.admin_keys
    return CloudStack(sim.endpoint, key or admin_key, secret or admin_secret, poll_interval=0.05,
                      job_timeout=10, timeout=5, **kw)


@pytest.fixture
def admin(sim: CloudStackSimulator) -> CloudStack:
    return client(sim)


@pytest.fixture
def tenant(sim: CloudStackSimulator) -> CloudStack:
    _, _, keys = sim.add_tenant("acme", "alice")
    return client(sim, *keys)


def catalog(api: CloudStack) -> dict[str, str]:
    return {"zoneid": api.listZones()["zone"][0]["id"],
            "serviceofferingid": api.listServiceOfferings()["serviceoffering"][0]["id"],
            "templateid": api.listTemplates(templatefilter="featured")["template"][0]["id"]}


def api_error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(CloudStackApiException) as info:
        call(**params)
    assert info.value.response.status_code == info.value.error["errorcode"]
    return dict(info.value.error)


def test_list_zones_envelope_and_content_type(sim: CloudStackSimulator, admin: CloudStack) -> None:
    zones = admin.listZones()
    assert zones["count"] == 1 and zones["zone"][0]["name"] == "zone1"
    params = signed_params("listZones", {}, *sim.admin_keys)
    response = requests.get(sim.endpoint, params=params, timeout=5)
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert list(response.json()) == ["listzonesresponse"]


def test_catalog(admin: CloudStack) -> None:
    assert admin.listServiceOfferings()["count"] == 2
    templates = admin.listTemplates(templatefilter="featured")
    assert templates["count"] == 2 and all(t["isready"] for t in templates["template"])
    assert admin.listTemplates(templatefilter="self") == {}
    assert admin.listLoadBalancerRules(listall=True)["count"] == 1


def test_get_user_by_api_key_as_admin(sim: CloudStackSimulator, admin: CloudStack) -> None:
    account, user, keys = sim.add_tenant("acme", "alice")
    found = admin.getUser(userapikey=keys.api_key)["user"]
    assert (found["id"], found["accountid"], found["account"], found["username"]) == (
        user.id, account.id, "acme", "alice")
    assert found["state"] == "enabled" and found["accounttype"] == 0 and found["apikey"] == keys.api_key
    assert "secretkey" not in found


def test_get_user_unknown_key_is_431(admin: CloudStack) -> None:
    error = api_error(admin.getUser, userapikey="no-such-key")
    assert (error["errorcode"], error["cserrorcode"]) == (431, 4350)
    assert error["errortext"] == "User with specified API key does not exist"


def test_get_user_is_for_admins_only(sim: CloudStackSimulator, tenant: CloudStack) -> None:
    error = api_error(tenant.getUser, userapikey=sim.admin_keys.api_key)
    assert error["errorcode"] == 432
    params = signed_params("getUser", {"userapikey": "x"}, *_tenant_keys(sim))
    assert list(requests.get(sim.endpoint, params=params, timeout=5).json()) == ["errorresponse"]


def _tenant_keys(sim: CloudStackSimulator) -> tuple[str, str]:
    user = next(u for u in sim.state.users.values() if u.username == "alice")
    return user.api_key or "", user.secret_key or ""


def test_get_user_keys(sim: CloudStackSimulator, admin: CloudStack) -> None:
    _, alice, alice_keys = sim.add_tenant("acme", "alice")
    _, bob, bob_keys = sim.add_tenant("globex", "bob")
    assert admin.getUserKeys(id=alice.id)["userkeys"] == {"apikey": alice_keys.api_key,
                                                          "secretkey": alice_keys.secret_key}
    assert client(sim, *alice_keys).getUserKeys(id=alice.id)["userkeys"]["secretkey"] == alice_keys.secret_key
    error = api_error(client(sim, *bob_keys).getUserKeys, id=alice.id)
    assert (error["errorcode"], error["cserrorcode"]) == (531, 4365)


def test_register_user_keys_rotates(sim: CloudStackSimulator) -> None:
    _, alice, keys = sim.add_tenant("acme", "alice")
    fresh = client(sim, *keys).registerUserKeys(id=alice.id)["userkeys"]
    assert fresh["apikey"] != keys.api_key
    assert api_error(client(sim, *keys).listZones)["errorcode"] == 401
    assert client(sim, fresh["apikey"], fresh["secretkey"]).listZones()["count"] == 1


def test_list_users_is_scoped_to_the_callers_account(sim: CloudStackSimulator, admin: CloudStack,
                                                     tenant: CloudStack) -> None:
    sim.add_tenant("globex", "bob")
    assert [u["username"] for u in tenant.listUsers()["user"]] == ["alice"]
    assert {u["username"] for u in admin.listUsers(listall=True)["user"]} == {"admin", "alice", "bob"}
    assert [u["username"] for u in admin.listUsers(username="bob")["user"]] == ["bob"]


def test_deploy_polls_the_job_until_running(sim: CloudStackSimulator, tenant: CloudStack) -> None:
    started = time.monotonic()
    vm = tenant.deployVirtualMachine(**catalog(tenant), name="web-1", fetch_result=True)["virtualmachine"]
    assert time.monotonic() - started >= JOB_SECONDS
    assert vm["state"] == "Running" and vm["name"] == "web-1" and vm["account"] == "acme"
    assert sim.calls["queryAsyncJobResult"] >= 2  # saw it pending at least once
    listed = tenant.listVirtualMachines(id=vm["id"])["virtualmachine"]
    assert [v["state"] for v in listed] == ["Running"]


def test_job_is_pending_then_done(sim: CloudStackSimulator, tenant: CloudStack) -> None:
    sim.job_seconds = 0.5
    started = tenant.deployVirtualMachine(**catalog(tenant))
    pending = tenant.queryAsyncJobResult(jobid=started["jobid"])
    assert pending["jobstatus"] == 0 and "jobresult" not in pending
    assert pending["jobinstanceid"] == started["id"]
    assert tenant.listVirtualMachines(id=started["id"])["virtualmachine"][0]["state"] == "Starting"
    time.sleep(0.6)
    done = tenant.queryAsyncJobResult(jobid=started["jobid"])
    assert (done["jobstatus"], done["jobresultcode"]) == (1, 0)
    assert done["jobresult"]["virtualmachine"]["state"] == "Running"


def test_failed_deploy_job_raises_with_533(sim: CloudStackSimulator, tenant: CloudStack) -> None:
    sim.fail_next_deploys(1)
    with pytest.raises(CloudStackApiException) as info:
        tenant.deployVirtualMachine(**catalog(tenant), fetch_result=True)
    assert info.value.error["errorcode"] == 533
    assert [v["state"] for v in tenant.listVirtualMachines()["virtualmachine"]] == ["Error"]


def test_destroy_hides_the_vm_from_its_owner(sim: CloudStackSimulator, admin: CloudStack,
                                             tenant: CloudStack) -> None:
    vm = tenant.deployVirtualMachine(**catalog(tenant), fetch_result=True)["virtualmachine"]
    gone = tenant.destroyVirtualMachine(id=vm["id"], fetch_result=True)["virtualmachine"]
    assert gone["state"] == "Destroyed"
    assert tenant.listVirtualMachines() == {}
    assert [v["state"] for v in admin.listVirtualMachines(listall=True)["virtualmachine"]] == ["Destroyed"]
    expunged = admin.destroyVirtualMachine(id=vm["id"], expunge=True, fetch_result=True)["virtualmachine"]
    assert expunged["state"] == "Expunging"
    assert admin.listVirtualMachines(listall=True) == {}


def test_tags_filter_virtual_machines(tenant: CloudStack) -> None:
    ids = catalog(tenant)
    web = tenant.deployVirtualMachine(**ids, name="web-1", fetch_result=True)["virtualmachine"]
    tenant.deployVirtualMachine(**ids, name="db-1", fetch_result=True)
    created = tenant.createTags(resourcetype="UserVm", resourceids=[web["id"]],
                                tags=[{"key": "sw-group", "value": "web tier"}], fetch_result=True)
    assert created == {"success": True}
    found = tenant.listVirtualMachines(tags=[{"key": "sw-group", "value": "web tier"}])
    assert [v["name"] for v in found["virtualmachine"]] == ["web-1"]
    assert found["virtualmachine"][0]["tags"][0]["key"] == "sw-group"
    assert tenant.listVirtualMachines(tags=[{"key": "sw-group", "value": "other"}]) == {}
    assert tenant.listTags(resourceid=web["id"])["tag"][0]["value"] == "web tier"
    error = api_error(tenant.listVirtualMachines, **{"tags[0].key": "sw-group"})
    assert error["errortext"] == "No value is passed in for key sw-group"


def test_load_balancer_membership(sim: CloudStackSimulator, tenant: CloudStack) -> None:
    account = next(a for a in sim.state.accounts.values() if a.name == "acme")
    rule = sim.state.add_lb_rule(account, "web")
    vm = tenant.deployVirtualMachine(**catalog(tenant), fetch_result=True)["virtualmachine"]
    assert tenant.assignToLoadBalancerRule(id=rule.id, virtualmachineids=[vm["id"]], fetch_result=True) == {
        "success": True}
    members = tenant.listLoadBalancerRuleInstances(id=rule.id)["loadbalancerruleinstance"]
    assert [m["id"] for m in members] == [vm["id"]]
    tenant.removeFromLoadBalancerRule(id=rule.id, virtualmachineids=[vm["id"]], fetch_result=True)
    assert tenant.listLoadBalancerRuleInstances(id=rule.id) == {}


def test_missing_parameters_are_431(tenant: CloudStack) -> None:
    ids = catalog(tenant)
    error = api_error(tenant.deployVirtualMachine, serviceofferingid=ids["serviceofferingid"],
                      templateid=ids["templateid"])
    assert (error["errorcode"], error["cserrorcode"]) == (431, 9999)
    expected = "Unable to execute API command deployvirtualmachine due to missing parameter zoneid"
    assert error["errortext"] == expected
    assert "templatefilter" in api_error(tenant.listTemplates)["errortext"]
    nowhere = "00000000-0000-0000-0000-000000000000"
    unknown = api_error(tenant.deployVirtualMachine, **{**ids, "zoneid": nowhere})
    assert unknown["errorcode"] == 431 and "Invalid parameter zoneid value=" in unknown["errortext"]


def test_wrong_secret_is_401(sim: CloudStackSimulator) -> None:
    error = api_error(client(sim, secret="not-the-secret").listZones)
    assert error == {"uuidList": [], "errorcode": 401,
                     "errortext": "unable to verify user credentials and/or request signature"}


def test_expired_v3_request_is_401(admin: CloudStack) -> None:
    assert admin.listZones(signatureVersion="3", expires="2099-01-01T00:00:00+0000")["count"] == 1
    error = api_error(admin.listZones, signatureVersion="3", expires="2020-01-01T00:00:00+0000")
    assert error["errorcode"] == 401
    # Without signatureVersion=3 the same stale expires is ignored (legacy requests replay forever).
    assert admin.listZones(expires="2020-01-01T00:00:00+0000")["count"] == 1


@pytest.mark.parametrize(("who", "state"), [("user", "disabled"), ("user", "locked"),
                                            ("account", "disabled")])
def test_inactive_user_or_account_is_401(sim: CloudStackSimulator, who: str, state: str) -> None:
    account, user, keys = sim.add_tenant("acme", "alice")
    api = client(sim, *keys)
    assert api.listZones()["count"] == 1
    with sim.state.lock:
        if who == "user":
            user.state = state
        else:
            account.state = state
    assert api_error(api.listZones)["errorcode"] == 401


async def test_tilde_is_signed_differently_by_cs(sim: CloudStackSimulator) -> None:
    api = client(sim)
    assert api.listZones(name="a-b") == {}
    # cs leaves '~' unencoded where Java writes %7E: real CloudStack rejects this, so must we.
    assert api_error(api.listZones, name="a~b")["errorcode"] == 401
    async with CloudStackClient(sim.endpoint, *sim.admin_keys) as ours:
        assert await ours.call("listZones", name="a~b") == {}


def test_unknown_command_is_401_in_errorresponse(sim: CloudStackSimulator, admin: CloudStack) -> None:
    assert api_error(admin.listFoo)["errorcode"] == 401
    params = signed_params("listFoo", {}, *sim.admin_keys)
    assert list(requests.get(sim.endpoint, params=params, timeout=5).json()) == ["errorresponse"]


def test_post_requests(sim: CloudStackSimulator) -> None:
    api = client(sim, method="post")
    ids = catalog(api)
    vm = api.deployVirtualMachine(**ids, userdata="x" * 8000, fetch_result=True)["virtualmachine"]
    assert vm["state"] == "Running"


async def test_async_cs_client() -> None:
    async with CloudStackSimulator(job_seconds=JOB_SECONDS) as sim:
        key, secret = sim.admin_keys
        async with AIOCloudStack(sim.endpoint, key, secret, poll_interval=0.05, job_timeout=10) as api:
            zone = (await api.listZones())["zone"][0]["id"]
            offering = (await api.listServiceOfferings())["serviceoffering"][0]["id"]
            template = (await api.listTemplates(templatefilter="executable"))["template"][0]["id"]
            vm = (await api.deployVirtualMachine(zoneid=zone, serviceofferingid=offering, templateid=template,
                                                 fetch_result=True))["virtualmachine"]
            assert vm["state"] == "Running"
            with pytest.raises(CloudStackApiException) as info:
                await api.deployVirtualMachine(zoneid=zone)
            assert info.value.error["errorcode"] == 431
            assert sim.calls["deployVirtualMachine"] == 2
