"""The values Auto Scaling works on: launch configurations, groups and what the reconciler reads.

Nothing here does I/O or reads a clock. A launch configuration names CloudStack things in AWS's
words: ``ImageId`` is a template UUID, ``InstanceType`` a service offering UUID, ``SecurityGroups``
CloudStack security group names or ids, ``KeyName`` an SSH key pair name; CloudStack also needs a
zone and, in advanced zones, networks, which AWS expresses per group (``VPCZoneIdentifier``) and
which we keep on the launch configuration.

:class:`GroupSpec` is the contract with the reconciler (the actuators' side): everything it needs
to converge a group, and nothing it must not decide (policies, cooldowns of policies, activities).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScalingProcess(StrEnum):
    """The processes ``SuspendProcesses`` can suspend (AWS's names)."""

    LAUNCH = "Launch"
    TERMINATE = "Terminate"
    ADD_TO_LOAD_BALANCER = "AddToLoadBalancer"
    ALARM_NOTIFICATION = "AlarmNotification"
    AZ_REBALANCE = "AZRebalance"
    HEALTH_CHECK = "HealthCheck"
    INSTANCE_REFRESH = "InstanceRefresh"
    REPLACE_UNHEALTHY = "ReplaceUnhealthy"
    SCHEDULED_ACTIONS = "ScheduledActions"


@dataclass(frozen=True, slots=True)
class LaunchConfiguration:
    """What a new instance of a group is made of (CreateLaunchConfiguration).

    Attributes:
        name: unique per account.
        image_id: CloudStack template UUID (``ImageId``).
        instance_type: CloudStack service offering UUID (``InstanceType``).
        zone_id: CloudStack zone UUID the VMs are deployed in.
        network_ids: CloudStack network UUIDs, first one the default NIC.
        user_data: base64 user data as the client sent it (``UserData``), or "".
        key_name: SSH key pair name, or "".
        security_groups: CloudStack security group names or ids.
        created_ms: creation time, ms since the epoch.
    """

    name: str
    image_id: str
    instance_type: str
    zone_id: str = ""
    network_ids: tuple[str, ...] = ()
    user_data: str = ""
    key_name: str = ""
    security_groups: tuple[str, ...] = ()
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class Tag:
    """A group tag; ``propagate_at_launch`` ones are set on the group's VMs too."""

    key: str
    value: str = ""
    propagate_at_launch: bool = False


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """What the reconciler converges: a group's bounds, its desired capacity and how to launch.

    Invariant: ``min_size <= desired_capacity <= max_size`` (the servicer only stores groups built
    through :func:`services.autoscale.domain.groups.clamp` or validated against it).

    Attributes:
        account: CloudStack account UUID owning the group (and the VMs it runs).
        name: the group name, unique per account.
        min_size: fewest instances.
        max_size: most instances; never exceeded, whatever fails.
        desired_capacity: instances the group should run.
        launch_configuration: how to make one.
        load_balancer_rule_ids: CloudStack load balancer rule UUIDs new VMs join.
        tags: group tags (the propagated ones go on each VM).
        default_cooldown: seconds after a scaling activity before a simple policy acts again.
        health_check_grace_period: seconds after launch before an instance's health counts.
        suspended_processes: processes the reconciler must not run (``Launch``, ``Terminate``, ...).
    """

    account: str
    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    launch_configuration: LaunchConfiguration
    load_balancer_rule_ids: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    default_cooldown: int = 300
    health_check_grace_period: int = 0
    suspended_processes: frozenset[ScalingProcess] = frozenset()

    def suspended(self, process: ScalingProcess) -> bool:
        """Whether ``process`` is suspended for this group."""
        return process in self.suspended_processes
