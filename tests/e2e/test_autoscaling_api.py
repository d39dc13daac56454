"""The Auto Scaling API end to end: a real boto3 ``autoscaling`` client (query protocol) over HTTP.

Launch configurations, groups and policies are created through the gateway and the autoscale
service, on the session's stack; no VM is deployed here (that is the reconciler's), so the
instance lists stay empty and the tests look at desired capacity, activities and errors.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stackwatch.domain.arn import account_number
from tests.e2e.clients import autoscaling
from tests.e2e.stack import TENANTS


@pytest.fixture
def asg(stack):
    """Tenant A's Auto Scaling client."""
    t = TENANTS["a"]
    return autoscaling(stack.endpoint, t["access_key_id"], t["secret_access_key"])


@pytest.fixture
def asg_b(stack):
    """Tenant B's Auto Scaling client."""
    t = TENANTS["b"]
    return autoscaling(stack.endpoint, t["access_key_id"], t["secret_access_key"])


def _name(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    e = exc.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


def _group(asg: Any, **extra: Any) -> str:
    lc, name = _name("lc"), _name("web")
    asg.create_launch_configuration(LaunchConfigurationName=lc, ImageId="tmpl-uuid", InstanceType="offering-uuid",
                                    KeyName="ops", SecurityGroups=["default"])
    params: dict[str, Any] = {"AutoScalingGroupName": name, "LaunchConfigurationName": lc, "MinSize": 1,
                              "MaxSize": 4, "DesiredCapacity": 1, "AvailabilityZones": ["zone-uuid"],
                              "VPCZoneIdentifier": "net-1,net-2", "LoadBalancerNames": ["lb-rule-uuid"],
                              "Tags": [{"Key": "team", "Value": "web", "PropagateAtLaunch": True}], **extra}
    asg.create_auto_scaling_group(**params)
    return name


def _desired(asg: Any, name: str) -> int:
    [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return int(g["DesiredCapacity"])


def test_a_group_is_described_as_auto_scaling_describes_it(asg):
    name = _group(asg, DefaultCooldown=120, HealthCheckGracePeriod=30)
    [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    number = account_number(TENANTS["a"]["account_id"])
    assert re.fullmatch(rf"arn:aws:autoscaling:us-east-1:{number}:autoScalingGroup:[0-9a-f-]{{36}}:"
                        rf"autoScalingGroupName/{name}", g["AutoScalingGroupARN"])
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"], g["DefaultCooldown"]) == (1, 4, 1, 120)
    assert (g["AvailabilityZones"], g["VPCZoneIdentifier"], g["LoadBalancerNames"]) == (
        ["zone-uuid"], "net-1,net-2", ["lb-rule-uuid"])
    assert g["Tags"] == [{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "team", "Value": "web",
                          "PropagateAtLaunch": True}]
    assert g["HealthCheckGracePeriod"] == 30 and g["Instances"] == []
    [lc] = asg.describe_launch_configurations(LaunchConfigurationNames=[g["LaunchConfigurationName"]])[
        "LaunchConfigurations"]
    assert (lc["ImageId"], lc["InstanceType"], lc["KeyName"], lc["SecurityGroups"]) == (
        "tmpl-uuid", "offering-uuid", "ops", ["default"])
    [activity] = asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]
    assert activity["Cause"].endswith("a user request created an AutoScalingGroup changing the desired capacity "
                                      "from 0 to 1.")


def test_execute_policy_moves_desired_capacity_within_bounds_and_honours_cooldown(asg):
    name = _group(asg, DefaultCooldown=3600)
    arn = asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="up", AdjustmentType="ChangeInCapacity",
                                 ScalingAdjustment=2)["PolicyARN"]
    number = account_number(TENANTS["a"]["account_id"])
    assert re.fullmatch(rf"arn:aws:autoscaling:us-east-1:{number}:scalingPolicy:[0-9a-f-]{{36}}:"
                        rf"autoScalingGroupName/{name}:policyName/up", arn)
    asg.execute_policy(AutoScalingGroupName=name, PolicyName="up")
    assert _desired(asg, name) == 3
    with pytest.raises(ClientError) as exc:
        asg.execute_policy(AutoScalingGroupName=name, PolicyName="up", HonorCooldown=True)
    assert _error(exc)[:2] == ("ScalingActivityInProgress", 400)
    assert _desired(asg, name) == 3
    asg.execute_policy(AutoScalingGroupName=name, PolicyName=arn)  # by ARN, cooldown not honoured: clamped
    assert _desired(asg, name) == 4
    causes = [a["Cause"] for a in asg.describe_scaling_activities(AutoScalingGroupName=name)["Activities"]]
    assert causes[0].endswith("a user request executed policy up changing the desired capacity from 3 to 4.")
    assert len(causes) == 3


def test_step_policy_picks_its_step_from_the_breach(asg):
    name = _group(asg)
    asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="steps", PolicyType="StepScaling",
                           AdjustmentType="ChangeInCapacity", StepAdjustments=[
                               {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
                               {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 2}])
    asg.execute_policy(AutoScalingGroupName=name, PolicyName="steps", BreachThreshold=50.0, MetricValue=65.0)
    assert _desired(asg, name) == 3
    [p] = asg.describe_policies(AutoScalingGroupName=name)["ScalingPolicies"]
    assert p["PolicyType"] == "StepScaling" and len(p["StepAdjustments"]) == 2
    with pytest.raises(ClientError) as exc:
        asg.execute_policy(AutoScalingGroupName=name, PolicyName="steps")
    assert _error(exc)[:2] == ("ValidationError", 400)


def test_errors_are_auto_scalings(asg):
    name = _group(asg)
    [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    with pytest.raises(ClientError) as exc:
        asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=g["LaunchConfigurationName"],
                                      MinSize=0, MaxSize=1)
    assert _error(exc) == ("AlreadyExists", 400, f"AutoScalingGroup by this name already exists - A group with the "
                                                 f"name {name} already exists")
    with pytest.raises(ClientError) as exc:
        asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=9)
    assert _error(exc) == ("ValidationError", 400,
                           "New SetDesiredCapacity value 9 is above max value 4 for the AutoScalingGroup.")
    with pytest.raises(ClientError) as exc:
        asg.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=5)
    assert _error(exc) == ("ValidationError", 400, "Max bound, 4, must be greater than or equal to min bound, 5")
    with pytest.raises(ClientError) as exc:
        asg.delete_launch_configuration(LaunchConfigurationName=g["LaunchConfigurationName"])
    assert _error(exc)[:2] == ("ResourceInUse", 400)
    with pytest.raises(ClientError) as exc:
        asg.delete_auto_scaling_group(AutoScalingGroupName=name)
    assert _error(exc)[:2] == ("ResourceInUse", 400)
    with pytest.raises(ClientError) as exc:
        asg.set_desired_capacity(AutoScalingGroupName="nope", DesiredCapacity=1)
    assert _error(exc) == ("ValidationError", 400, "AutoScalingGroup name not found - AutoScalingGroup nope not found")
    asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)
    assert asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"] == []
    asg.delete_launch_configuration(LaunchConfigurationName=g["LaunchConfigurationName"])


def test_suspend_and_resume_processes(asg):
    name = _group(asg)
    asg.suspend_processes(AutoScalingGroupName=name, ScalingProcesses=["Launch", "AlarmNotification"])
    [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert sorted(p["ProcessName"] for p in g["SuspendedProcesses"]) == ["AlarmNotification", "Launch"]
    asg.resume_processes(AutoScalingGroupName=name)
    [g] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert g["SuspendedProcesses"] == []


def test_another_tenant_can_neither_see_nor_drive_a_group(asg, asg_b):
    name = _group(asg)
    arn = asg.put_scaling_policy(AutoScalingGroupName=name, PolicyName="up", ScalingAdjustment=1,
                                 AdjustmentType="ChangeInCapacity")["PolicyARN"]
    assert asg_b.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"] == []
    assert asg_b.describe_policies()["ScalingPolicies"] == [] or all(
        p["PolicyARN"] != arn for p in asg_b.describe_policies()["ScalingPolicies"])
    for call in (lambda: asg_b.execute_policy(AutoScalingGroupName=name, PolicyName="up"),
                 lambda: asg_b.execute_policy(PolicyName=arn),
                 lambda: asg_b.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=3),
                 lambda: asg_b.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True)):
        with pytest.raises(ClientError) as exc:
            call()
        assert _error(exc)[:2] == ("ValidationError", 400)
    assert _desired(asg, name) == 1
