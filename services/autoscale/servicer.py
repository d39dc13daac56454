"""The AutoscaleService servicer: tenancy, protos <-> domain values, one lock around each change.

Thin by design (the gRPC route_guide shape): every decision is a call into
:mod:`services.autoscale.domain` with the stored values and the time; this module fetches them,
writes back what comes out, and turns protos into domain values and back.

Tenancy as the alarm servicer does it: the verified principal becomes a :class:`Tenant`, every
read and write is scoped by its account, and a group or policy of another account is answered
exactly as one that does not exist.

Changes to one account's groups are serialised by one lock (a read-decide-write of a group's
capacity must not interleave with another). ExecutePolicy with an idempotency key (alarm actions)
looks the key up first and returns the first call's result without acting again; the result is
recorded after the group, so a crash in between may run a retried invocation twice, which its
cooldown (simple) or warm-up (step) absorbs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeAlias

import grpc

from services.autoscale.alarms import PolicyAlarms
from services.autoscale.domain import LaunchConfiguration, ScalingProcess, Tag
from services.autoscale.domain import scaling as sc
from services.autoscale.domain.policies import (
    AdjustmentType,
    Breach,
    MetricAggregationType,
    PolicyType,
    ScalingPolicy,
    StepAdjustment,
    TargetTracking,
    breach_from_reason_data,
)
from services.autoscale.records import GroupRecord
from services.autoscale.store import AutoscaleStore, Instance
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.proto.autoscale.v1 import autoscale_pb2 as pb
from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, servicer_errors
from stackwatch.tenancy import Tenant

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
#: Most groups, launch configurations per account (AWS's default quotas).
MAX_GROUPS, MAX_LAUNCH_CONFIGURATIONS, MAX_POLICIES = 500, 200, 50


def group_not_found(name: str) -> errors.ServiceError:
    """The ValidationError AWS answers for a group that does not exist."""
    return errors.ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup {name} not found")


def _opt(message: Any, name: str) -> Any:
    return getattr(message, name) if message.HasField(name) else None


def _policy_from(p: pb.ScalingPolicy, arn: str) -> ScalingPolicy:
    tt = p.target_tracking if p.HasField("target_tracking") else None
    kind = _opt(p, "adjustment_type")
    aggregation = _opt(p, "metric_aggregation_type")
    try:
        policy_type = PolicyType(p.policy_type or "SimpleScaling")
        adjustment = AdjustmentType(kind) if kind else None
        metric_aggregation = MetricAggregationType(aggregation) if aggregation else None
    except ValueError as e:
        raise errors.ValidationError(str(e)) from None
    return ScalingPolicy(
        p.policy_name, p.auto_scaling_group_name, arn, policy_type, adjustment,
        _opt(p, "scaling_adjustment"), _opt(p, "min_adjustment_magnitude"), _opt(p, "cooldown"),
        tuple(StepAdjustment(s.scaling_adjustment, _opt(s, "metric_interval_lower_bound"),
                             _opt(s, "metric_interval_upper_bound")) for s in p.step_adjustments),
        metric_aggregation, _opt(p, "estimated_instance_warmup"),
        None if tt is None else TargetTracking(tt.target_value, tt.predefined_metric_type, tt.resource_label,
                                               tt.customized_metric_json, tt.disable_scale_in), p.enabled)


def _policy_message(p: ScalingPolicy) -> pb.ScalingPolicy:
    out = pb.ScalingPolicy(auto_scaling_group_name=p.group, policy_name=p.name, policy_arn=p.arn,
                           policy_type=str(p.policy_type), enabled=p.enabled, alarm_arns=list(p.alarm_arns))
    for field, value in (("adjustment_type", p.adjustment_type), ("scaling_adjustment", p.scaling_adjustment),
                         ("min_adjustment_magnitude", p.min_adjustment_magnitude), ("cooldown", p.cooldown),
                         ("metric_aggregation_type", p.metric_aggregation_type),
                         ("estimated_instance_warmup", p.estimated_instance_warmup)):
        if value is not None:
            setattr(out, field, str(value) if isinstance(value, str) else value)
    for s in p.step_adjustments:
        step = out.step_adjustments.add(scaling_adjustment=s.scaling_adjustment)
        if s.lower is not None:
            step.metric_interval_lower_bound = s.lower
        if s.upper is not None:
            step.metric_interval_upper_bound = s.upper
    if p.target_tracking is not None:
        t = p.target_tracking
        out.target_tracking.CopyFrom(pb.TargetTrackingConfiguration(
            target_value=t.target_value, predefined_metric_type=t.predefined_metric_type,
            resource_label=t.resource_label, customized_metric_json=t.customized_metric,
            disable_scale_in=t.disable_scale_in))
    return out


def _lc_message(lc: LaunchConfiguration, arn: str) -> pb.LaunchConfiguration:
    return pb.LaunchConfiguration(name=lc.name, image_id=lc.image_id, instance_type=lc.instance_type,
                                  zone_id=lc.zone_id, network_ids=list(lc.network_ids), user_data=lc.user_data,
                                  key_name=lc.key_name, security_groups=list(lc.security_groups),
                                  created_ms=lc.created_ms, arn=arn)


def _instance_message(i: Instance) -> pb.Instance:
    return pb.Instance(instance_id=i.instance_id, auto_scaling_group_name=i.group, lifecycle_state=i.lifecycle_state,
                       health_status=i.health_status, launch_configuration_name=i.launch_configuration,
                       zone_id=i.zone_id, protected_from_scale_in=i.protected)


def _activity_message(a: sc.Activity, group_arn: str = "") -> pb.Activity:
    return pb.Activity(activity_id=a.activity_id, auto_scaling_group_name=a.group, cause=a.cause,
                       description=a.description, status_code=str(a.status), start_ms=a.start_ms,
                       end_ms=a.end_ms or 0, progress=a.progress, status_message=a.status_message,
                       details=a.details, auto_scaling_group_arn=group_arn)


def _page(tenant: Tenant, items: list[Any], key: Any, size: int, token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` (ordered by ``key``) after the token's position, and the next token."""
    if token is not None:
        position = tenant.read_page_token(token)
        items = [i for i in items if key(i) > position[0]]
    if len(items) > size:
        return items[:size], tenant.page_token([key(items[size - 1])])
    return items, None


def _size(max_records: int, default: int, most: int) -> int:
    if max_records < 0 or max_records > most:
        raise errors.ValidationError(f"MaxRecords must be between 1 and {most}.")
    return max_records or default


class AutoscaleServicer(autoscale_pb2_grpc.AutoscaleServiceServicer):
    """AutoscaleService over an :class:`AutoscaleStore`.

    Args:
        store: the service's store.
        clock: the time.
        principals: verifies who each call acts for.
        region: the region in ARNs.
    """

    def __init__(self, store: AutoscaleStore, clock: Clock, principals: PrincipalVerifier, region: str,
                 changed: Callable[[str, str], None] | None = None, alarms: PolicyAlarms | None = None) -> None:
        self._store, self._clock, self._principals, self._region = store, clock, principals, region
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._on_change = changed
        self._alarms = alarms

    async def _drop_alarms(self, tenant: Tenant, policy: ScalingPolicy) -> None:
        """Delete the alarms a target tracking policy owns."""
        if policy.alarm_arns and self._alarms is not None and policy.policy_type is PolicyType.TARGET_TRACKING:
            await self._alarms.delete(tenant.account_id, policy.alarm_arns)

    def _changed(self, tenant: Tenant, group: str) -> None:
        """Tell the reconcilers a group was written (they plan again at once)."""
        if self._on_change is not None:
            self._on_change(tenant.account_id, group)

    async def _tenant(self, context: Context, request: Any, method: str) -> Tenant:
        return Tenant.of(await self._principals.require(context, request, method))

    def _now(self) -> int:
        return int(self._clock.now() * 1000)

    def _group_arn(self, tenant: Tenant, name: str) -> str:
        return tenant.arn("autoscaling", self._region,
                          f"autoScalingGroup:{uuid.uuid5(uuid.NAMESPACE_URL, tenant.account_id + '/' + name)}"
                          f":autoScalingGroupName/{name}")

    def _lc_arn(self, tenant: Tenant, name: str) -> str:
        return tenant.arn("autoscaling", self._region,
                          f"launchConfiguration:{uuid.uuid5(uuid.NAMESPACE_URL, tenant.account_id + '/lc/' + name)}"
                          f":launchConfigurationName/{name}")

    async def _group(self, tenant: Tenant, name: str) -> GroupRecord:
        found = await self._store.groups(tenant.account_id, [name])
        if not found:
            raise group_not_found(name)
        return found[0]

    async def _record(self, tenant: Tenant, group: GroupRecord, decision: sc.Decision, now: int) -> GroupRecord:
        new = dataclasses.replace(group, capacity=decision.capacity)
        await self._store.put_group(new, now)
        if decision.activity is not None:
            await self._store.put_activity(tenant.account_id, decision.activity, now)
        return new

    # launch configurations

    @servicer_errors
    async def CreateLaunchConfiguration(self, request: pb.CreateLaunchConfigurationRequest,
                                        context: Context) -> pb.CreateLaunchConfigurationResponse:
        """Create a launch configuration (AlreadyExists if the name is taken)."""
        tenant = await self._tenant(context, request, "CreateLaunchConfiguration")
        m, now = request.launch_configuration, self._now()
        if not m.image_id or not m.instance_type:
            raise errors.ValidationError("ImageId and InstanceType are required: a CloudStack template and "
                                         "service offering.")
        async with self._locks[tenant.account_id]:
            existing = await self._store.launch_configurations(tenant.account_id)
            if any(lc.name == m.name for lc in existing):
                raise errors.AlreadyExists(f"Launch Configuration by this name already exists - A launch "
                                           f"configuration already exists with the name {m.name}")
            if len(existing) >= MAX_LAUNCH_CONFIGURATIONS:
                raise errors.LimitExceeded(
                    f"Max number of launch configurations reached ({MAX_LAUNCH_CONFIGURATIONS}).")
            lc = LaunchConfiguration(m.name, m.image_id, m.instance_type, m.zone_id, tuple(m.network_ids),
                                     m.user_data, m.key_name, tuple(m.security_groups), now)
            await self._store.put_launch_configuration(tenant.account_id, lc, now)
        return pb.CreateLaunchConfigurationResponse()

    @servicer_errors
    async def DescribeLaunchConfigurations(self, request: pb.DescribeLaunchConfigurationsRequest,
                                           context: Context) -> pb.DescribeLaunchConfigurationsResponse:
        """The account's launch configurations, by name, paged."""
        tenant = await self._tenant(context, request, "DescribeLaunchConfigurations")
        found = await self._store.launch_configurations(tenant.account_id, list(request.names) or None)
        page, token = _page(tenant, found, lambda lc: lc.name, _size(request.max_records, 50, 100),
                            _opt(request, "next_token"))
        out = pb.DescribeLaunchConfigurationsResponse(
            launch_configurations=[_lc_message(lc, self._lc_arn(tenant, lc.name)) for lc in page])
        if token:
            out.next_token = token
        return out

    @servicer_errors
    async def DeleteLaunchConfiguration(self, request: pb.DeleteLaunchConfigurationRequest,
                                        context: Context) -> pb.DeleteLaunchConfigurationResponse:
        """Delete a launch configuration no group uses."""
        tenant = await self._tenant(context, request, "DeleteLaunchConfiguration")
        async with self._locks[tenant.account_id]:
            if not await self._store.launch_configurations(tenant.account_id, [request.name]):
                raise errors.ValidationError("Launch configuration name not found - Launch configuration "
                                             f"{request.name} not found")
            for g in await self._store.groups(tenant.account_id):
                if g.launch_configuration.name == request.name:
                    raise errors.ResourceInUse(f"Cannot delete launch configuration {request.name} because it is "
                                               f"attached to AutoScalingGroup {g.name}")
            await self._store.delete_launch_configuration(tenant.account_id, request.name, self._now())
        return pb.DeleteLaunchConfigurationResponse()

    # groups

    @servicer_errors
    async def CreateAutoScalingGroup(self, request: pb.CreateAutoScalingGroupRequest,
                                     context: Context) -> pb.CreateAutoScalingGroupResponse:
        """Create a group from a launch configuration of the account."""
        tenant = await self._tenant(context, request, "CreateAutoScalingGroup")
        g, now = request.group, self._now()
        async with self._locks[tenant.account_id]:
            existing = await self._store.groups(tenant.account_id)
            if any(x.name == g.name for x in existing):
                raise errors.AlreadyExists(
                    f"AutoScalingGroup by this name already exists - A group with the name {g.name} already exists")
            if len(existing) >= MAX_GROUPS:
                raise errors.LimitExceeded(f"You have reached your limit of {MAX_GROUPS} Auto Scaling groups.")
            lcs = await self._store.launch_configurations(tenant.account_id, [g.launch_configuration_name])
            if not lcs:
                raise errors.ValidationError("Launch configuration name not found - Launch configuration "
                                             f"{g.launch_configuration_name} not found")
            decision = sc.create(g.name, g.min_size, g.max_size,
                                 g.desired_capacity if request.has_desired_capacity else None,
                                 g.default_cooldown if g.has_default_cooldown else 300, now, str(uuid.uuid4()))
            lc = dataclasses.replace(lcs[0], zone_id=g.zone_id or lcs[0].zone_id,
                                     network_ids=tuple(g.network_ids) or lcs[0].network_ids)
            record = GroupRecord(tenant.account_id, g.name, self._group_arn(tenant, g.name), lc,
                                 decision.capacity, now, tuple(g.load_balancer_rule_ids),
                                 tuple(Tag(t.key, t.value, t.propagate_at_launch) for t in g.tags),
                                 g.health_check_type or "EC2", g.health_check_grace_period)
            await self._record(tenant, record, decision, now)
        self._changed(tenant, g.name)
        return pb.CreateAutoScalingGroupResponse()

    @servicer_errors
    async def UpdateAutoScalingGroup(self, request: pb.UpdateAutoScalingGroupRequest,
                                     context: Context) -> pb.UpdateAutoScalingGroupResponse:
        """Change a group's bounds, desired capacity, cooldown, launch configuration or health check."""
        tenant = await self._tenant(context, request, "UpdateAutoScalingGroup")
        now = self._now()
        async with self._locks[tenant.account_id]:
            group = await self._group(tenant, request.name)
            lc_name = _opt(request, "launch_configuration_name")
            if lc_name is not None:
                lcs = await self._store.launch_configurations(tenant.account_id, [lc_name])
                if not lcs:
                    raise errors.ValidationError(f"Launch configuration name not found - Launch configuration "
                                                 f"{lc_name} not found")
                kept = group.launch_configuration  # the group's zone and networks stay its own
                group = _replace(group, launch_configuration=dataclasses.replace(
                    lcs[0], zone_id=kept.zone_id or lcs[0].zone_id, network_ids=kept.network_ids or lcs[0].network_ids))
            for field in ("health_check_type", "health_check_grace_period"):
                if request.HasField(field):
                    group = _replace(group, **{field: getattr(request, field)})
            decision = sc.update(group.name, group.capacity, now, str(uuid.uuid4()),
                                 min_size=_opt(request, "min_size"), max_size=_opt(request, "max_size"),
                                 desired=_opt(request, "desired_capacity"),
                                 default_cooldown=_opt(request, "default_cooldown"))
            await self._record(tenant, group, decision, now)
        self._changed(tenant, group.name)
        return pb.UpdateAutoScalingGroupResponse()

    @servicer_errors
    async def DeleteAutoScalingGroup(self, request: pb.DeleteAutoScalingGroupRequest,
                                     context: Context) -> pb.DeleteAutoScalingGroupResponse:
        """Delete a group (with instances: only with ForceDelete) and its policies."""
        tenant = await self._tenant(context, request, "DeleteAutoScalingGroup")
        now = self._now()
        async with self._locks[tenant.account_id]:
            group = await self._group(tenant, request.name)
            running = await self._store.instances(tenant.account_id, group.name)
            if not request.force_delete and (running or group.capacity.desired > 0):
                if any(i.lifecycle_state in ("Pending", "Terminating") for i in running):
                    raise errors.ScalingActivityInProgress("You cannot delete an AutoScalingGroup while there are "
                                                           "scaling activities in progress for that group.")
                raise errors.ResourceInUse("You cannot delete an AutoScalingGroup while there are instances or "
                                           "pending Spot instance request(s) still in the group.")
            for p in await self._store.policies(tenant.account_id, group.name):
                await self._drop_alarms(tenant, p)
                await self._store.delete_policy(tenant.account_id, group.name, p.name, now)
            await self._store.delete_group(tenant.account_id, group.name, now)
        self._changed(tenant, group.name)
        return pb.DeleteAutoScalingGroupResponse()

    @servicer_errors
    async def DescribeAutoScalingGroups(self, request: pb.DescribeAutoScalingGroupsRequest,
                                        context: Context) -> pb.DescribeAutoScalingGroupsResponse:
        """The account's groups with their instances, paged."""
        tenant = await self._tenant(context, request, "DescribeAutoScalingGroups")
        found = await self._store.groups(tenant.account_id, list(request.names) or None)
        page, token = _page(tenant, found, lambda g: g.name, _size(request.max_records, 50, 100),
                            _opt(request, "next_token"))
        out = pb.DescribeAutoScalingGroupsResponse()
        for g in page:
            c = g.capacity
            m = out.groups.add(
                name=g.name, arn=g.arn, min_size=c.min_size, max_size=c.max_size, desired_capacity=c.desired,
                default_cooldown=c.default_cooldown, launch_configuration_name=g.launch_configuration.name,
                load_balancer_rule_ids=list(g.load_balancer_rule_ids), health_check_type=g.health_check_type,
                health_check_grace_period=g.health_check_grace_period, zone_id=g.launch_configuration.zone_id,
                network_ids=list(g.launch_configuration.network_ids),
                tags=[pb.Tag(key=t.key, value=t.value, propagate_at_launch=t.propagate_at_launch) for t in g.tags],
                suspended_processes=[pb.SuspendedProcess(process_name=p, suspension_reason=r) for p, r in g.suspended],
                instances=[_instance_message(i) for i in await self._store.instances(tenant.account_id, g.name)])
            m.created_time.FromMilliseconds(g.created_ms)
        if token:
            out.next_token = token
        return out

    @servicer_errors
    async def DescribeAutoScalingInstances(self, request: pb.DescribeAutoScalingInstancesRequest,
                                           context: Context) -> pb.DescribeAutoScalingInstancesResponse:
        """The account's instances, as the reconciler reported them."""
        tenant = await self._tenant(context, request, "DescribeAutoScalingInstances")
        found = await self._store.instances(tenant.account_id, ids=list(request.instance_ids) or None)
        found.sort(key=lambda i: i.instance_id)
        page, token = _page(tenant, found, lambda i: i.instance_id, _size(request.max_records, 50, 50),
                            _opt(request, "next_token"))
        out = pb.DescribeAutoScalingInstancesResponse(instances=[_instance_message(i) for i in page])
        if token:
            out.next_token = token
        return out

    @servicer_errors
    async def SetDesiredCapacity(self, request: pb.SetDesiredCapacityRequest,
                                 context: Context) -> pb.SetDesiredCapacityResponse:
        """Set a group's desired capacity (within its bounds)."""
        tenant = await self._tenant(context, request, "SetDesiredCapacity")
        now = self._now()
        async with self._locks[tenant.account_id]:
            group = await self._group(tenant, request.name)
            decision = sc.set_desired(group.name, group.capacity, request.desired_capacity, now, str(uuid.uuid4()),
                                      request.honor_cooldown)
            await self._record(tenant, group, decision, now)
        self._changed(tenant, group.name)
        return pb.SetDesiredCapacityResponse()

    # policies

    @servicer_errors
    async def PutScalingPolicy(self, request: pb.PutScalingPolicyRequest,
                               context: Context) -> pb.PutScalingPolicyResponse:
        """Create or replace a policy; a replaced one keeps its ARN."""
        tenant = await self._tenant(context, request, "PutScalingPolicy")
        p, now = request.policy, self._now()
        async with self._locks[tenant.account_id]:
            group = await self._group(tenant, p.auto_scaling_group_name)
            existing = await self._store.policies(tenant.account_id, group.name)
            same = [x for x in existing if x.name == p.policy_name]
            if not same and len(existing) >= MAX_POLICIES:
                raise errors.LimitExceeded(f"You have reached your limit of {MAX_POLICIES} policies for the group.")
            arn = same[0].arn if same else tenant.arn(
                "autoscaling", self._region,
                f"scalingPolicy:{uuid.uuid4()}:autoScalingGroupName/{group.name}:policyName/{p.policy_name}")
            policy = _policy_from(p, arn)
            if policy.policy_type is PolicyType.TARGET_TRACKING:
                if self._alarms is None:
                    raise errors.ServiceUnavailable("Target tracking needs the alarm service, which this "
                                                    "deployment does not name (STACKWATCH_AUTOSCALE_ALARM_ADDRESS).")
                owned = same[0].alarm_arns if same and same[0].policy_type is PolicyType.TARGET_TRACKING else ()
                policy = dataclasses.replace(policy, alarm_arns=await self._alarms.put(
                    tenant.account_id, policy, owned))
            elif same:
                await self._drop_alarms(tenant, same[0])
            await self._store.put_policy(tenant.account_id, policy, now)
        return pb.PutScalingPolicyResponse(policy_arn=arn, alarm_arns=list(
            policy.alarm_arns if policy.policy_type is PolicyType.TARGET_TRACKING else ()))

    @servicer_errors
    async def DescribePolicies(self, request: pb.DescribePoliciesRequest,
                               context: Context) -> pb.DescribePoliciesResponse:
        """The account's policies (of a group, by name or ARN, by type), paged."""
        tenant = await self._tenant(context, request, "DescribePolicies")
        group = _opt(request, "auto_scaling_group_name")
        found = await self._store.policies(tenant.account_id, group, list(request.policy_names) or None)
        if request.policy_types:
            found = [p for p in found if str(p.policy_type) in request.policy_types]
        page, token = _page(tenant, found, lambda p: f"{p.group}\x00{p.name}", _size(request.max_records, 50, 100),
                            _opt(request, "next_token"))
        out = pb.DescribePoliciesResponse(policies=[_policy_message(p) for p in page])
        if token:
            out.next_token = token
        return out

    async def _policy(self, tenant: Tenant, group: str, name: str) -> ScalingPolicy:
        if name.startswith("arn:"):
            tenant.own(name, service="autoscaling", parameter="PolicyName",
                       not_found=lambda _: errors.ValidationError(f"Policy {name} not found"))
        found = await self._store.policies(tenant.account_id, group or None, [name])
        if not found:
            raise errors.ValidationError(f"Policy {name} not found")
        return found[0]

    @servicer_errors
    async def DeletePolicy(self, request: pb.DeletePolicyRequest, context: Context) -> pb.DeletePolicyResponse:
        """Delete a policy (by name within a group, or by ARN)."""
        tenant = await self._tenant(context, request, "DeletePolicy")
        async with self._locks[tenant.account_id]:
            policy = await self._policy(tenant, request.auto_scaling_group_name, request.policy_name)
            await self._drop_alarms(tenant, policy)
            await self._store.delete_policy(tenant.account_id, policy.group, policy.name, self._now())
        return pb.DeletePolicyResponse()

    @servicer_errors
    async def ExecutePolicy(self, request: pb.ExecutePolicyRequest, context: Context) -> pb.ExecutePolicyResponse:
        """Run a policy; a repeated idempotency key returns the first result and does nothing."""
        tenant = await self._tenant(context, request, "ExecutePolicy")
        key = request.idempotency_key
        async with self._locks[tenant.account_id]:
            if key:
                done = await self._store.execution(tenant.account_id, key)
                if done is not None:
                    first = json.loads(done)
                    return pb.ExecutePolicyResponse(desired_capacity=first["desired"], activity_id=first["activity"],
                                                    skipped=first["skipped"], duplicate=True)
            now = self._now()
            policy = await self._policy(tenant, request.auto_scaling_group_name, request.policy_name)
            group = await self._group(tenant, policy.group)
            if key:
                breach = breach_from_reason_data(request.state_reason_data, policy.metric_aggregation_type)
                trigger = sc.Trigger(alarm_name=_alarm_name(key), breach=breach)
            else:
                threshold, value = _opt(request, "breach_threshold"), _opt(request, "metric_value")
                if policy.policy_type is not PolicyType.STEP and (threshold is not None or value is not None):
                    raise errors.ValidationError("BreachThreshold and MetricValue are supported only for a "
                                                 "StepScaling policy.")
                if policy.policy_type is not PolicyType.SIMPLE and request.honor_cooldown:
                    raise errors.ValidationError("HonorCooldown is supported only for a SimpleScaling policy.")
                breach = Breach(threshold, value) if threshold is not None and value is not None else None
                trigger = sc.Trigger(honor_cooldown=request.honor_cooldown, breach=breach)
            if ScalingProcess.ALARM_NOTIFICATION in {p for p, _ in group.suspended} and key:
                decision = sc.Decision(group.capacity, skipped="The AlarmNotification process is suspended.")
            else:
                decision = sc.execute(group.capacity, policy, trigger, now, str(uuid.uuid4()))
            await self._record(tenant, group, decision, now)
            activity = decision.activity.activity_id if decision.activity else ""
            if key:
                await self._store.put_execution(tenant.account_id, key, json.dumps(
                    {"desired": decision.capacity.desired, "activity": activity, "skipped": decision.skipped}), now)
        if decision.activity is not None:
            self._changed(tenant, group.name)
        return pb.ExecutePolicyResponse(desired_capacity=decision.capacity.desired, activity_id=activity,
                                        skipped=decision.skipped)

    # activities, processes, instances

    @servicer_errors
    async def DescribeScalingActivities(self, request: pb.DescribeScalingActivitiesRequest,
                                        context: Context) -> pb.DescribeScalingActivitiesResponse:
        """The account's activities, newest first, paged."""
        tenant = await self._tenant(context, request, "DescribeScalingActivities")
        group = _opt(request, "auto_scaling_group_name")
        size = _size(request.max_records, 100, 100)
        before = None
        if request.HasField("next_token"):
            position = tenant.read_page_token(request.next_token)
            before = (int(position[0]), int(position[1]))
        found = await self._store.activities(tenant.account_id, group, list(request.activity_ids) or None,
                                             size + 1, before)
        arns = {g.name: g.arn for g in await self._store.groups(tenant.account_id)}
        out = pb.DescribeScalingActivitiesResponse(
            activities=[_activity_message(a, arns.get(a.group, "")) for _, a in found[:size]])
        if len(found) > size:
            out.next_token = tenant.page_token(list(found[size - 1][0]))
        return out

    @servicer_errors
    async def SetProcesses(self, request: pb.SetProcessesRequest, context: Context) -> pb.SetProcessesResponse:
        """Suspend or resume processes of a group (all when none are named)."""
        tenant = await self._tenant(context, request, "SuspendProcesses" if request.suspend else "ResumeProcesses")
        try:
            names = [ScalingProcess(p) for p in request.scaling_processes] or list(ScalingProcess)
        except ValueError:
            bad = next(p for p in request.scaling_processes if p not in set(ScalingProcess))
            raise errors.ValidationError(f"Process {bad} is not a valid process name.") from None
        now = self._now()
        async with self._locks[tenant.account_id]:
            group = await self._group(tenant, request.name)
            current = dict(group.suspended)
            for p in names:
                if request.suspend:
                    current.setdefault(str(p), f"User suspended at {sc.iso(now)}")
                else:
                    current.pop(str(p), None)
            group = _replace(group, suspended=tuple(sorted(current.items())))
            await self._store.put_group(group, now)
        self._changed(tenant, group.name)
        return pb.SetProcessesResponse()

    @servicer_errors
    async def TerminateInstance(self, request: pb.TerminateInstanceRequest,
                                context: Context) -> pb.TerminateInstanceResponse:
        """Mark an instance for termination (the reconciler destroys it), maybe lowering desired capacity."""
        tenant = await self._tenant(context, request, "TerminateInstanceInAutoScalingGroup")
        now = self._now()
        async with self._locks[tenant.account_id]:
            found = await self._store.instances(tenant.account_id, ids=[request.instance_id])
            if not found:
                raise errors.ValidationError(f"Instance Id not found - No managed instance found for instance ID: "
                                             f"{request.instance_id}")
            instance = found[0]
            group = await self._group(tenant, instance.group)
            capacity = group.capacity
            before = capacity.desired
            if request.should_decrement_desired_capacity and before - 1 < capacity.min_size:
                raise errors.ValidationError(f"Currently, desiredSize equals minSize ({capacity.min_size}). "
                                             "Terminating instance without replacement will violate group's "
                                             "min size constraint. Either set shouldDecrementDesiredCapacity "
                                             "flag to false or lower group's min size.")
            # marked first: a pass between the two writes must not scale in another VM instead of it
            await self._store.put_instance(tenant.account_id, Instance(
                instance.group, instance.instance_id, "Terminating", instance.health_status,
                instance.launch_configuration, instance.zone_id, instance.protected), now)
            if request.should_decrement_desired_capacity:
                group = await self._record(tenant, group, sc.Decision(
                    _replace_capacity(capacity, before - 1)), now)
            after = group.capacity.desired
            shrink = (f"shrinking the capacity from {before} to {after}" if after != before
                      else "the group keeps its capacity and replaces the instance")
            activity = sc.Activity(str(uuid.uuid4()), group.name,
                                   f"At {sc.iso(now)} instance {instance.instance_id} was taken out of service in "
                                   f"response to a user request, {shrink}.",
                                   f"Terminating EC2 instance: {instance.instance_id}", sc.ActivityStatus.IN_PROGRESS,
                                   now)
            await self._store.put_activity(tenant.account_id, activity, now)
        self._changed(tenant, group.name)
        return pb.TerminateInstanceResponse(activity=_activity_message(activity, group.arn))


def _replace(group: GroupRecord, **changes: Any) -> GroupRecord:
    return dataclasses.replace(group, **changes)


def _replace_capacity(capacity: sc.Capacity, desired: int) -> sc.Capacity:
    return dataclasses.replace(capacity, desired=desired)


def _alarm_name(key: str) -> str:
    """The alarm name in an alarm action's idempotency key (``<alarm ARN>#<time>``), or the key's head."""
    arn = key.split("#", 1)[0]
    return arn.split(":alarm:", 1)[1] if ":alarm:" in arn else arn
