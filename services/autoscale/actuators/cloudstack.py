"""The CloudStack actuator: a group's units are VMs in the tenant's own CloudStack account.

Whose credentials
-----------------
Every call is signed with StackWatch's **service account** (the admin keys the auth service
already uses) and names the tenant with ``account`` + ``domainid``, as CloudStack's own
AutoScale acts through its ``autoscaleuserid``. We chose this over signing with the tenant's keys
because:

* secrets never leave the auth service (DESIGN decision 5): the autoscale service would have to
  fetch and hold every tenant's secret key, and a key rotation would break its groups;
* ``destroyVirtualMachine`` with ``expunge=true`` is admin-only unless the cloud sets
  ``allow.user.expunge.recover.vm``; without expunge a destroyed VM keeps its host name until the
  expunge interval, which would block the slot names below;
* the VMs still belong to the tenant's account (its quotas, its billing, its network and LB rules),
  which is all isolation needs — provided every call is scoped: lists pass ``account`` and
  ``domainid``, and a VM is only touched if it came from such a list (:meth:`list_units`), so a
  tenant's group can never reach another account's VMs.

The tenant is the account uuid; its name and domain are looked up once (``listAccounts``).

Idempotent create
-----------------
A unit is a VM whose host name is the reconciler's slot name (``as-<digest>-<slot>``).
:meth:`CloudStackActuator.create_unit` first looks the name up, and deploys only when no VM holds
it; CloudStack itself refuses a second VM with the same host name in a network (431), which we
read as "it exists". So a deploy whose answer was lost, retried by tenacity or re-planned after
a restart, finds the first VM instead of making a second. After the job, the VM gets the group's
tags (``stackwatch:group``, ``stackwatch:account``, ``stackwatch:launch`` and the group tags that
propagate); a VM found by name without them is repaired by :meth:`repair_tags`.

Retries
-------
Each operation is retried as a whole (tenacity, exponential backoff with jitter, bounded attempts
and deadline) on recoverable failures only: no answer, a 5xx without envelope, 429/503/530/534
(also as a failed job's result), or a job still pending when we stopped waiting. Anything else
(a 431, a 531, a 533 "insufficient capacity") is an :class:`ActuatorError` with
``recoverable=False`` at once; the reconciler records it and plans again later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from services.autoscale.actuators.base import (
    GONE_STATES,
    TAG_ACCOUNT,
    TAG_GROUP,
    TAG_LAUNCH,
    ActuatorError,
    Unit,
    group_digest,
    launch_fingerprint,
    slot_of,
)
from services.autoscale.domain import GroupSpec
from stackwatch.cloudstack import CloudStackClient, CloudStackError, CloudStackJobTimeout, CloudStackUnavailable
from stackwatch.cloudstack import map_param as _map_param

LOG = logging.getLogger(__name__)
T = TypeVar("T")
_ALREADY = ("already exists", "already mapped", "already on")


def _recoverable(exc: BaseException) -> bool:
    return isinstance(exc, CloudStackUnavailable | CloudStackJobTimeout)


def _created(text: object) -> float:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return 0.0


def _is_tagged(vm: dict[str, Any], group: GroupSpec) -> bool:
    tags = {t.get("key"): t.get("value") for t in vm.get("tags") or []}
    return tags.get(TAG_GROUP) == group.name and tags.get(TAG_ACCOUNT) == group.account


class CloudStackActuator:
    """Runs groups' units as CloudStack VMs (see the module docstring).

    Args:
        client: a client signing with the StackWatch service account (admin) keys.
        attempts: most attempts per operation (each attempt may itself retry reads).
        deadline: seconds an operation may take over all its attempts.
        backoff: first retry delay in seconds.
    """

    def __init__(self, client: CloudStackClient, *, attempts: int = 4, deadline: float = 120.0,
                 backoff: float = 0.5) -> None:
        self._cs = client
        self._attempts = attempts
        self._deadline = deadline
        self._backoff = backoff
        self._owners: dict[str, dict[str, str]] = {}

    async def _retry(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_recoverable),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._deadline),
            wait=wait_exponential_jitter(multiplier=self._backoff, max=max(self._backoff * 8, 1.0),
                                         jitter=self._backoff),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await op()
        except CloudStackError as e:
            raise ActuatorError(f"{what}: {e}", recoverable=_recoverable(e)) from e
        raise AssertionError("unreachable")  # pragma: no cover

    async def _owner(self, account_id: str) -> dict[str, str]:
        """``{"account": name, "domainid": uuid}`` of the tenant, looked up once."""
        owner = self._owners.get(account_id)
        if owner is None:
            found = (await self._cs.call("listAccounts", id=account_id, listall=True)).get("account") or []
            if not found:
                raise CloudStackError(431, None, f"no CloudStack account {account_id}", "listAccounts")
            owner = {"account": found[0]["name"], "domainid": found[0]["domainid"]}
            self._owners[account_id] = owner
        return owner

    async def _vms(self, group: GroupSpec, **filters: Any) -> list[dict[str, Any]]:
        owner = await self._owner(group.account)
        vms = await self._cs.list_all("listVirtualMachines", "virtualmachine", **owner, **filters)
        # Scoped by account and domain; checked again so a misbehaving server cannot widen it.
        return [vm for vm in vms if vm.get("account") == owner["account"]
                and vm.get("domainid") == owner["domainid"] and vm.get("state") not in GONE_STATES]

    def _unit(self, group: GroupSpec, vm: dict[str, Any], members: dict[str, set[str]]) -> Unit:
        tags = {t.get("key"): t.get("value") for t in vm.get("tags") or []}
        return Unit(id=vm["id"], name=vm.get("name", ""), state=vm.get("state", ""),
                    created=_created(vm.get("created")), launch=str(tags.get(TAG_LAUNCH, "")),
                    lb_rule_ids=frozenset(r for r, ids in members.items() if vm["id"] in ids),
                    tagged=_is_tagged(vm, group))

    async def list_units(self, group: GroupSpec) -> list[Unit]:
        """The group's VMs: tagged with it, or named with its digest; with their LB memberships."""
        async def op() -> list[Unit]:
            # CloudStack matches a VM carrying ANY of several ``tags[n]``, so this lists every
            # group of the tenant named alike; only VMs with both of this group's tags are kept
            # (another group's VMs counted here would be scaled in as surplus).
            by_tag = await self._vms(group, **_map_param("tags", [{"key": TAG_GROUP, "value": group.name}]))
            by_name = await self._vms(group, keyword=f"as-{group_digest(group.account, group.name)}-")
            vms = {vm["id"]: vm for vm in by_tag if _is_tagged(vm, group)}
            vms.update((vm["id"], vm) for vm in by_name
                       if slot_of(group.account, group.name, vm.get("name", "")) is not None)
            members: dict[str, set[str]] = {}
            for rule in group.load_balancer_rule_ids:
                listed = await self._cs.list_all("listLoadBalancerRuleInstances", "loadbalancerruleinstance", id=rule)
                members[rule] = {vm["id"] for vm in listed}
            return [self._unit(group, vm, members) for vm in vms.values()]
        return await self._retry(f"list units of {group.name}", op)

    async def _by_name(self, group: GroupSpec, name: str) -> dict[str, Any] | None:
        # exact match: some CloudStack versions match ``name`` as a substring (as-…-1 finds as-…-10)
        return next((vm for vm in await self._vms(group, name=name) if vm.get("name") == name), None)

    async def create_unit(self, group: GroupSpec, name: str) -> Unit:
        """Deploy VM ``name`` unless it exists; wait for its job; tag it. Returns it as it is now."""
        async def op() -> Unit:
            vm = await self._by_name(group, name)
            if vm is None:
                vm = await self._deploy(group, name)
            unit = self._unit(group, vm, {})
            if not unit.tagged and unit.state not in GONE_STATES:
                await self._tag(group, unit, vm)
                unit = Unit(unit.id, unit.name, unit.state, unit.created, launch_fingerprint(group), unit.lb_rule_ids)
            return unit
        return await self._retry(f"create {name}", op)

    async def _deploy(self, group: GroupSpec, name: str) -> dict[str, Any]:
        lc = group.launch_configuration
        params: dict[str, Any] = {"zoneid": lc.zone_id, "serviceofferingid": lc.instance_type,
                                  "templateid": lc.image_id, "name": name, "displayname": name,
                                  **await self._owner(group.account)}
        if lc.network_ids:
            params["networkids"] = list(lc.network_ids)
        if lc.user_data:
            params["userdata"] = lc.user_data
        if lc.key_name:
            params["keypair"] = lc.key_name
        if lc.security_groups:
            params["securitygroupids"] = list(lc.security_groups)
        try:
            started = await self._cs.call("deployVirtualMachine", **params)
        except CloudStackError as e:
            if e.errorcode == 431 and "already exists" in e.errortext:
                found = await self._by_name(group, name)
                if found is not None:
                    return found
            raise
        LOG.info("deploying %s for group %s (job %s)", name, group.name, started.get("jobid"))
        try:
            result = await self._cs.wait_for_job(str(started.get("jobid")), command="deployVirtualMachine")
        except CloudStackError as e:
            if isinstance(e, CloudStackJobTimeout) or e.jobid is None:
                raise
            # The job failed: the VM stays, in Error; return it so the reconciler replaces it.
            LOG.warning("deploy of %s failed: %s", name, e.errortext)
            found = await self._by_name(group, name)
            if found is None:
                raise
            return found
        vm = result.get("virtualmachine")
        return vm if isinstance(vm, dict) else (await self._by_name(group, name) or {"id": started["id"],
                                                                                      "name": name})

    async def _tag(self, group: GroupSpec, unit: Unit, vm: dict[str, Any]) -> None:
        have = {t.get("key") for t in vm.get("tags") or []}
        wanted = [{"key": TAG_GROUP, "value": group.name}, {"key": TAG_ACCOUNT, "value": group.account},
                  {"key": TAG_LAUNCH, "value": launch_fingerprint(group)}]
        wanted += [{"key": t.key, "value": t.value} for t in group.tags
                   if t.propagate_at_launch and not t.key.startswith("stackwatch:")]
        missing = [t for t in wanted if t["key"] not in have]
        if not missing:
            return
        try:
            await self._cs.call_async("createTags", resourcetype="UserVm", resourceids=[unit.id],
                                      **_map_param("tags", missing))
        except CloudStackError as e:
            if not (e.errorcode == 431 and "already on" in e.errortext):
                raise

    async def repair_tags(self, group: GroupSpec, unit: Unit) -> None:
        """Put the group's tags on a VM of the group that lacks them (its create was interrupted)."""
        async def op() -> None:
            vm = await self._by_name(group, unit.name)
            if vm is not None and vm["id"] == unit.id:
                await self._tag(group, unit, vm)
        await self._retry(f"tag {unit.name}", op)

    async def attach(self, group: GroupSpec, unit: Unit, rule_id: str) -> None:
        """``assignToLoadBalancerRule``; a VM already in the rule is success."""
        async def op() -> None:
            try:
                await self._cs.call_async("assignToLoadBalancerRule", id=rule_id, virtualmachineids=[unit.id])
            except CloudStackError as e:
                if not (e.errorcode == 431 and "already mapped" in e.errortext):
                    raise
        await self._retry(f"attach {unit.name} to {rule_id}", op)

    async def destroy_unit(self, group: GroupSpec, unit: Unit) -> None:
        """Remove the VM from the group's LB rules, then destroy it with ``expunge=true``."""
        async def op() -> None:
            vm = await self._by_name(group, unit.name)
            if vm is None or vm["id"] != unit.id:
                return  # already gone (or the name now belongs to a newer VM: not ours to destroy)
            for rule in sorted(unit.lb_rule_ids | set(group.load_balancer_rule_ids)):
                try:
                    await self._cs.call_async("removeFromLoadBalancerRule", id=rule, virtualmachineids=[unit.id])
                except CloudStackError as e:
                    if e.errorcode != 431:
                        raise
            try:
                await self._cs.call_async("destroyVirtualMachine", id=unit.id, expunge=True)
            except CloudStackError as e:
                if e.errorcode != 431:  # "unable to find": it went while we asked
                    raise
        await self._retry(f"destroy {unit.name}", op)
