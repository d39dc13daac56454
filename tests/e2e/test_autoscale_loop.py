"""The whole loop, end to end: a metric breaches, an alarm fires, a VM appears in CloudStack.

Real boto3 clients (CloudWatch json, Auto Scaling query) over HTTP against the real stack, whose
auth service looks tenants' keys up in the CloudStack simulator and whose autoscale service runs
its groups' VMs there with the admin (service account) keys. What exists is read back from
CloudStack itself: ``listVirtualMachines`` and ``listLoadBalancerRuleInstances`` signed with the
*tenant's* keys, as the ``cs`` client would call them.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.autoscale.actuators.webhook import sign_payload
from stackwatch.cloudstack import CloudStackClient, Keys, SimulatorThread
from tests.e2e.clients import autoscaling, cloudwatch
from tests.e2e.stack import Stack

TIMEOUT = 120.0  # two shared cores: generous


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    with SimulatorThread(job_seconds=0.2) as s:
        yield s


@pytest.fixture(scope="module")
def loop_stack(sim: Any, e2e_store_url: str, tmp_path_factory: Any) -> Iterator[Stack]:
    admin = sim.admin_keys
    cs = {"cloudstack_url": sim.endpoint, "cloudstack_api_key": admin.api_key,
          "cloudstack_secret_key": admin.secret_key}
    s = Stack(e2e_store_url, "e2e_loop_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("loop-stack"),
              auth={**cs, "cache_ttl": 60.0}, autoscale={
                  **cs, "cloudstack_job_poll": 0.1, "reconcile_interval": 2.0, "settle_interval": 0.3,
                  "scan_interval": 5.0, "target_tracking_period": 10}).start()
    yield s
    s.stop()


def _wait(what: str, check: Callable[[], Any], timeout: float = TIMEOUT, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _cs(sim: Any, keys: Keys, command: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """A CloudStack list call signed with ``keys`` (what the tenant's ``cs`` client would see)."""
    async def call() -> list[dict[str, Any]]:
        async with CloudStackClient(sim.endpoint, keys.api_key, keys.secret_key, timeout=5) as client:
            return await client.list_all(command, key, **params)
    return asyncio.run(call())


def _running(sim: Any, keys: Keys) -> list[dict[str, Any]]:
    return [vm for vm in _cs(sim, keys, "listVirtualMachines", "virtualmachine")
            if vm["state"] in ("Starting", "Running")]


class Tenant:
    """A CloudStack account with its keys and its AWS clients on the stack."""

    def __init__(self, sim: Any, stack: Stack, name: str, root: Any) -> None:
        self.account, _, self.keys = sim.add_tenant(f"{name}-{uuid.uuid4().hex[:6]}")
        self.asg = autoscaling(stack.endpoint, self.keys.api_key, self.keys.secret_key)
        self.cw = cloudwatch(stack.endpoint, "json", self.keys.api_key, self.keys.secret_key, root)
        state = sim.state
        self.template, self.offering, self.zone = next(iter(state.templates)), next(iter(state.serviceofferings)), \
            state.zone.id

    def group(self, name: str, *, lb: str | None = None, tags: list[dict[str, Any]] | None = None,
              **sizes: int) -> str:
        lc = f"lc-{name}"
        self.asg.create_launch_configuration(LaunchConfigurationName=lc, ImageId=self.template,
                                             InstanceType=self.offering, UserData="IyEvYmluL3NoCmVjaG8gaGkK")
        params: dict[str, Any] = {"AutoScalingGroupName": name, "LaunchConfigurationName": lc,
                                  "AvailabilityZones": [self.zone], "DefaultCooldown": 0, **sizes}
        if lb:
            params["LoadBalancerNames"] = [lb]
        if tags:
            params["Tags"] = tags
        self.asg.create_auto_scaling_group(**params)
        return name


@pytest.fixture
def tenant(sim: Any, loop_stack: Stack, tmp_path_factory: Any) -> Tenant:
    return Tenant(sim, loop_stack, "acme", tmp_path_factory.getbasetemp())


def _points(cw: Any, ns: str, value: float, ages: tuple[int, ...] = (0,)) -> None:
    now = datetime.now(UTC)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "Load", "Timestamp": now - timedelta(seconds=s), "Value": value, "StorageResolution": 1}
        for s in ages])


def test_breach_scales_out_into_the_lb_rule_and_recovery_scales_in(sim: Any, tenant: Tenant) -> None:
    rule = sim.state.add_lb_rule(tenant.account, "web")
    group = tenant.group("web", lb=rule.id, MinSize=1, MaxSize=3)
    # the group's first VM, in the tenant's own account and in its load balancer rule
    [vm] = _wait("the first VM", lambda: [v for v in _running(sim, tenant.keys) if v["state"] == "Running"])
    assert vm["account"] == tenant.account.name and vm["name"].startswith("as-")
    _wait("the VM in the LB rule", lambda: [m["id"] for m in _cs(
        sim, tenant.keys, "listLoadBalancerRuleInstances", "loadbalancerruleinstance", id=rule.id)] == [vm["id"]])
    [instance] = _wait("the instance InService", lambda: [
        i for i in tenant.asg.describe_auto_scaling_instances()["AutoScalingInstances"]
        if i["LifecycleState"] == "InService"])
    assert (instance["InstanceId"], instance["AutoScalingGroupName"], instance["HealthStatus"]) == (
        vm["id"], group, "HEALTHY")

    up = tenant.asg.put_scaling_policy(
        AutoScalingGroupName=group, PolicyName="up", PolicyType="StepScaling", MetricAggregationType="Maximum",
        EstimatedInstanceWarmup=0, StepAdjustments=[{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
        AdjustmentType="ChangeInCapacity")["PolicyARN"]
    down = tenant.asg.put_scaling_policy(AutoScalingGroupName=group, PolicyName="down", PolicyType="SimpleScaling",
                                         AdjustmentType="ChangeInCapacity", ScalingAdjustment=-1,
                                         Cooldown=0)["PolicyARN"]
    ns = f"App/{uuid.uuid4().hex[:8]}"
    _points(tenant.cw, ns, 500.0, (0, 5, 10, 15, 20))
    tenant.cw.put_metric_alarm(AlarmName="load-high", Namespace=ns, MetricName="Load", Statistic="Maximum",
                               Period=10, EvaluationPeriods=1, Threshold=100.0,
                               ComparisonOperator="GreaterThanThreshold", AlarmActions=[up], OKActions=[down])
    _wait("ALARM", lambda: tenant.cw.describe_alarms(AlarmNames=["load-high"])["MetricAlarms"][0]["StateValue"]
          == "ALARM")
    two = _wait("a second VM", lambda: len([v for v in _running(sim, tenant.keys) if v["state"] == "Running"]) == 2)
    assert two
    _wait("both VMs in the LB rule", lambda: len(_cs(
        sim, tenant.keys, "listLoadBalancerRuleInstances", "loadbalancerruleinstance", id=rule.id)) == 2)
    [g] = tenant.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
    assert g["DesiredCapacity"] == 2

    def recovered() -> bool:
        _points(tenant.cw, ns, 10.0)
        return len(_running(sim, tenant.keys)) == 1
    _wait("scale-in to one VM", recovered, every=2.0)
    assert tenant.cw.describe_alarms(AlarmNames=["load-high"])["MetricAlarms"][0]["StateValue"] == "OK"
    assert len(_cs(sim, tenant.keys, "listLoadBalancerRuleInstances", "loadbalancerruleinstance", id=rule.id)) == 1

    activities = tenant.asg.describe_scaling_activities(AutoScalingGroupName=group)["Activities"]
    launches = [a for a in activities if a["Description"].startswith("Launching a new VM")]
    terminations = [a for a in activities if a["Description"].startswith("Terminating VM")]
    assert len(launches) == 2 and all(a["StatusCode"] == "Successful" and a["Progress"] == 100 for a in launches)
    assert len(terminations) == 1 and terminations[0]["StatusCode"] == "Successful"
    assert "increasing the capacity from 1 to 2" in launches[0]["Cause"]


def test_terminate_instance_replaces_or_shrinks(sim: Any, tenant: Tenant) -> None:
    group = tenant.group("pool", MinSize=1, MaxSize=3, DesiredCapacity=2)
    _wait("two InService", lambda: len([i for i in tenant.asg.describe_auto_scaling_instances()[
        "AutoScalingInstances"] if i["LifecycleState"] == "InService"]) == 2)
    first = sorted(v["id"] for v in _running(sim, tenant.keys))
    answer = tenant.asg.terminate_instance_in_auto_scaling_group(InstanceId=first[0],
                                                                ShouldDecrementDesiredCapacity=False)
    assert answer["Activity"]["StatusCode"] == "InProgress"
    _wait("a replacement", lambda: (ids := {v["id"] for v in _running(sim, tenant.keys)}) and first[0] not in ids
          and len(ids) == 2)
    _wait("the activity done", lambda: tenant.asg.describe_scaling_activities(
        ActivityIds=[answer["Activity"]["ActivityId"]])["Activities"][0]["StatusCode"] == "Successful")
    victim = sorted(v["id"] for v in _running(sim, tenant.keys))[0]
    _wait("its row InService", lambda: victim in {i["InstanceId"] for i in tenant.asg.describe_auto_scaling_instances()[
        "AutoScalingInstances"]})
    tenant.asg.terminate_instance_in_auto_scaling_group(InstanceId=victim, ShouldDecrementDesiredCapacity=True)
    _wait("one VM left", lambda: [v["id"] for v in _running(sim, tenant.keys)] not in ([], None)
          and len(_running(sim, tenant.keys)) == 1 and victim not in {v["id"] for v in _running(sim, tenant.keys)})
    [g] = tenant.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
    assert g["DesiredCapacity"] == 1
    with pytest.raises(ClientError) as e:  # at min size, decrementing is refused
        tenant.asg.terminate_instance_in_auto_scaling_group(
            InstanceId=_running(sim, tenant.keys)[0]["id"], ShouldDecrementDesiredCapacity=True)
    assert e.value.response["Error"]["Code"] == "ValidationError"


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.seen.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_group_receives_signed_desired_capacity(sim: Any, tenant: Tenant) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/capacity"
        secret = "s3cret-" + uuid.uuid4().hex
        group = tenant.group("heap", MinSize=1, MaxSize=5, DesiredCapacity=2, tags=[
            {"Key": "stackwatch:webhook-url", "Value": url}, {"Key": "stackwatch:webhook-secret", "Value": secret}])

        def told(n: int) -> Any:
            return [(h, b) for h, b in _Receiver.seen if json.loads(b)["group"] == group
                    and json.loads(b)["desired"] == n]
        [(headers, body)] = _wait("the first hand-over", lambda: told(2))
        assert headers["X-StackWatch-Signature"] == sign_payload(secret, int(headers["X-StackWatch-Timestamp"]), body)
        assert json.loads(body)["previous"] == 0
        tenant.asg.set_desired_capacity(AutoScalingGroupName=group, DesiredCapacity=4)
        [(_, body)] = _wait("the change", lambda: told(4))
        assert json.loads(body)["previous"] == 2
        assert _running(sim, tenant.keys) == []  # a webhook group runs no VM
        activities = tenant.asg.describe_scaling_activities(AutoScalingGroupName=group)["Activities"]
        assert any(a["Description"].startswith("Setting the capacity of webhook") and a["StatusCode"] == "Successful"
                   for a in activities)
    finally:
        server.shutdown()


def test_tenant_isolation(sim: Any, loop_stack: Stack, tmp_path_factory: Any) -> None:
    a = Tenant(sim, loop_stack, "iso-a", tmp_path_factory.getbasetemp())
    b = Tenant(sim, loop_stack, "iso-b", tmp_path_factory.getbasetemp())
    a.group("web", MinSize=1, MaxSize=2)
    [vm_a] = _wait("A's VM", lambda: [v for v in _running(sim, a.keys) if v["state"] == "Running"])
    b.group("web", MinSize=2, MaxSize=2)  # the same group name in another account
    _wait("B's VMs", lambda: len([v for v in _running(sim, b.keys) if v["state"] == "Running"]) == 2)
    assert [v["id"] for v in _running(sim, a.keys)] == [vm_a["id"]]
    assert vm_a["id"] not in {v["id"] for v in _running(sim, b.keys)}
    assert {i["InstanceId"] for i in b.asg.describe_auto_scaling_instances()["AutoScalingInstances"]} \
        .isdisjoint({vm_a["id"]})
    with pytest.raises(ClientError) as e:  # B can neither see nor drive A's instance
        b.asg.terminate_instance_in_auto_scaling_group(InstanceId=vm_a["id"], ShouldDecrementDesiredCapacity=False)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    b.asg.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, DesiredCapacity=0)
    _wait("B's VMs gone", lambda: _running(sim, b.keys) == [])
    assert [v["id"] for v in _running(sim, a.keys)] == [vm_a["id"]]


def test_target_tracking_owns_its_alarms_and_scales(sim: Any, tenant: Tenant) -> None:
    group = tenant.group("tt", MinSize=1, MaxSize=3)
    ns = f"App/{uuid.uuid4().hex[:8]}"
    metric = {"MetricName": "Load", "Namespace": ns, "Statistic": "Average",
              "Dimensions": [{"Name": "Group", "Value": group}]}
    answer = tenant.asg.put_scaling_policy(
        AutoScalingGroupName=group, PolicyName="track", PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=0,
        TargetTrackingConfiguration={"TargetValue": 50.0, "CustomizedMetricSpecification": metric})
    names = sorted(a["AlarmName"] for a in answer["Alarms"])
    assert len(names) == 2
    assert re.fullmatch(rf"TargetTracking-{group}-AlarmHigh-[0-9a-f-]{{36}}", names[0])
    assert re.fullmatch(rf"TargetTracking-{group}-AlarmLow-[0-9a-f-]{{36}}", names[1])
    [policy] = tenant.asg.describe_policies(AutoScalingGroupName=group)["ScalingPolicies"]
    assert sorted(a["AlarmName"] for a in policy["Alarms"]) == names
    alarms = {a["AlarmName"]: a for a in tenant.cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high, low = alarms[names[0]], alarms[names[1]]
    assert (high["Threshold"], high["ComparisonOperator"], high["EvaluationPeriods"], high["Period"]) == (
        50.0, "GreaterThanThreshold", 3, 10)
    assert (low["Threshold"], low["ComparisonOperator"], low["EvaluationPeriods"]) == (45.0, "LessThanThreshold", 15)
    assert high["AlarmActions"] == low["AlarmActions"] == [answer["PolicyARN"]]
    _wait("the first VM", lambda: len(_running(sim, tenant.keys)) == 1)

    def scaled() -> bool:  # load 150 for a target of 50: three times the capacity, capped at max 3
        tenant.cw.put_metric_data(Namespace=ns, MetricData=[{
            "MetricName": "Load", "Dimensions": [{"Name": "Group", "Value": group}], "Value": 150.0,
            "StorageResolution": 1}])
        return len([v for v in _running(sim, tenant.keys) if v["state"] == "Running"]) == 3
    _wait("target tracking to scale out to 3", scaled, every=2.0, timeout=180)
    tenant.asg.delete_policy(AutoScalingGroupName=group, PolicyName="track")
    assert tenant.cw.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
