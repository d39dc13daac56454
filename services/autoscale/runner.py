"""One reconciler per group, kept in step with the store: the loop that makes desired capacity real.

:class:`GroupRunners` owns a :class:`~services.autoscale.reconcile.Reconciler` (a VM group) or a
:class:`~services.autoscale.reconcile.WebhookReconciler` (a webhook group) per stored group::

    store.groups ──scan (start, every scan_interval)──► GroupRunners ──► one task per group
        ▲                 servicer.changed(account, name) ──poke──┘          │
        │                                                                   ▼
        └── activities, instances ◄── record / InstanceMirror ◄── Reconciler ─► CloudStack

* **Started and stopped with groups.** At start every stored group gets its runner (so a restart
  resumes where the last process stopped: the reconciler keeps nothing that matters in memory).
  The servicer calls :meth:`GroupRunners.changed` after each write to a group (create, update,
  desired capacity, policy execution, terminate), which starts the runner of a new group or pokes
  an existing one so it plans at once; a periodic scan catches whatever a poke missed (another
  replica's write). A deleted group is drained first: its spec is served with ``min = desired = 0``
  until no VM of it is left (ForceDelete terminates instances, as AWS does), then its runner ends.
* **Activities.** Each step the reconciler takes is written to the store's ``activities`` as an
  AWS scaling activity (InProgress, then Successful or Failed with a StatusMessage).
* **Instances.** :class:`InstanceMirror` wraps the actuator: each listing of a group's VMs is
  written to the ``instances`` table when it differs from what is stored (``Pending`` while
  starting or outside a load balancer rule, ``InService``, ``Unhealthy`` health for a VM in Error,
  gone once destroyed), so DescribeAutoScalingInstances shows what CloudStack runs.
  TerminateInstanceInAutoScalingGroup marks a row ``Terminating``; the mirror then reports that VM
  to the planner in the state ``Terminating`` (an unhealthy state), so the next pass destroys it and,
  unless the desired capacity was decremented, replaces it; the servicer's InProgress activity is
  completed by the reconciler's outcome.

Webhook groups
--------------
A group whose tags hold ``stackwatch:webhook-url`` is a webhook group: its capacity is a number
POSTed to that URL, signed with the tag ``stackwatch:webhook-secret`` (see
:mod:`services.autoscale.actuators.webhook`). Both are plain AWS ``Tags`` of
CreateAutoScalingGroup, so any AWS client can make one; the launch configuration is still
required by the API but no VM is made from it. The capacity the endpoint last acknowledged is read
back from the group's last Successful hand-over activity, so a restart does not repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from services.autoscale.actuators.base import TERMINATING, Unit, UnitActuator
from services.autoscale.actuators.webhook import WebhookActuator
from services.autoscale.domain import GroupSpec
from services.autoscale.domain.scaling import Activity as StoredActivity
from services.autoscale.domain.scaling import ActivityStatus
from services.autoscale.reconcile import Activity, Reconciler, WebhookReconciler
from services.autoscale.records import GroupRecord
from services.autoscale.store import AutoscaleStore, Instance

LOG = logging.getLogger(__name__)

WEBHOOK_URL_TAG = "stackwatch:webhook-url"
WEBHOOK_SECRET_TAG = "stackwatch:webhook-secret"  # noqa: S105 - a tag key, not a secret
WEBHOOK_PREFIX = "Setting the capacity of webhook"


def webhook_of(group: GroupRecord | GroupSpec) -> tuple[str, str] | None:
    """``(url, secret)`` of a webhook group, None for a VM group."""
    tags = {t.key: t.value for t in group.tags}
    url = tags.get(WEBHOOK_URL_TAG)
    return (url, tags.get(WEBHOOK_SECRET_TAG, "")) if url else None


def stored_activity(a: Activity) -> StoredActivity:
    """The reconciler's activity as the store keeps it."""
    return StoredActivity(a.id, a.group, a.cause, a.description, ActivityStatus(a.status), int(a.start * 1000),
                          None if a.end is None else int(a.end * 1000), a.progress, a.status_message,
                          json.dumps(a.details, sort_keys=True))


def lifecycle(unit: Unit, spec: GroupSpec) -> tuple[str, str]:
    """``(LifecycleState, HealthStatus)`` of a VM as DescribeAutoScalingInstances shows it."""
    if unit.state == TERMINATING or unit.state in ("Destroyed", "Expunging"):
        return "Terminating", "Healthy" if unit.healthy else "Unhealthy"
    if not unit.healthy:
        return "InService", "Unhealthy"
    if unit.state == "Running" and set(spec.load_balancer_rule_ids) <= unit.lb_rule_ids:
        return "InService", "Healthy"
    return "Pending", "Healthy"


class InstanceMirror:
    """A :class:`UnitActuator` that keeps the store's ``instances`` in step with each listing.

    Args:
        inner: the real actuator.
        store: the service's store.
        clock: wall clock (seconds).
    """

    def __init__(self, inner: UnitActuator, store: AutoscaleStore, clock: Callable[[], float] = time.time) -> None:
        self._inner = inner
        self._store = store
        self._clock = clock
        self._known: dict[tuple[str, str], dict[str, Instance]] = {}

    async def _stored(self, spec: GroupSpec) -> dict[str, Instance]:
        key = (spec.account, spec.name)
        if key not in self._known:
            self._known[key] = {i.instance_id: i for i in await self._store.instances(spec.account, spec.name)}
        return self._known[key]

    async def list_units(self, group: GroupSpec) -> list[Unit]:
        """The inner listing, with user-terminated VMs reported as ``Terminating``; the table updated."""
        units = await self._inner.list_units(group)
        known = await self._stored(group)
        now = int(self._clock() * 1000)
        out: list[Unit] = []
        seen: set[str] = set()
        writes: list[Awaitable[None]] = []
        for u in units:
            seen.add(u.id)
            before = known.get(u.id)
            if before is not None and before.lifecycle_state == "Terminating" and not u.gone:
                u = dataclasses.replace(u, state=TERMINATING)
            out.append(u)
            state, health = lifecycle(u, group)
            row = Instance(group.name, u.id, state, health, group.launch_configuration.name,
                           group.launch_configuration.zone_id)
            if before != row and not (before is not None and before.lifecycle_state == "Terminating"
                                      and u.state == TERMINATING):
                writes.append(self._store.put_instance(group.account, row, now))
                known[u.id] = row
        for gone in [i for i in known if i not in seen]:
            writes.append(self._store.put_instance(group.account, known.pop(gone), now, deleted=True))
        try:
            await asyncio.gather(*writes)  # one INSERT for them all (the store batches)
        except BaseException:
            self._known.pop((group.account, group.name), None)  # not known to be stored: read again
            raise
        return out

    def forget(self, account: str, group: str) -> None:
        """Drop the cached rows of a group (its runner ended)."""
        self._known.pop((account, group), None)

    async def create_unit(self, group: GroupSpec, name: str) -> Unit:
        """Delegated."""
        return await self._inner.create_unit(group, name)

    async def destroy_unit(self, group: GroupSpec, unit: Unit) -> None:
        """Delegated (the row goes at the next listing)."""
        await self._inner.destroy_unit(group, unit)

    async def attach(self, group: GroupSpec, unit: Unit, rule_id: str) -> None:
        """Delegated."""
        await self._inner.attach(group, unit, rule_id)

    async def repair_tags(self, group: GroupSpec, unit: Unit) -> None:
        """Delegated."""
        await self._inner.repair_tags(group, unit)


class _Runner:
    """The task of one group and how to wake it."""

    def __init__(self, poke: Callable[[], None]) -> None:
        self.poke = poke
        self.task: asyncio.Task[None] | None = None
        self.reconciler: Reconciler | None = None


class GroupRunners:
    """Runs one reconciler per stored group (see the module docstring).

    Args:
        store: the service's store.
        actuator: runs VM groups (None: no CloudStack configured; VM groups are then left alone
            and only webhook groups run).
        interval: seconds between a reconciler's passes when nothing happens.
        settle_interval: seconds between passes while a VM is starting.
        scan_interval: seconds between scans of the store for groups created or deleted elsewhere.
        webhook_options: keyword arguments of each :class:`WebhookActuator`.
        clock: wall clock (seconds).
    """

    def __init__(self, store: AutoscaleStore, actuator: UnitActuator | None, *, interval: float = 10.0,
                 settle_interval: float = 1.0, scan_interval: float = 30.0,
                 webhook_options: dict[str, Any] | None = None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._mirror = InstanceMirror(actuator, store, clock) if actuator is not None else None
        self._interval = interval
        self._settle_interval = settle_interval
        self._scan_interval = scan_interval
        self._webhook_options = webhook_options or {}
        self._clock = clock
        self._runners: dict[tuple[str, str], _Runner] = {}
        self._scanner: asyncio.Task[None] | None = None

    @property
    def groups(self) -> frozenset[tuple[str, str]]:
        """``(account, group)`` of every running runner."""
        return frozenset(self._runners)

    def reconciler(self, account: str, name: str) -> Reconciler | None:
        """The reconciler of a VM group, if it runs (tests and the benchmark look at ``settled``)."""
        runner = self._runners.get((account, name))
        return runner.reconciler if runner else None

    async def start(self) -> None:
        """Start a runner for every stored group, and the periodic scan."""
        await self.scan()
        self._scanner = asyncio.create_task(self._scan_forever(), name="autoscale scan")

    async def stop(self) -> None:
        """Stop every runner (steps in flight are cancelled, as a crash would; the next start resumes)."""
        if self._scanner is not None:
            self._scanner.cancel()
            await asyncio.gather(self._scanner, return_exceptions=True)
        runners = list(self._runners.values())
        self._runners.clear()
        for r in runners:
            if r.task is not None:
                r.task.cancel()
        await asyncio.gather(*(r.task for r in runners if r.task is not None), return_exceptions=True)
        await asyncio.gather(*(r.reconciler.close() for r in runners if r.reconciler is not None),
                             return_exceptions=True)

    async def scan(self) -> None:
        """Start runners for groups that have none (a runner ends by itself once its group is gone)."""
        for g in await self._store.all_groups():
            self._ensure(g)

    async def _scan_forever(self) -> None:
        while True:
            await asyncio.sleep(self._scan_interval)
            try:
                await self.scan()
            except Exception:  # the store may be briefly unreachable; the next scan tries again
                LOG.exception("scanning groups failed")

    def changed(self, account: str, name: str) -> None:
        """A group was written: wake its runner, or start one (called by the servicer)."""
        if self._mirror is not None:
            self._mirror.forget(account, name)  # TerminateInstance marks rows: read them again
        runner = self._runners.get((account, name))
        if runner is not None:
            runner.poke()
            return
        asyncio.get_running_loop().create_task(self._start_by_name(account, name))

    async def _start_by_name(self, account: str, name: str) -> None:
        try:
            for g in await self._store.groups(account, [name]):
                self._ensure(g)
        except Exception:
            LOG.exception("starting the runner of %s failed; the next scan starts it", name)

    def _ensure(self, group: GroupRecord) -> None:
        key = (group.account, group.name)
        if key in self._runners:
            return
        hook = webhook_of(group)
        if hook is None and self._mirror is None:
            return
        wake = asyncio.Event()
        runner = _Runner(wake.set)
        self._runners[key] = runner
        if hook is not None:
            runner.task = asyncio.create_task(self._webhook_loop(group, hook, wake), name=f"webhook {group.name}")
        else:
            runner.task = asyncio.create_task(self._vm_loop(group, runner), name=f"reconcile {group.name}")
        runner.task.add_done_callback(lambda _t: self._ended(key, runner))

    def _ended(self, key: tuple[str, str], runner: _Runner) -> None:
        if self._runners.get(key) is runner:
            del self._runners[key]
        if self._mirror is not None:
            self._mirror.forget(*key)

    async def _record(self, activity: Activity) -> None:
        stored = stored_activity(activity)
        unit = activity.details.get("unit", "")
        if unit and activity.description.startswith("Terminating VM"):
            # a TerminateInstanceInAutoScalingGroup: complete the activity the servicer returned
            wanted = f"Terminating EC2 instance: {unit}"
            for _, a in await self._store.activities(activity.account, activity.group, limit=20):
                if a.description == wanted and a.status == ActivityStatus.IN_PROGRESS:
                    if activity.status == "InProgress":
                        return
                    stored = dataclasses.replace(stored, activity_id=a.activity_id, cause=a.cause,
                                                 description=a.description, start_ms=a.start_ms)
                    break
        await self._store.put_activity(activity.account, stored, int(self._clock() * 1000))

    async def _vm_loop(self, group: GroupRecord, runner: _Runner) -> None:
        assert self._mirror is not None
        mirror = self._mirror
        last: list[GroupSpec] = [group.spec()]

        async def spec_source() -> GroupSpec | None:
            found = await self._store.groups(group.account, [group.name])
            if found:
                last[0] = found[0].spec()
                return last[0]
            # deleted: drain its VMs first (ForceDelete), then stop
            drained = dataclasses.replace(last[0], min_size=0, desired_capacity=0)
            if not await mirror.list_units(drained):
                return None
            return drained

        reconciler = Reconciler(spec_source, mirror, self._record, interval=self._interval,
                                settle_interval=self._settle_interval, clock=self._clock)
        runner.reconciler = reconciler
        runner.poke = reconciler.poke
        try:
            await reconciler.run()
        finally:
            await reconciler.close()

    async def _webhook_loop(self, group: GroupRecord, hook: tuple[str, str], wake: asyncio.Event) -> None:
        url, secret = hook

        async def spec_source() -> GroupSpec | None:
            found = await self._store.groups(group.account, [group.name])
            return found[0].spec() if found else None

        async def acknowledged() -> int | None:
            for _, a in await self._store.activities(group.account, group.name, limit=100):
                if a.status == ActivityStatus.SUCCESSFUL and a.description.startswith(WEBHOOK_PREFIX):
                    return int(json.loads(a.details).get("desired", 0))
            return None

        reconciler = WebhookReconciler(spec_source, acknowledged, WebhookActuator(url, secret, **self._webhook_options),
                                       self._record, clock=self._clock)
        while True:
            wake.clear()
            try:
                if await reconciler.pass_once() is None:
                    return
            except Exception:  # the store was unreachable: the next pass tries again
                LOG.exception("webhook group %s: pass failed", group.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._interval)
