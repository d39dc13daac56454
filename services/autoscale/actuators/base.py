"""What an actuator is: the few things the reconciler needs from whatever runs a group's capacity.

A *unit* is one piece of capacity (a CloudStack VM). The reconciler never keeps units in memory
between passes: it asks :meth:`UnitActuator.list_units` each time, so the truth is always what
the platform reports, and a restart loses nothing.

Every unit is created under a name the reconciler chose (:func:`unit_name`): ``as-<h>-<slot>``,
where ``<h>`` is a digest of the tenant and group and ``<slot>`` is in ``0 .. max-1``. CloudStack
refuses a second VM with the same host name in a network, so a retried or duplicated create
finds the first one instead of making two, and a group can never hold more than ``max`` VMs
that carry its names, whatever retries or restarts happen.

Everything here is plain data: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Protocol

from services.autoscale.domain import GroupSpec

#: States of a unit that is gone or going (it no longer counts).
GONE_STATES = frozenset({"Destroyed", "Expunging"})
#: States of a unit that will not serve without a new one: replaced by the reconciler.
UNHEALTHY_STATES = frozenset({"Error", "Stopped", "Stopping", "Shutdown", "Migrating-failed", "Starting-stuck",
                              "Terminating"})
#: Not a CloudStack state: what the reconciler calls a VM ``Starting`` for too long.
STUCK = "Starting-stuck"
#: Not a CloudStack state: a VM a user asked to terminate (TerminateInstanceInAutoScalingGroup).
TERMINATING = "Terminating"

TAG_GROUP = "stackwatch:group"
TAG_ACCOUNT = "stackwatch:account"
TAG_LAUNCH = "stackwatch:launch"


def group_digest(account: str, group: str) -> str:
    """Ten hex digits naming (tenant, group) in host names: short, stable, and unique in practice."""
    return hashlib.sha256(f"{account}\x00{group}".encode()).hexdigest()[:10]


def unit_name(account: str, group: str, slot: int) -> str:
    """The host name of a group's unit in ``slot``: ``as-<digest>-<slot>`` (a valid CloudStack name)."""
    return f"as-{group_digest(account, group)}-{slot}"


def slot_of(account: str, group: str, name: str) -> int | None:
    """The slot a unit name holds for this group, or None when the name is not one of the group's."""
    m = re.fullmatch(rf"as-{group_digest(account, group)}-(\d{{1,6}})", name)
    return int(m.group(1)) if m else None


def launch_fingerprint(group: GroupSpec) -> str:
    """A short digest of the launch configuration a VM is made from (kept in ``stackwatch:launch``)."""
    lc = group.launch_configuration
    text = repr((lc.image_id, lc.instance_type, lc.zone_id, tuple(lc.network_ids), lc.user_data, lc.key_name,
                 tuple(lc.security_groups)))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit as the platform reports it now.

    Attributes:
        id: the platform's id (VM uuid).
        name: its host name (see :func:`unit_name`).
        state: the platform's state (``Starting``, ``Running``, ``Error``, ...).
        created: creation time, seconds since the epoch (newest is preferred at scale-in).
        launch: the launch configuration fingerprint it was created from ('' if unknown).
        lb_rule_ids: the load balancer rules it is a member of (among those the group uses).
        tagged: whether it carries the group's tags (a create interrupted midway leaves it bare).
    """

    id: str
    name: str
    state: str
    created: float = 0.0
    launch: str = ""
    lb_rule_ids: frozenset[str] = field(default_factory=frozenset)
    tagged: bool = True

    @property
    def gone(self) -> bool:
        """True once destroyed or expunging."""
        return self.state in GONE_STATES

    @property
    def healthy(self) -> bool:
        """True unless the unit is in a state that needs a replacement."""
        return self.state not in UNHEALTHY_STATES and not self.gone


class UnitActuator(Protocol):
    """What runs a group's units. Every method is safe to call again after any failure."""

    async def list_units(self, group: GroupSpec) -> list[Unit]:
        """Every unit of ``group`` that exists now (found by tag or by name)."""

    async def create_unit(self, group: GroupSpec, name: str) -> Unit:
        """Create the unit ``name``, or return the one that already exists under it."""

    async def destroy_unit(self, group: GroupSpec, unit: Unit) -> None:
        """Take ``unit`` out of its load balancer rules and destroy it for good (gone is success)."""

    async def attach(self, group: GroupSpec, unit: Unit, rule_id: str) -> None:
        """Add ``unit`` to load balancer rule ``rule_id`` (already a member is success)."""

    async def repair_tags(self, group: GroupSpec, unit: Unit) -> None:
        """Put the group's tags on a unit found by name only."""


class ActuatorError(Exception):
    """An actuator call failed.

    Attributes:
        recoverable: True when the same call may succeed later (the reconciler just tries again).
    """

    def __init__(self, message: str, *, recoverable: bool) -> None:
        super().__init__(message)
        self.recoverable = recoverable
