"""How the autoscale service keeps its values: the stored group, and each value's JSON.

A :class:`GroupRecord` is a group as the service stores it: the :class:`GroupSpec` fields the
reconciler reads, plus what only this service uses (ARN, creation time, cooldown and warm-up
state, suspension reasons). It carries a copy of its launch configuration, so a group's record is
a consistent snapshot (AWS launch configurations cannot change; one in use cannot be deleted).

JSON is the store's column format: adding a field needs no migration. Every ``*_json`` has a
``*_from_json`` that reads what it writes, and tolerates fields it does not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from services.autoscale.domain import GroupSpec, LaunchConfiguration, ScalingProcess, Tag
from services.autoscale.domain.policies import (
    AdjustmentType,
    MetricAggregationType,
    PolicyType,
    ScalingPolicy,
    StepAdjustment,
    TargetTracking,
)
from services.autoscale.domain.scaling import Activity, ActivityStatus, Capacity


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A group as stored (see the module doc)."""

    account: str
    name: str
    arn: str
    launch_configuration: LaunchConfiguration
    capacity: Capacity
    created_ms: int
    load_balancer_rule_ids: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    health_check_type: str = "EC2"
    health_check_grace_period: int = 0
    suspended: tuple[tuple[str, str], ...] = field(default=())
    """``(ProcessName, SuspensionReason)`` pairs."""

    def spec(self) -> GroupSpec:
        """The reconciler's view of the group."""
        c = self.capacity
        return GroupSpec(self.account, self.name, c.min_size, c.max_size, c.desired, self.launch_configuration,
                         self.load_balancer_rule_ids, self.tags, c.default_cooldown, self.health_check_grace_period,
                         frozenset(ScalingProcess(p) for p, _ in self.suspended))


def lc_json(lc: LaunchConfiguration) -> str:
    """A launch configuration as JSON."""
    return json.dumps({"name": lc.name, "image_id": lc.image_id, "instance_type": lc.instance_type,
                       "zone_id": lc.zone_id, "network_ids": list(lc.network_ids), "user_data": lc.user_data,
                       "key_name": lc.key_name, "security_groups": list(lc.security_groups),
                       "created_ms": lc.created_ms})


def lc_from(d: dict[str, Any]) -> LaunchConfiguration:
    """A launch configuration from its JSON object."""
    return LaunchConfiguration(d["name"], d["image_id"], d["instance_type"], d.get("zone_id", ""),
                               tuple(d.get("network_ids", ())), d.get("user_data", ""), d.get("key_name", ""),
                               tuple(d.get("security_groups", ())), int(d.get("created_ms", 0)))


def group_json(g: GroupRecord) -> str:
    """A group record as JSON (account and name are columns of their own)."""
    c = g.capacity
    return json.dumps({
        "arn": g.arn, "launch_configuration": json.loads(lc_json(g.launch_configuration)),
        "min": c.min_size, "max": c.max_size, "desired": c.desired, "default_cooldown": c.default_cooldown,
        "cooldown_until_ms": c.cooldown_until_ms, "warming": [list(w) for w in c.warming],
        "created_ms": g.created_ms, "lb_rule_ids": list(g.load_balancer_rule_ids),
        "tags": [[t.key, t.value, t.propagate_at_launch] for t in g.tags],
        "health_check_type": g.health_check_type, "health_check_grace_period": g.health_check_grace_period,
        "suspended": [list(s) for s in g.suspended]})


def group_from_json(account: str, name: str, text: str) -> GroupRecord:
    """A group record from :func:`group_json`'s output."""
    d = json.loads(text)
    capacity = Capacity(int(d["min"]), int(d["max"]), int(d["desired"]), int(d["default_cooldown"]),
                        int(d.get("cooldown_until_ms", 0)), tuple((int(u), int(n)) for u, n in d.get("warming", ())))
    return GroupRecord(account, name, d["arn"], lc_from(d["launch_configuration"]), capacity, int(d["created_ms"]),
                       tuple(d.get("lb_rule_ids", ())), tuple(Tag(k, v, bool(p)) for k, v, p in d.get("tags", ())),
                       d.get("health_check_type", "EC2"), int(d.get("health_check_grace_period", 0)),
                       tuple((p, r) for p, r in d.get("suspended", ())))


def policy_json(p: ScalingPolicy) -> str:
    """A scaling policy as JSON (group and name are columns of their own)."""
    tt = p.target_tracking
    return json.dumps({
        "arn": p.arn, "type": str(p.policy_type), "adjustment_type": p.adjustment_type and str(p.adjustment_type),
        "scaling_adjustment": p.scaling_adjustment, "min_adjustment_magnitude": p.min_adjustment_magnitude,
        "cooldown": p.cooldown, "steps": [[s.scaling_adjustment, s.lower, s.upper] for s in p.step_adjustments],
        "metric_aggregation_type": p.metric_aggregation_type and str(p.metric_aggregation_type),
        "warmup": p.estimated_instance_warmup, "enabled": p.enabled, "alarm_arns": list(p.alarm_arns),
        "target_tracking": None if tt is None else {
            "target_value": tt.target_value, "predefined_metric_type": tt.predefined_metric_type,
            "resource_label": tt.resource_label, "customized_metric": tt.customized_metric,
            "disable_scale_in": tt.disable_scale_in}})


def policy_from_json(group: str, name: str, text: str) -> ScalingPolicy:
    """A scaling policy from :func:`policy_json`'s output."""
    d = json.loads(text)
    tt = d.get("target_tracking")
    return ScalingPolicy(
        name, group, d["arn"], PolicyType(d["type"]),
        AdjustmentType(d["adjustment_type"]) if d.get("adjustment_type") else None, d.get("scaling_adjustment"),
        d.get("min_adjustment_magnitude"), d.get("cooldown"),
        tuple(StepAdjustment(a, lo, hi) for a, lo, hi in d.get("steps", ())),
        MetricAggregationType(d["metric_aggregation_type"]) if d.get("metric_aggregation_type") else None,
        d.get("warmup"), None if tt is None else TargetTracking(**tt), bool(d.get("enabled", True)),
        tuple(d.get("alarm_arns", ())))


def activity_json(a: Activity) -> str:
    """An activity's mutable part as JSON (id, group and start are columns of their own)."""
    return json.dumps({"cause": a.cause, "description": a.description, "status": str(a.status),
                       "end_ms": a.end_ms, "progress": a.progress, "status_message": a.status_message,
                       "details": a.details})


def activity_from_json(group: str, activity_id: str, start_ms: int, text: str) -> Activity:
    """An activity from :func:`activity_json`'s output."""
    d = json.loads(text)
    return Activity(activity_id, group, d["cause"], d["description"], ActivityStatus(d["status"]), start_ms,
                    d.get("end_ms"), int(d.get("progress", 0)), d.get("status_message", ""), d.get("details", "{}"))
