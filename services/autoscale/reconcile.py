"""Reconciliation: make what CloudStack runs match a group's desired capacity, whatever fails.

Two parts, as the alarm evaluator is split from its scheduler:

* :func:`plan` — pure. ``(spec, observed units, in-flight step keys) -> steps``. It never plans
  past ``max_size`` (everything that exists or is being created counts, unhealthy and
  being-destroyed units included), never plans below the desired capacity (itself
  ``>= min_size``), and only chooses units it observed.
* :class:`Reconciler` — the driver loop of one group of VMs (:class:`WebhookReconciler` is the
  same for a webhook group, whose capacity is a number). Each pass reads the spec (desired capacity
  from the store) and the units (from CloudStack, by tag and by name), plans, and starts the steps
  not already in flight; each step is recorded as a scaling activity (InProgress, then
  Successful or Failed). It keeps nothing that matters in memory: after a restart, the next pass
  sees the same VMs and finishes what was left half done (a VM outside its load balancer rule,
  one without its tags, one in ``Error``).

Why the bounds hold whatever fails. A unit's name is its *slot* (``as-<digest>-<slot>``,
``0 <= slot < max_size``, see :mod:`services.autoscale.actuators.base`), and creates take free
slots only. CloudStack allows one VM per host name in a network, so even two reconcilers that
both lost their memory cannot make more than ``max_size`` VMs; and the count check in
:func:`plan` keeps one reconciler from even trying.

Scale-in chooses, in order: units in a slot beyond ``max_size`` (left by a lowered maximum), units
from an older launch configuration, then the newest (the one that has served least, and whose
loss is least likely to shed warm caches), highest slot first on a tie. Unhealthy units
(``Error``, ``Stopped``, ...) are destroyed first, and their replacements follow in the next pass.
Suspended processes (``Launch``, ``Terminate``, ``ReplaceUnhealthy``, ``AddToLoadBalancer``)
are honoured.

Timeline (max 3, desired 2, one deploy whose job fails)::

    pass 1: units {}                        -> Create as-…-0, Create as-…-1
    pass 2: as-…-0 Running, as-…-1 Error    -> Attach as-…-0, Destroy as-…-1 (unhealthy)
    pass 3: as-…-0 Running+LB               -> Create as-…-1
    pass 4: both Running, one outside LB    -> Attach as-…-1
    pass 5: nothing to do
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from services.autoscale.actuators.base import (
    STUCK,
    TERMINATING,
    ActuatorError,
    Unit,
    UnitActuator,
    launch_fingerprint,
    slot_of,
    unit_name,
)
from services.autoscale.actuators.webhook import CapacityChange, WebhookActuator
from services.autoscale.domain import GroupSpec, ScalingProcess

LOG = logging.getLogger(__name__)


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Create:
    """Create the unit of a free slot."""

    name: str
    slot: int

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two steps the same (for in-flight and retry bookkeeping)."""
        return ("create", self.name)


@dataclass(frozen=True, slots=True)
class Destroy:
    """Destroy an observed unit (``why``: ``unhealthy`` or ``scale-in``)."""

    unit: Unit
    why: Literal["unhealthy", "scale-in"]

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two steps the same."""
        return ("destroy", self.unit.id)


@dataclass(frozen=True, slots=True)
class Attach:
    """Put a running unit into one of the group's load balancer rules."""

    unit: Unit
    rule_id: str

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two steps the same."""
        return ("attach", self.unit.id, self.rule_id)


@dataclass(frozen=True, slots=True)
class RepairTags:
    """Tag a unit found by name only (its create stopped before tagging)."""

    unit: Unit

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two steps the same."""
        return ("tag", self.unit.id)


Step = Create | Destroy | Attach | RepairTags


#: Seconds a VM may stay ``Starting`` (or the health check grace period, if longer) before it is
#: replaced: its deploy job is lost or hung.
STARTING_LIMIT = 900.0


def plan(spec: GroupSpec, units: Sequence[Unit], in_flight: Collection[tuple[str, ...]] = (),
         now: float | None = None) -> list[Step]:
    """The steps that move ``units`` toward ``spec`` (pure; see the module docstring).

    Args:
        spec: the group, with its desired capacity.
        units: the group's units as last observed.
        in_flight: keys of steps already running (they are not planned again, and creates among
            them count as units).
        now: the time, to find units stuck in ``Starting`` (None: never stuck).
    """
    limit = max(float(spec.health_check_grace_period), STARTING_LIMIT)
    if now is not None:
        units = [Unit(u.id, u.name, STUCK, u.created, u.launch, u.lb_rule_ids, u.tagged)
                 if u.state == "Starting" and 0 < u.created < now - limit else u for u in units]
    flying = set(in_flight)
    live = [u for u in units if not u.gone]
    names = {u.name for u in live}
    pending = {k[1] for k in flying if k[0] == "create"} - names
    destroying = {k[1] for k in flying if k[0] == "destroy"}
    desired = min(max(spec.desired_capacity, spec.min_size), spec.max_size)
    healthy = [u for u in live if u.healthy and u.id not in destroying]
    steps: list[Step] = []

    if not spec.suspended(ScalingProcess.REPLACE_UNHEALTHY):
        steps += [Destroy(u, "unhealthy") for u in live if not u.healthy and u.id not in destroying]

    count = len(healthy) + len(pending)
    victims: list[Unit] = []
    if count < desired and not spec.suspended(ScalingProcess.LAUNCH):
        room = spec.max_size - len(live) - len(pending)  # all that exists or comes counts
        taken = names | pending
        free = [s for s in range(spec.max_size) if unit_name(spec.account, spec.name, s) not in taken]
        steps += [Create(unit_name(spec.account, spec.name, s), s) for s in free[:max(0, min(desired - count, room))]]
    elif count > desired and not spec.suspended(ScalingProcess.TERMINATE):
        current = launch_fingerprint(spec)

        def preference(u: Unit) -> tuple[bool, bool, float, int]:
            slot = slot_of(spec.account, spec.name, u.name)
            beyond = slot is None or slot >= spec.max_size
            return (not beyond, u.launch == current, -u.created, -(slot or 0))

        victims = sorted(healthy, key=preference)[:count - desired]
        steps += [Destroy(u, "scale-in") for u in victims]

    staying = [u for u in healthy if u not in victims]
    if not spec.suspended(ScalingProcess.ADD_TO_LOAD_BALANCER):
        steps += [Attach(u, rule) for u in staying if u.state == "Running"
                  for rule in spec.load_balancer_rule_ids if rule not in u.lb_rule_ids]
    steps += [RepairTags(u) for u in staying if not u.tagged]
    return [s for s in steps if s.key not in flying]


# --- activities and the driver -----------------------------------------------------------------

Status = Literal["InProgress", "Successful", "Failed"]


@dataclass(frozen=True, slots=True)
class Activity:
    """A scaling activity (DescribeScalingActivities' item), recorded at start and at end.

    Attributes:
        id: the same for the InProgress record and the final one.
        account: the tenant.
        group: the group's name.
        cause: why, in AWS's manner ("At <time> an instance was started in response to ...").
        description: what ("Launching a new VM: as-…-0").
        status: ``InProgress``, then ``Successful`` or ``Failed``.
        status_message: the failure, when Failed.
        progress: 0 while in progress, 100 at the end.
        start: seconds since the epoch.
        end: seconds since the epoch, once ended.
        details: extra facts (unit id, rule id).
    """

    id: str
    account: str
    group: str
    cause: str
    description: str
    status: Status
    status_message: str = ""
    progress: int = 0
    start: float = 0.0
    end: float | None = None
    details: dict[str, str] = field(default_factory=dict)


Recorder = Callable[[Activity], Awaitable[None]]
SpecSource = Callable[[], Awaitable[GroupSpec | None]]


def _at(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(step: Step, spec: GroupSpec, count: int, when: float) -> tuple[str, str]:
    """The (cause, description) of a step's activity; ``count`` is the healthy units before it."""
    at = _at(when)
    match step:
        case Create(name=name):
            return (f"At {at} an instance was started in response to a difference between desired and actual "
                    f"capacity, increasing the capacity from {count} to {count + 1}.",
                    f"Launching a new VM: {name}")
        case Destroy(unit=unit, why="unhealthy") if unit.state == STUCK:
            return (f"At {at} an instance was taken out of service because it stayed Starting longer than "
                    f"{max(float(spec.health_check_grace_period), STARTING_LIMIT):.0f} seconds.",
                    f"Terminating VM: {unit.name} ({unit.id})")
        case Destroy(unit=unit, why="unhealthy") if unit.state == TERMINATING:
            return (f"At {at} an instance was taken out of service in response to a user request.",
                    f"Terminating VM: {unit.name} ({unit.id})")
        case Destroy(unit=unit, why="unhealthy"):
            return (f"At {at} an instance was taken out of service in response to its CloudStack state "
                    f"{unit.state}, which means it cannot serve.", f"Terminating VM: {unit.name} ({unit.id})")
        case Destroy(unit=unit):
            return (f"At {at} an instance was taken out of service in response to a difference between desired "
                    f"and actual capacity, shrinking the capacity from {count} to {count - 1}.",
                    f"Terminating VM: {unit.name} ({unit.id})")
        case Attach(unit=unit, rule_id=rule):
            return (f"At {at} an instance was found outside load balancer rule {rule} of its group.",
                    f"Adding VM {unit.name} ({unit.id}) to load balancer rule {rule}")
        case RepairTags(unit=unit):
            return (f"At {at} an instance of the group was found without the group's tags.",
                    f"Tagging VM {unit.name} ({unit.id})")
    raise AssertionError(step)  # pragma: no cover


class Reconciler:
    """Converges one group, pass after pass (see the module docstring).

    Args:
        spec_source: reads the group's spec (desired capacity from the store) each pass; None
            when the group is gone (the loop then stops).
        actuator: runs the units.
        record: stores a scaling activity (called at start and at end of each step).
        interval: seconds between passes when nothing happens.
        settle_interval: seconds between passes while a unit is ``Starting`` (to attach it soon).
        retry_delay: first delay before a failed step is tried again (doubles, up to 60 s).
        clock: wall clock for activity times.
    """

    def __init__(self, spec_source: SpecSource, actuator: UnitActuator, record: Recorder, *,
                 interval: float = 10.0, settle_interval: float = 2.0, retry_delay: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._spec_source = spec_source
        self._actuator = actuator
        self._record = record
        self._interval = interval
        self._settle_interval = settle_interval
        self._starting = False
        self._planned = True
        self._retry_delay = retry_delay
        self._clock = clock
        self._tasks: dict[tuple[str, ...], asyncio.Task[None]] = {}
        self._failures: dict[tuple[str, ...], tuple[int, float]] = {}  # key -> (count, not before)
        self._wake = asyncio.Event()

    @property
    def in_flight(self) -> frozenset[tuple[str, ...]]:
        """Keys of the steps running now."""
        return frozenset(self._tasks)

    @property
    def settled(self) -> bool:
        """True when the last pass found nothing to do, nothing runs, and no unit was ``Starting``."""
        return not self._planned and not self._tasks and not self._starting

    def poke(self) -> None:
        """Plan again now (the desired capacity changed)."""
        self._wake.set()

    async def pass_once(self) -> list[Step] | None:
        """Read, plan, and start the steps not in flight nor waiting after a failure; return them.

        Returns None when the group is gone.

        Raises:
            ActuatorError: the units could not be listed.
        """
        spec = await self._spec_source()
        if spec is None:
            return None
        # Steps in flight while the listing was taken count too: one that finished meanwhile may
        # be missing from it (a create's VM not yet listed), and planning it again could pick a
        # different free slot (one more VM than desired).
        flying = self.in_flight
        units = await self._actuator.list_units(spec)
        steps = plan(spec, units, flying | self.in_flight, self._clock())
        self._planned = bool(steps)
        self._starting = any(u.state == "Starting" for u in units)
        now = time.monotonic()
        ready = [s for s in steps if self._failures.get(s.key, (0, 0.0))[1] <= now]
        count = sum(1 for u in units if u.healthy)
        for step in ready:
            self._tasks[step.key] = asyncio.create_task(self._run(spec, step, count), name=f"step {step.key}")
        return ready

    async def _run(self, spec: GroupSpec, step: Step, count: int) -> None:
        started = self._clock()
        cause, description = describe(step, spec, count, started)
        details = {"unit": step.name} if isinstance(step, Create) else {"unit": step.unit.id}
        if isinstance(step, Attach):
            details["rule"] = step.rule_id
        activity = Activity(str(uuid.uuid4()), spec.account, spec.name, cause, description, "InProgress",
                            start=started, details=details)
        LOG.info("group %s of %s: %s (%s)", spec.name, spec.account, description, cause)
        try:
            await self._record(activity)
            await self._apply(spec, step)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # every failure is recorded; the next pass plans again
            count_, _ = self._failures.get(step.key, (0, 0.0))
            delay = min(60.0, self._retry_delay * 2 ** count_)
            self._failures[step.key] = (count_ + 1, time.monotonic() + delay)
            LOG.info("group %s: %s failed (%s); next try in %.1fs", spec.name, step.key, e, delay)
            await self._finish(activity, "Failed", str(e))
        else:
            self._failures.pop(step.key, None)
            await self._finish(activity, "Successful", "")
        finally:
            self._tasks.pop(step.key, None)
            self._wake.set()

    async def _finish(self, activity: Activity, status: Status, message: str) -> None:
        done = Activity(activity.id, activity.account, activity.group, activity.cause, activity.description, status,
                        message, 100, activity.start, self._clock(), activity.details)
        try:
            await self._record(done)
        except Exception:  # the change happened (or failed) anyway; the log keeps it
            LOG.exception("group %s: could not record activity %s", activity.group, activity.id)

    async def _apply(self, spec: GroupSpec, step: Step) -> None:
        match step:
            case Create(name=name):
                unit = await self._actuator.create_unit(spec, name)
                if not unit.healthy:
                    raise ActuatorError(f"{name} ended in state {unit.state}", recoverable=True)
            case Destroy(unit=unit):
                await self._actuator.destroy_unit(spec, unit)
            case Attach(unit=unit, rule_id=rule):
                await self._actuator.attach(spec, unit, rule)
            case RepairTags(unit=unit):
                await self._actuator.repair_tags(spec, unit)

    async def run(self) -> None:
        """Pass after pass until cancelled (or the group is gone); a failed pass is logged and retried."""
        while True:
            self._wake.clear()
            try:
                if await self.pass_once() is None:
                    return
            except ActuatorError as e:
                LOG.info("reconcile pass failed: %s", e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       self._settle_interval if self._starting else self._interval)

    async def close(self) -> None:
        """Cancel the steps in flight (as a crash would) and wait for them to stop."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


AckSource = Callable[[], Awaitable[int | None]]


class WebhookReconciler:
    """Converges a webhook group: hands its desired capacity to the endpoint until it says 2xx.

    There are no units to count: the state is the capacity the endpoint last acknowledged, which
    the caller keeps (``acknowledged``) — the store reads it from the last Successful activity,
    whose ``details`` carry ``desired`` and ``previous``. A pass with nothing to hand over does
    nothing; a failed hand-over is a Failed activity and the next pass tries again. Each change's
    idempotency key is its activity id; the payload *sets* a capacity, so a receiver that acts on
    a duplicate twice ends in the same place.

    Args:
        spec_source: reads the group (desired capacity from the store); None when it is gone.
        acknowledged: the capacity the endpoint last acknowledged (None: never told).
        actuator: the group's webhook.
        record: stores a scaling activity (at start and at end).
        clock: wall clock for activity times.
    """

    def __init__(self, spec_source: SpecSource, acknowledged: AckSource, actuator: WebhookActuator,
                 record: Recorder, *, clock: Callable[[], float] = time.time) -> None:
        self._spec_source = spec_source
        self._acknowledged = acknowledged
        self._actuator = actuator
        self._record = record
        self._clock = clock

    async def pass_once(self) -> bool | None:
        """Hand the desired capacity over if the endpoint does not have it: True if it did, None if gone."""
        spec = await self._spec_source()
        if spec is None:
            return None
        previous = await self._acknowledged()
        desired = min(max(spec.desired_capacity, spec.min_size), spec.max_size)
        if previous == desired:
            return False
        start = self._clock()
        before = previous or 0
        verb = "increasing" if desired > before else "shrinking"
        cause = (f"At {_at(start)} the capacity was handed to the group's webhook in response to a difference "
                 f"between desired and actual capacity, {verb} the capacity from {before} to {desired}.")
        activity = Activity(str(uuid.uuid4()), spec.account, spec.name, cause,
                            f"Setting the capacity of webhook {self._actuator.url} to {desired}", "InProgress",
                            start=start, details={"desired": str(desired), "previous": str(before)})
        await self._record(activity)
        try:
            await self._actuator.set_capacity(CapacityChange(spec.name, desired, before, cause, activity.id))
        except ActuatorError as e:
            await self._record(replace(activity, status="Failed", status_message=str(e), progress=100,
                                       end=self._clock()))
            return False
        await self._record(replace(activity, status="Successful", progress=100, end=self._clock()))
        return True
