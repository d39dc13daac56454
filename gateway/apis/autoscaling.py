"""Auto Scaling's operations: AWS params -> autoscale proto -> AutoscaleService -> AWS result dict.

The shape of :mod:`gateway.apis.alarms`: one small entry per operation, no validation or
semantics beyond naming (the model's constraints are checked by the codec, AWS's rules by the
service). CloudStack things travel in AWS's fields::

    ImageId                    CloudStack template UUID
    InstanceType               CloudStack service offering UUID
    AvailabilityZones[0]       CloudStack zone UUID
    VPCZoneIdentifier          CloudStack network UUIDs, comma-separated
    LoadBalancerNames          CloudStack load balancer rule UUIDs (TargetGroupARNs are added to them)
    SecurityGroups, KeyName    CloudStack security groups and SSH key pair

Routed by ``gateway.app`` under the ``autoscaling`` signing name (query protocol only).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.calls import Call
from stackwatch.proto.autoscale.v1 import autoscale_pb2 as pb

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result]]


def _seconds(ms: int) -> float:
    return ms / 1000


def _paging(params: Params, request: Any) -> None:
    if "MaxRecords" in params:
        request.max_records = params["MaxRecords"]
    if "NextToken" in params:
        request.next_token = params["NextToken"]


def _next(result: Result, response: Any) -> Result:
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


async def create_launch_configuration(call: Call, params: Params) -> Result:
    """CreateLaunchConfiguration."""
    lc = pb.LaunchConfiguration(
        name=params["LaunchConfigurationName"], image_id=params.get("ImageId", ""),
        instance_type=params.get("InstanceType", ""), user_data=params.get("UserData", ""),
        key_name=params.get("KeyName", ""), security_groups=params.get("SecurityGroups", []))
    await call.autoscale("CreateLaunchConfiguration", pb.CreateLaunchConfigurationRequest(launch_configuration=lc),
                         idempotent=False)
    return {}


async def describe_launch_configurations(call: Call, params: Params) -> Result:
    """DescribeLaunchConfigurations."""
    request = pb.DescribeLaunchConfigurationsRequest(names=params.get("LaunchConfigurationNames", []))
    _paging(params, request)
    response = await call.autoscale("DescribeLaunchConfigurations", request)
    out = []
    for lc in response.launch_configurations:
        item: Result = {"LaunchConfigurationName": lc.name, "LaunchConfigurationARN": lc.arn, "ImageId": lc.image_id,
                        "InstanceType": lc.instance_type, "SecurityGroups": list(lc.security_groups),
                        "CreatedTime": _seconds(lc.created_ms)}
        if lc.key_name:
            item["KeyName"] = lc.key_name
        if lc.user_data:
            item["UserData"] = lc.user_data
        out.append(item)
    return _next({"LaunchConfigurations": out}, response)


async def delete_launch_configuration(call: Call, params: Params) -> Result:
    """DeleteLaunchConfiguration."""
    await call.autoscale("DeleteLaunchConfiguration",
                         pb.DeleteLaunchConfigurationRequest(name=params["LaunchConfigurationName"]), idempotent=False)
    return {}


def _networks(params: Params) -> list[str]:
    return [n.strip() for n in params.get("VPCZoneIdentifier", "").split(",") if n.strip()]


async def create_auto_scaling_group(call: Call, params: Params) -> Result:
    """CreateAutoScalingGroup."""
    g = pb.AutoScalingGroup(
        name=params["AutoScalingGroupName"], min_size=params["MinSize"], max_size=params["MaxSize"],
        desired_capacity=params.get("DesiredCapacity", 0),
        launch_configuration_name=params.get("LaunchConfigurationName", ""),
        zone_id=(params.get("AvailabilityZones") or [""])[0], network_ids=_networks(params),
        load_balancer_rule_ids=params.get("LoadBalancerNames", []) + params.get("TargetGroupARNs", []),
        tags=[pb.Tag(key=t["Key"], value=t.get("Value", ""), propagate_at_launch=t.get("PropagateAtLaunch", False))
              for t in params.get("Tags", [])],
        health_check_type=params.get("HealthCheckType", "EC2"),
        health_check_grace_period=params.get("HealthCheckGracePeriod", 0),
        default_cooldown=params.get("DefaultCooldown", 300), has_default_cooldown=True)
    await call.autoscale("CreateAutoScalingGroup", pb.CreateAutoScalingGroupRequest(
        group=g, has_desired_capacity="DesiredCapacity" in params), idempotent=False)
    return {}


async def update_auto_scaling_group(call: Call, params: Params) -> Result:
    """UpdateAutoScalingGroup (only the members sent change)."""
    request = pb.UpdateAutoScalingGroupRequest(name=params["AutoScalingGroupName"])
    for key, field in (("MinSize", "min_size"), ("MaxSize", "max_size"), ("DesiredCapacity", "desired_capacity"),
                       ("DefaultCooldown", "default_cooldown"),
                       ("LaunchConfigurationName", "launch_configuration_name"),
                       ("HealthCheckGracePeriod", "health_check_grace_period"),
                       ("HealthCheckType", "health_check_type")):
        if key in params:
            setattr(request, field, params[key])
    await call.autoscale("UpdateAutoScalingGroup", request, idempotent=False)
    return {}


async def delete_auto_scaling_group(call: Call, params: Params) -> Result:
    """DeleteAutoScalingGroup."""
    await call.autoscale("DeleteAutoScalingGroup", pb.DeleteAutoScalingGroupRequest(
        name=params["AutoScalingGroupName"], force_delete=params.get("ForceDelete", False)), idempotent=False)
    return {}


def _instance(i: pb.Instance, with_group: bool) -> Result:
    out: Result = {"InstanceId": i.instance_id}
    if with_group:
        out["AutoScalingGroupName"] = i.auto_scaling_group_name
    out.update({"AvailabilityZone": i.zone_id, "LifecycleState": i.lifecycle_state,
                # AWS spells it HEALTHY in DescribeAutoScalingInstances, Healthy in a group's Instances
                "HealthStatus": i.health_status.upper() if with_group else i.health_status,
                "LaunchConfigurationName": i.launch_configuration_name,
                "ProtectedFromScaleIn": i.protected_from_scale_in})
    return out


def _group(g: pb.AutoScalingGroup) -> Result:
    out: Result = {
        "AutoScalingGroupName": g.name, "AutoScalingGroupARN": g.arn,
        "LaunchConfigurationName": g.launch_configuration_name, "MinSize": g.min_size, "MaxSize": g.max_size,
        "DesiredCapacity": g.desired_capacity, "DefaultCooldown": g.default_cooldown,
        "AvailabilityZones": [g.zone_id] if g.zone_id else [], "LoadBalancerNames": list(g.load_balancer_rule_ids),
        "TargetGroupARNs": [], "HealthCheckType": g.health_check_type,
        "HealthCheckGracePeriod": g.health_check_grace_period,
        "Instances": [_instance(i, False) for i in g.instances],
        "CreatedTime": g.created_time.seconds + g.created_time.nanos / 1e9,
        "SuspendedProcesses": [{"ProcessName": p.process_name, "SuspensionReason": p.suspension_reason}
                               for p in g.suspended_processes],
        "Tags": [{"ResourceId": g.name, "ResourceType": "auto-scaling-group", "Key": t.key, "Value": t.value,
                  "PropagateAtLaunch": t.propagate_at_launch} for t in g.tags],
        "TerminationPolicies": ["Default"], "NewInstancesProtectedFromScaleIn": False}
    if g.network_ids:
        out["VPCZoneIdentifier"] = ",".join(g.network_ids)
    return out


async def describe_auto_scaling_groups(call: Call, params: Params) -> Result:
    """DescribeAutoScalingGroups."""
    request = pb.DescribeAutoScalingGroupsRequest(names=params.get("AutoScalingGroupNames", []))
    _paging(params, request)
    response = await call.autoscale("DescribeAutoScalingGroups", request)
    return _next({"AutoScalingGroups": [_group(g) for g in response.groups]}, response)


async def describe_auto_scaling_instances(call: Call, params: Params) -> Result:
    """DescribeAutoScalingInstances."""
    request = pb.DescribeAutoScalingInstancesRequest(instance_ids=params.get("InstanceIds", []))
    _paging(params, request)
    response = await call.autoscale("DescribeAutoScalingInstances", request)
    return _next({"AutoScalingInstances": [_instance(i, True) for i in response.instances]}, response)


async def set_desired_capacity(call: Call, params: Params) -> Result:
    """SetDesiredCapacity."""
    await call.autoscale("SetDesiredCapacity", pb.SetDesiredCapacityRequest(
        name=params["AutoScalingGroupName"], desired_capacity=params["DesiredCapacity"],
        honor_cooldown=params.get("HonorCooldown", False)), idempotent=False)
    return {}


_POLICY_SCALARS = (("AdjustmentType", "adjustment_type"), ("ScalingAdjustment", "scaling_adjustment"),
                   ("MinAdjustmentMagnitude", "min_adjustment_magnitude"), ("Cooldown", "cooldown"),
                   ("MetricAggregationType", "metric_aggregation_type"),
                   ("EstimatedInstanceWarmup", "estimated_instance_warmup"))


async def put_scaling_policy(call: Call, params: Params) -> Result:
    """PutScalingPolicy."""
    p = pb.ScalingPolicy(auto_scaling_group_name=params["AutoScalingGroupName"], policy_name=params["PolicyName"],
                         policy_type=params.get("PolicyType", "SimpleScaling"), enabled=params.get("Enabled", True))
    for key, field in _POLICY_SCALARS:
        if key in params:
            setattr(p, field, params[key])
    for s in params.get("StepAdjustments", []):
        step = p.step_adjustments.add(scaling_adjustment=s["ScalingAdjustment"])
        if "MetricIntervalLowerBound" in s:
            step.metric_interval_lower_bound = s["MetricIntervalLowerBound"]
        if "MetricIntervalUpperBound" in s:
            step.metric_interval_upper_bound = s["MetricIntervalUpperBound"]
    if "TargetTrackingConfiguration" in params:
        tt = params["TargetTrackingConfiguration"]
        predefined = tt.get("PredefinedMetricSpecification") or {}
        custom = tt.get("CustomizedMetricSpecification")
        p.target_tracking.CopyFrom(pb.TargetTrackingConfiguration(
            target_value=tt["TargetValue"], predefined_metric_type=predefined.get("PredefinedMetricType", ""),
            resource_label=predefined.get("ResourceLabel", ""),
            customized_metric_json=json.dumps(custom, sort_keys=True) if custom else "",
            disable_scale_in=tt.get("DisableScaleIn", False)))
    response = await call.autoscale("PutScalingPolicy", pb.PutScalingPolicyRequest(policy=p), idempotent=False)
    return {"PolicyARN": response.policy_arn,
            "Alarms": [{"AlarmName": a.rsplit(":alarm:", 1)[-1], "AlarmARN": a} for a in response.alarm_arns]}


def _policy(p: pb.ScalingPolicy) -> Result:
    out: Result = {"AutoScalingGroupName": p.auto_scaling_group_name, "PolicyName": p.policy_name,
                   "PolicyARN": p.policy_arn, "PolicyType": p.policy_type}
    for key, field in _POLICY_SCALARS:
        if p.HasField(field):
            out[key] = getattr(p, field)
    out["StepAdjustments"] = []
    for s in p.step_adjustments:
        step: Result = {"ScalingAdjustment": s.scaling_adjustment}
        if s.HasField("metric_interval_lower_bound"):
            step["MetricIntervalLowerBound"] = s.metric_interval_lower_bound
        if s.HasField("metric_interval_upper_bound"):
            step["MetricIntervalUpperBound"] = s.metric_interval_upper_bound
        out["StepAdjustments"].append(step)
    out["Alarms"] = [{"AlarmName": a.rsplit(":alarm:", 1)[-1], "AlarmARN": a} for a in p.alarm_arns]
    if p.HasField("target_tracking"):
        t = p.target_tracking
        tt: Result = {"TargetValue": t.target_value, "DisableScaleIn": t.disable_scale_in}
        if t.predefined_metric_type:
            tt["PredefinedMetricSpecification"] = {"PredefinedMetricType": t.predefined_metric_type}
            if t.resource_label:
                tt["PredefinedMetricSpecification"]["ResourceLabel"] = t.resource_label
        if t.customized_metric_json:
            tt["CustomizedMetricSpecification"] = json.loads(t.customized_metric_json)
        out["TargetTrackingConfiguration"] = tt
    out["Enabled"] = p.enabled
    return out


async def describe_policies(call: Call, params: Params) -> Result:
    """DescribePolicies."""
    request = pb.DescribePoliciesRequest(policy_names=params.get("PolicyNames", []),
                                         policy_types=params.get("PolicyTypes", []))
    if "AutoScalingGroupName" in params:
        request.auto_scaling_group_name = params["AutoScalingGroupName"]
    _paging(params, request)
    response = await call.autoscale("DescribePolicies", request)
    return _next({"ScalingPolicies": [_policy(p) for p in response.policies]}, response)


async def delete_policy(call: Call, params: Params) -> Result:
    """DeletePolicy."""
    await call.autoscale("DeletePolicy", pb.DeletePolicyRequest(
        auto_scaling_group_name=params.get("AutoScalingGroupName", ""), policy_name=params["PolicyName"]),
        idempotent=False)
    return {}


async def execute_policy(call: Call, params: Params) -> Result:
    """ExecutePolicy (a user's: no idempotency key)."""
    request = pb.ExecutePolicyRequest(auto_scaling_group_name=params.get("AutoScalingGroupName", ""),
                                      policy_name=params["PolicyName"],
                                      honor_cooldown=params.get("HonorCooldown", False))
    for key, field in (("BreachThreshold", "breach_threshold"), ("MetricValue", "metric_value")):
        if key in params:
            setattr(request, field, params[key])
    await call.autoscale("ExecutePolicy", request, idempotent=False)
    return {}


def _activity(a: pb.Activity) -> Result:
    out: Result = {"ActivityId": a.activity_id, "AutoScalingGroupName": a.auto_scaling_group_name,
                   "Description": a.description, "Cause": a.cause, "StartTime": _seconds(a.start_ms),
                   "StatusCode": a.status_code, "Progress": a.progress, "Details": a.details,
                   "AutoScalingGroupARN": a.auto_scaling_group_arn}
    if a.end_ms:
        out["EndTime"] = _seconds(a.end_ms)
    if a.status_message:
        out["StatusMessage"] = a.status_message
    return out


async def describe_scaling_activities(call: Call, params: Params) -> Result:
    """DescribeScalingActivities."""
    request = pb.DescribeScalingActivitiesRequest(activity_ids=params.get("ActivityIds", []))
    if "AutoScalingGroupName" in params:
        request.auto_scaling_group_name = params["AutoScalingGroupName"]
    _paging(params, request)
    response = await call.autoscale("DescribeScalingActivities", request)
    return _next({"Activities": [_activity(a) for a in response.activities]}, response)


def _processes(suspend: bool) -> Handler:
    async def handler(call: Call, params: Params) -> Result:
        await call.autoscale("SetProcesses", pb.SetProcessesRequest(
            name=params["AutoScalingGroupName"], scaling_processes=params.get("ScalingProcesses", []),
            suspend=suspend))
        return {}

    handler.__doc__ = "SuspendProcesses." if suspend else "ResumeProcesses."
    return handler


async def terminate_instance(call: Call, params: Params) -> Result:
    """TerminateInstanceInAutoScalingGroup."""
    response = await call.autoscale("TerminateInstance", pb.TerminateInstanceRequest(
        instance_id=params["InstanceId"],
        should_decrement_desired_capacity=params["ShouldDecrementDesiredCapacity"]), idempotent=False)
    return {"Activity": _activity(response.activity)}


OPERATIONS: dict[str, Handler] = {
    "CreateLaunchConfiguration": create_launch_configuration,
    "DescribeLaunchConfigurations": describe_launch_configurations,
    "DeleteLaunchConfiguration": delete_launch_configuration,
    "CreateAutoScalingGroup": create_auto_scaling_group,
    "UpdateAutoScalingGroup": update_auto_scaling_group,
    "DeleteAutoScalingGroup": delete_auto_scaling_group,
    "DescribeAutoScalingGroups": describe_auto_scaling_groups,
    "DescribeAutoScalingInstances": describe_auto_scaling_instances,
    "SetDesiredCapacity": set_desired_capacity,
    "PutScalingPolicy": put_scaling_policy,
    "DescribePolicies": describe_policies,
    "DeletePolicy": delete_policy,
    "ExecutePolicy": execute_policy,
    "DescribeScalingActivities": describe_scaling_activities,
    "SuspendProcesses": _processes(True),
    "ResumeProcesses": _processes(False),
    "TerminateInstanceInAutoScalingGroup": terminate_instance,
}
