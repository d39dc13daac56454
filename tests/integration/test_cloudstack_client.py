"""Our CloudStackClient against the simulator: the calls StackWatch makes, and how it fails.

Retry behaviour is checked by counting what reached the server (``sim.calls``): a read behind an
outage is repeated until the server answers, a deploy is sent once unless the connection was
refused, 401 and 431 are never repeated, and the deadline bounds everything. Jobs take 0.1 s.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from stackwatch.clock import FakeClock
from stackwatch.cloudstack import (
    CloudStackClient,
    CloudStackError,
    CloudStackJobTimeout,
    CloudStackSimulator,
    CloudStackUnavailable,
    Keys,
    SimState,
    map_param,
)

JOB_SECONDS = 0.1


@pytest.fixture
async def sim() -> AsyncIterator[CloudStackSimulator]:
    async with CloudStackSimulator(job_seconds=JOB_SECONDS) as running:
        yield running


def make_client(sim: CloudStackSimulator | str, keys: Keys | tuple[str, str] | None = None,
                **kw: Any) -> CloudStackClient:
    endpoint = sim if isinstance(sim, str) else sim.endpoint
    key, secret = keys if keys is not None else sim.admin_keys  # type: ignore[union-attr]
    kw.setdefault("backoff", 0.05)
    kw.setdefault("job_poll", 0.05)
    kw.setdefault("job_timeout", 10)
    return CloudStackClient(endpoint, key, secret, **kw)


@pytest.fixture
async def admin(sim: CloudStackSimulator) -> AsyncIterator[CloudStackClient]:
    async with make_client(sim) as api:
        yield api


@pytest.fixture
async def tenant(sim: CloudStackSimulator) -> AsyncIterator[CloudStackClient]:
    _, _, keys = sim.add_tenant("acme", "alice")
    async with make_client(sim, keys) as api:
        yield api


def catalog() -> dict[str, str]:
    """The seeded catalog's ids: derived from names, the same in every simulator."""
    state = SimState()
    return {"zoneid": state.zone.id, "serviceofferingid": next(iter(state.serviceofferings)),
            "templateid": next(iter(state.templates))}


async def test_catalog_and_identity_calls(sim: CloudStackSimulator, admin: CloudStackClient) -> None:
    account, user, keys = sim.add_tenant("acme", "alice")
    assert [z["name"] for z in await admin.list_all("listZones", "zone")] == ["zone1"]
    assert len(await admin.list_all("listServiceOfferings", "serviceoffering")) == 2
    assert len(await admin.list_all("listTemplates", "template", templatefilter="featured")) == 2
    found = (await admin.call("getUser", userapikey=keys.api_key))["user"]
    assert (found["id"], found["accountid"], found["state"]) == (user.id, account.id, "enabled")
    userkeys = (await admin.call("getUserKeys", id=user.id))["userkeys"]
    assert userkeys == {"apikey": keys.api_key, "secretkey": keys.secret_key}
    assert (await admin.call("listAccounts", id=account.id, listall=True))["account"][0]["state"] == "enabled"


async def test_vm_life_cycle_with_tags_and_load_balancer(sim: CloudStackSimulator,
                                                          tenant: CloudStackClient) -> None:
    account = next(a for a in sim.state.accounts.values() if a.name == "acme")
    rule = sim.state.add_lb_rule(account, "web")
    deployed = await tenant.call_async("deployVirtualMachine", **catalog(), name="web-1", group="web")
    vm = deployed["virtualmachine"]
    assert vm["state"] == "Running" and vm["group"] == "web"
    tag = map_param("tags", [{"key": "stackwatch:group", "value": "web"}])
    assert await tenant.call_async("createTags", resourcetype="UserVm", resourceids=[vm["id"]], **tag) == {
        "success": True}
    tagged = await tenant.list_all("listVirtualMachines", "virtualmachine", **tag)
    assert [v["id"] for v in tagged] == [vm["id"]]
    await tenant.call_async("assignToLoadBalancerRule", id=rule.id, virtualmachineids=[vm["id"]])
    members = await tenant.list_all("listLoadBalancerRuleInstances", "loadbalancerruleinstance", id=rule.id)
    assert [m["id"] for m in members] == [vm["id"]]
    await tenant.call_async("removeFromLoadBalancerRule", id=rule.id, virtualmachineids=[vm["id"]])
    assert await tenant.call("listLoadBalancerRuleInstances", id=rule.id) == {}
    gone = (await tenant.call_async("destroyVirtualMachine", id=vm["id"]))["virtualmachine"]
    assert gone["state"] == "Destroyed"
    assert await tenant.list_all("listVirtualMachines", "virtualmachine") == []


async def test_post_method(sim: CloudStackSimulator) -> None:
    async with make_client(sim, method="POST") as api:
        deployed = await api.call_async("deployVirtualMachine", **catalog(), userdata="QUJD" * 4000)
        vm = deployed["virtualmachine"]
        assert vm["state"] == "Running"


async def test_list_all_pages_until_a_short_page(sim: CloudStackSimulator, tenant: CloudStackClient) -> None:
    for i in range(5):
        await tenant.call("deployVirtualMachine", **catalog(), name=f"web-{i}")
    sim.calls.clear()
    vms = await tenant.list_all("listVirtualMachines", "virtualmachine", pagesize=2)
    assert [v["name"] for v in vms] == [f"web-{i}" for i in range(5)]
    assert sim.calls["listVirtualMachines"] == 3


async def test_reads_are_retried_through_an_outage(sim: CloudStackSimulator) -> None:
    sim.set_unavailable(True)
    asyncio.get_running_loop().call_later(0.3, sim.set_unavailable, False)
    async with make_client(sim, attempts=10, backoff=0.05, deadline=5) as api:
        assert (await api.call("listZones"))["count"] == 1
    assert sim.calls["listZones"] >= 3


async def test_reads_give_up_after_their_attempts(sim: CloudStackSimulator) -> None:
    sim.set_unavailable(True)
    async with make_client(sim, attempts=3) as api:
        with pytest.raises(CloudStackUnavailable) as info:
            await api.call("listZones")
    assert info.value.errorcode == 503
    assert sim.calls["listZones"] == 3


async def test_a_deploy_is_not_repeated_after_a_bare_503(sim: CloudStackSimulator) -> None:
    sim.set_unavailable(True)
    async with make_client(sim, attempts=5) as api:
        with pytest.raises(CloudStackUnavailable):
            await api.call("deployVirtualMachine", **catalog())
    assert sim.calls["deployVirtualMachine"] == 1


@pytest.mark.parametrize(("command", "code", "calls"), [
    ("listZones", 530, 3), ("listZones", 534, 3), ("listZones", 429, 3),
    ("deployVirtualMachine", 530, 1), ("deployVirtualMachine", 534, 1),
    ("deployVirtualMachine", 429, 3), ("deployVirtualMachine", 503, 3),
    ("listZones", 431, 1), ("listZones", 401, 1), ("listZones", 432, 1), ("listZones", 531, 1),
    ("deployVirtualMachine", 533, 1),
])
async def test_injected_errors_are_retried_only_when_safe(sim: CloudStackSimulator, command: str, code: int,
                                                          calls: int) -> None:
    sim.fail_next(command, code, "injected", times=2)
    params = catalog() if command == "deployVirtualMachine" else {}
    async with make_client(sim, attempts=3) as api:
        if calls == 3:  # two injected failures, then the real answer
            await api.call(command, **params)
        else:
            with pytest.raises(CloudStackError) as info:
                await api.call(command, **params)
            assert (info.value.errorcode, info.value.errortext) == (code, "injected")
    assert sim.calls[command] == calls


async def test_signature_and_parameter_errors_are_not_retried(sim: CloudStackSimulator) -> None:
    async with make_client(sim, (sim.admin_keys.api_key, "wrong"), attempts=5) as api:
        with pytest.raises(CloudStackError) as info:
            await api.call("listZones")
    assert info.value.errorcode == 401 and not isinstance(info.value, CloudStackUnavailable)
    async with make_client(sim, attempts=5) as api:
        with pytest.raises(CloudStackError) as info:
            await api.call("listTemplates")
    assert (info.value.errorcode, info.value.cserrorcode) == (431, 9999)
    assert sim.calls["listZones"] == 1 and sim.calls["listTemplates"] == 1


async def test_an_expired_request_is_401(sim: CloudStackSimulator) -> None:
    async with make_client(sim, clock=FakeClock(1_577_836_800.0)) as api:  # 2020: expires is long past
        with pytest.raises(CloudStackError) as info:
            await api.call("listZones")
    assert info.value.errorcode == 401


async def test_the_deadline_bounds_all_attempts(sim: CloudStackSimulator) -> None:
    sim.set_delay(2.0)
    async with make_client(sim, timeout=0.3, attempts=10, deadline=0.8) as api:
        started = time.monotonic()
        with pytest.raises(CloudStackUnavailable) as info:
            await api.call("listZones")
        elapsed = time.monotonic() - started
    assert info.value.errorcode == 0
    assert 0.5 <= elapsed < 1.3
    assert 2 <= sim.calls["listZones"] <= 3


async def test_a_timed_out_deploy_is_not_repeated_and_may_still_happen(sim: CloudStackSimulator) -> None:
    sim.set_delay(0.4)
    async with make_client(sim, timeout=0.2, attempts=5) as api:
        with pytest.raises(CloudStackUnavailable) as info:
            await api.call("deployVirtualMachine", **catalog())
        assert info.value.may_have_run
        assert sim.calls["deployVirtualMachine"] == 1
        sim.set_delay(0)
        await asyncio.sleep(0.4)
        assert len(await api.list_all("listVirtualMachines", "virtualmachine")) == 1  # it did run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_retried_even_for_a_deploy(caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()
    keys = ("AKfixed", "SKfixed")
    server = CloudStackSimulator(port=port, job_seconds=0, admin_keys=keys)

    async def start_late() -> None:
        await asyncio.sleep(0.3)
        await server.start()

    caplog.set_level(logging.INFO, logger="stackwatch.cloudstack")
    async with asyncio.TaskGroup() as group:
        group.create_task(start_late())
        async with make_client(f"http://127.0.0.1:{port}/client/api", keys, attempts=8, backoff=0.1,
                               deadline=10) as api:
            started = await api.call("deployVirtualMachine", **catalog())
    try:
        assert "jobid" in started
        assert server.calls["deployVirtualMachine"] == 1
        assert sum("cannot connect" in r.getMessage() for r in caplog.records) >= 1
    finally:
        await server.stop()


async def test_wait_for_job_success_and_pending(sim: CloudStackSimulator, tenant: CloudStackClient) -> None:
    sim.job_seconds = 0.3
    started = await tenant.call("deployVirtualMachine", **catalog())
    assert (await tenant.call("queryAsyncJobResult", jobid=started["jobid"]))["jobstatus"] == 0
    result = await tenant.wait_for_job(started["jobid"], timeout=5, poll=0.05)
    assert result["virtualmachine"]["id"] == started["id"] and result["virtualmachine"]["state"] == "Running"


async def test_wait_for_job_failure_carries_the_jobs_error(sim: CloudStackSimulator,
                                                           tenant: CloudStackClient) -> None:
    sim.fail_next_deploys(1)
    with pytest.raises(CloudStackError) as info:
        await tenant.call_async("deployVirtualMachine", **catalog())
    assert info.value.errorcode == 533 and info.value.jobid is not None
    assert info.value.command == "deployVirtualMachine"
    assert "Unable to create a deployment for VM" in info.value.errortext
    assert [v["state"] for v in await tenant.list_all("listVirtualMachines", "virtualmachine")] == ["Error"]


async def test_wait_for_job_times_out(sim: CloudStackSimulator, tenant: CloudStackClient) -> None:
    sim.job_seconds = 30
    started = await tenant.call("deployVirtualMachine", **catalog())
    begun = time.monotonic()
    with pytest.raises(CloudStackJobTimeout) as info:
        await tenant.wait_for_job(started["jobid"], timeout=0.3, poll=0.05)
    assert 0.3 <= time.monotonic() - begun < 1.0
    assert info.value.jobid == started["jobid"] and info.value.errorcode == 0


async def test_an_empty_list_is_an_empty_object(admin: CloudStackClient) -> None:
    assert await admin.call("listVirtualMachines") == {}
    assert await admin.list_all("listVirtualMachines", "virtualmachine") == []


async def test_no_secrets_or_signatures_in_logs(sim: CloudStackSimulator,
                                                caplog: pytest.LogCaptureFixture) -> None:
    _, user, keys = sim.add_tenant("acme", "alice")
    caplog.set_level(logging.DEBUG)
    async with make_client(sim) as api:
        await api.call("getUserKeys", id=user.id)
        with pytest.raises(CloudStackError):
            await api.call("getUser", userapikey="unknown")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "getUserKeys" in text  # the calls are logged...
    for secret in (keys.secret_key, sim.admin_keys.secret_key, "signature="):
        assert secret not in text  # ...their secrets are not


async def test_close_ends_the_session(sim: CloudStackSimulator) -> None:
    api = make_client(sim)
    async with api:
        await api.call("listZones")
        session = api._session
        assert session is not None and not session.closed
    assert session.closed
