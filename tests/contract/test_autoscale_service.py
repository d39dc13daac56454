# ruff: noqa: D103 - test names say what each test checks
"""The autoscale service over a real grpc.aio server, called as the alarm service calls it.

ExecutePolicy from an alarm action carries an idempotency key and the alarm's StateReasonData:
a retried delivery must change nothing and return the first result; a step policy picks its step
from the reason data; a simple policy waits out its cooldown. Time is a fake clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest

from services.autoscale.main import running
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.config import AutoscaleSettings
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.autoscale.v1 import autoscale_pb2 as pb
from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc
from stackwatch.rpc import TokenSigner, error_from_rpc, principal_metadata

KEY = b"contract-test-internal-key-00000"
NOW = 1_714_564_800
A = auth_pb2.Principal(account_id="1b7c7f1e-0000-4000-8000-00000000a5a1", user="stackwatch-alarm",
                       account_number="000000000051")
B = auth_pb2.Principal(account_id="1b7c7f1e-0000-4000-8000-00000000b5b2", user="eve", account_number="000000000052")
ALARM = "arn:aws:cloudwatch:us-east-1:000000000051:alarm:high-cpu"


@dataclass
class Service:
    """A stub on the running service, the metadata of two tenants and the clock."""

    stub: autoscale_pb2_grpc.AutoscaleServiceStub
    a: tuple[tuple[str, str], ...]
    b: tuple[tuple[str, str], ...]
    clock: FakeClock


@pytest.fixture
async def service(chdb_url: str) -> AsyncIterator[Service]:
    clock = FakeClock(NOW)
    settings = AutoscaleSettings(bind="127.0.0.1:0", store_url=chdb_url, database=f"contract_{uuid.uuid4().hex[:12]}")
    async with running(settings, KEY, clock=clock) as handle:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
        signer = TokenSigner(KEY, clock)
        s = Service(autoscale_pb2_grpc.AutoscaleServiceStub(channel), principal_metadata(signer.issue(A)),
                    principal_metadata(signer.issue(B)), clock)
        await s.stub.CreateLaunchConfiguration(pb.CreateLaunchConfigurationRequest(
            launch_configuration=pb.LaunchConfiguration(name="lc", image_id="t", instance_type="o")), metadata=s.a)
        await s.stub.CreateAutoScalingGroup(pb.CreateAutoScalingGroupRequest(group=pb.AutoScalingGroup(
            name="web", min_size=1, max_size=5, desired_capacity=1, launch_configuration_name="lc",
            default_cooldown=300, has_default_cooldown=True), has_desired_capacity=True), metadata=s.a)
        yield s
        await channel.close()


async def _desired(s: Service) -> int:
    r = await s.stub.DescribeAutoScalingGroups(pb.DescribeAutoScalingGroupsRequest(names=["web"]), metadata=s.a)
    return int(r.groups[0].desired_capacity)


def _reason(value: float, threshold: float = 50.0) -> str:
    return json.dumps({"version": "1.0", "threshold": threshold, "recentDatapoints": [value]})


async def test_a_retried_alarm_invocation_is_a_no_op_returning_the_first_result(service: Service) -> None:
    put = await service.stub.PutScalingPolicy(pb.PutScalingPolicyRequest(policy=pb.ScalingPolicy(
        auto_scaling_group_name="web", policy_name="up", policy_type="StepScaling", adjustment_type="ChangeInCapacity",
        step_adjustments=[pb.StepAdjustment(metric_interval_lower_bound=0, metric_interval_upper_bound=10,
                                            scaling_adjustment=1),
                          pb.StepAdjustment(metric_interval_lower_bound=10, scaling_adjustment=3)],
        estimated_instance_warmup=0, enabled=True)), metadata=service.a)
    request = pb.ExecutePolicyRequest(auto_scaling_group_name="web", policy_name=put.policy_arn,
                                      state_reason_data=_reason(65.0), idempotency_key=f"{ALARM}#2024-05-01T12:00:00Z")
    first = await service.stub.ExecutePolicy(request, metadata=service.a)
    assert (first.desired_capacity, first.duplicate, bool(first.activity_id)) == (4, False, True)
    service.clock.advance(60)
    again = await service.stub.ExecutePolicy(request, metadata=service.a)
    assert (again.desired_capacity, again.activity_id, again.duplicate) == (4, first.activity_id, True)
    assert await _desired(service) == 4
    acts = await service.stub.DescribeScalingActivities(pb.DescribeScalingActivitiesRequest(), metadata=service.a)
    assert len(acts.activities) == 2  # the group's creation and one execution
    assert acts.activities[0].cause.endswith(
        "a monitor alarm high-cpu in state ALARM triggered policy up changing the desired capacity from 1 to 4.")


async def test_alarm_invocations_of_a_simple_policy_wait_out_the_cooldown(service: Service) -> None:
    put = await service.stub.PutScalingPolicy(pb.PutScalingPolicyRequest(policy=pb.ScalingPolicy(
        auto_scaling_group_name="web", policy_name="up", policy_type="SimpleScaling",
        adjustment_type="ChangeInCapacity", scaling_adjustment=1, cooldown=120, enabled=True)), metadata=service.a)

    async def invoke(key: str) -> pb.ExecutePolicyResponse:
        token = TokenSigner(KEY, service.clock).issue(A)  # the alarm service signs one per call
        return await service.stub.ExecutePolicy(pb.ExecutePolicyRequest(
            auto_scaling_group_name="web", policy_name=put.policy_arn, idempotency_key=f"{ALARM}#{key}"),
            metadata=principal_metadata(token))

    # the group's creation started the default 300 s cooldown
    skipped = await invoke("t0")
    assert skipped.desired_capacity == 1 and "cooldown" in skipped.skipped
    service.clock.advance(300)
    assert (await invoke("t300")).desired_capacity == 2
    service.clock.advance(119)
    assert (await invoke("t419")).desired_capacity == 2  # the policy's 120 s cooldown
    service.clock.advance(1)
    assert (await invoke("t420")).desired_capacity == 3


async def test_another_account_cannot_execute_a_policy(service: Service) -> None:
    put = await service.stub.PutScalingPolicy(pb.PutScalingPolicyRequest(policy=pb.ScalingPolicy(
        auto_scaling_group_name="web", policy_name="up", scaling_adjustment=1, enabled=True)), metadata=service.a)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await service.stub.ExecutePolicy(pb.ExecutePolicyRequest(
            auto_scaling_group_name="web", policy_name=put.policy_arn, idempotency_key="k"), metadata=service.b)
    assert isinstance(error_from_rpc(info.value), errors.ValidationError)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await service.stub.ExecutePolicy(pb.ExecutePolicyRequest(auto_scaling_group_name="web", policy_name="up"))
    assert isinstance(error_from_rpc(info.value), errors.MissingAuthenticationToken)
    assert await _desired(service) == 1
