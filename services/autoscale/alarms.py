"""The alarms a target tracking policy owns, kept in the alarm service through its public gRPC API.

A TargetTrackingScaling policy is driven by two metric alarms the service creates for the tenant,
named as AWS names them::

    TargetTracking-<group>-AlarmHigh-<uuid>   metric > target          for 3 periods   -> the policy
    TargetTracking-<group>-AlarmLow-<uuid>    metric < 0.9 x target    for 15 periods  -> the policy
                                              (not created with DisableScaleIn)

Both invoke the policy's ARN in ``AlarmActions``; the alarm service's outbox then calls
ExecutePolicy with the alarm's ``StateReasonData``, whose datapoints the target tracking formula
(:mod:`services.autoscale.domain.scaling`) turns into a capacity. The calls act for the tenant with
a principal token signed with the internal key (as the alarm service's IngestReader does), so the
alarms are the tenant's own and DescribeAlarms shows them. Replacing a policy rewrites the same
alarms (PutMetricAlarm replaces by name); deleting a policy or its group deletes them.

The metric: a ``CustomizedMetricSpecification`` (``MetricName``, ``Namespace``, ``Dimensions``,
``Statistic``, ``Unit``) as given; a predefined metric (``ASGAverageCPUUtilization``, ...) names
the ``AWS/EC2`` metric of the group (``AutoScalingGroupName`` dimension) that a tenant's agent
publishes. The period is AWS's 60 s unless configured shorter (tests and demos).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import grpc

from services.autoscale.domain.policies import ScalingPolicy
from stackwatch import errors, retry
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2
from stackwatch.rpc import TokenSigner, error_from_rpc, principal_metadata

#: The user the alarm service sees on these calls (its history names who changed an alarm).
ACTING_USER = "autoscaling"
_PREDEFINED = {"ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization"),
               "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn"),
               "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut")}


def alarm_names(group: str, existing: Sequence[str] = ()) -> tuple[str, str]:
    """``(high, low)`` names: the policy's current ones if it has them, else new AWS-style ones."""
    high = next((a.rsplit(":alarm:", 1)[-1] for a in existing if "-AlarmHigh-" in a), None)
    low = next((a.rsplit(":alarm:", 1)[-1] for a in existing if "-AlarmLow-" in a), None)
    return (high or f"TargetTracking-{group}-AlarmHigh-{uuid.uuid4()}",
            low or f"TargetTracking-{group}-AlarmLow-{uuid.uuid4()}")


def metric_of(policy: ScalingPolicy) -> tuple[str, str, list[tuple[str, str]], str, str | None]:
    """``(namespace, name, dimensions, statistic, unit)`` a target tracking policy tracks.

    Raises:
        ValidationError: a predefined metric type we do not know, or a customized one without a name.
    """
    tt = policy.target_tracking
    assert tt is not None
    if tt.customized_metric:
        spec = json.loads(tt.customized_metric)
        if not spec.get("MetricName") or not spec.get("Namespace"):
            raise errors.ValidationError("CustomizedMetricSpecification requires MetricName and Namespace.")
        dims = [(str(d["Name"]), str(d["Value"])) for d in spec.get("Dimensions") or ()]
        return (spec["Namespace"], spec["MetricName"], dims, spec.get("Statistic") or "Average",
                spec.get("Unit") or None)
    known = _PREDEFINED.get(tt.predefined_metric_type)
    if known is None:
        raise errors.ValidationError(f"Predefined metric type {tt.predefined_metric_type} is not supported; use "
                                     "ASGAverageCPUUtilization, ASGAverageNetworkIn, ASGAverageNetworkOut or a "
                                     "CustomizedMetricSpecification.")
    return known[0], known[1], [("AutoScalingGroupName", policy.group)], "Average", None


class PolicyAlarms:
    """Creates, replaces and deletes target tracking alarms in the alarm service.

    Args:
        stub: the alarm service's stub.
        tokens: signs principal tokens for the tenant.
        period: the alarms' period in seconds (AWS: 60).
        timeout: deadline of each call.
    """

    def __init__(self, stub: alarm_pb2_grpc.AlarmServiceStub, tokens: TokenSigner, *, period: int = 60,
                 timeout: float = 10.0) -> None:
        self._stub = stub
        self._tokens = tokens
        self._period = period
        self._timeout = timeout

    def _metadata(self, account: str) -> tuple[tuple[str, str], ...]:
        return principal_metadata(self._tokens.issue(auth_pb2.Principal(account_id=account, user=ACTING_USER)))

    async def put(self, account: str, policy: ScalingPolicy, existing: Sequence[str] = ()) -> tuple[str, ...]:
        """Create (or replace) the policy's alarms; their ARNs. A low alarm no longer wanted is deleted."""
        tt = policy.target_tracking
        assert tt is not None
        namespace, name, dims, statistic, unit = metric_of(policy)
        high, low = alarm_names(policy.group, existing)
        wanted = [(high, 3, tt.target_value, "GreaterThanThreshold")]
        if not tt.disable_scale_in:
            wanted.append((low, 15, round(tt.target_value * 0.9, 6), "LessThanThreshold"))
        for alarm_name, periods, threshold, operator in wanted:
            alarm = alarm_pb2.MetricAlarm(
                alarm_name=alarm_name, namespace=namespace, metric_name=name,
                dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in dims], statistic=statistic,
                period=self._period, evaluation_periods=periods, threshold=threshold, comparison_operator=operator,
                alarm_actions=[policy.arn], alarm_description=(
                    f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}."))
            if unit:
                alarm.unit = unit
            await self._call("PutMetricAlarm", alarm_pb2.PutMetricAlarmRequest(alarm=alarm), account)
        if tt.disable_scale_in:
            await self.delete(account, [a for a in existing if "-AlarmLow-" in a])
        return await self._arns(account, [w[0] for w in wanted])

    async def delete(self, account: str, arns: Sequence[str]) -> None:
        """Delete alarms by ARN (unknown ones are skipped by the alarm service)."""
        names = [a.rsplit(":alarm:", 1)[-1] for a in arns]
        if names:
            await self._call("DeleteAlarms", alarm_pb2.DeleteAlarmsRequest(alarm_names=names), account)

    async def _arns(self, account: str, names: list[str]) -> tuple[str, ...]:
        found = await self._call("DescribeAlarms", alarm_pb2.DescribeAlarmsRequest(alarm_names=names), account)
        by_name = {a.alarm_name: a.alarm_arn for a in found.metric_alarms}  # type: ignore[attr-defined]
        return tuple(by_name[n] for n in names if n in by_name)

    async def _call(self, method: str, request: object, account: str) -> object:
        metadata = self._metadata(account)

        async def once() -> object:
            try:
                return await getattr(self._stub, method)(request, timeout=self._timeout, metadata=metadata)
            except grpc.aio.AioRpcError as e:
                raise error_from_rpc(e) from None

        # PutMetricAlarm and DeleteAlarms by name are idempotent: the same call again changes nothing
        return await retry.idempotent(once, deadline=self._timeout)
