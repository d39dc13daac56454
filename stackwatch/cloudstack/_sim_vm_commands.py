"""Virtual machines, tags and load balancer membership: the commands an autoscaler uses.

VM life cycle as the simulator plays it (``→`` marks the job completing)::

    deployVirtualMachine   Starting ──→ Running     (startvm=false: Stopped)
                           Starting ──→ Error       (after sim.fail_next_deploys(): 533 in the job)
    destroyVirtualMachine  any ──→ Destroyed        (expunge=true: Expunging, then gone)

Faithful details, from ``QueryManagerImpl.searchForUserVMIdsAndCount`` and the commands:

* ``listVirtualMachines``: ``name`` matches exactly; ``keyword`` is a substring of name or
  display name, or equals the state; several ``tags[n]`` match when ANY one pair matches
  (CloudStack ORs them); a tag without a value is a 431 "No value is passed in for key ...";
  ``id`` with ``ids`` is a 431; ``state=present`` hides Destroyed/Expunging; non-admins never see
  Destroyed or Expunging VMs (``allow.user.view.destroyed.vm`` defaults to false); results come
  in creation order.
* Parameters are checked when the command arrives (missing, unknown uuid: 431 at once); what the
  service layer checks inside the job (VM already gone, VM not in the rule's network, a user
  asking to expunge) fails the job instead.
* ``createTags`` adds its tags when the job completes; a key already on the resource fails the
  job. Destroying a VM takes it out of every load balancer rule.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from stackwatch.cloudstack._sim_api import (
    LIST_PARAMS,
    Ctx,
    P,
    Spec,
    Started,
    check_owner,
    invalid_value,
    page,
    permission_denied,
    visible_account_ids,
)
from stackwatch.cloudstack._sim_state import Account, ApiFailure, InstanceGroup, Tag, VirtualMachine
from stackwatch.cloudstack._sim_views import lb_rule_view, tag_view, vm_view

_HOSTNAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{0,62}")
_BAD_NAME = ("Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', "
             "and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with "
             "\"-\" and can't start with digit")
_GONE = ("Destroyed", "Expunging")
RESOURCE_TYPES = ("UserVm",)


def _tag_filter(entries: list[dict[str, str]]) -> list[tuple[str, str]]:
    pairs: dict[str, str] = {}
    for entry in entries:
        if entry.get("value") is None:
            raise invalid_value(f"No value is passed in for key {entry.get('key')}")
        pairs[entry.get("key", "")] = entry["value"]
    return list(pairs.items())


def _matches(ctx: Ctx, vm: VirtualMachine, args: dict[str, Any], tags: list[tuple[str, str]]) -> bool:
    state = args.get("state")
    keyword = args.get("keyword")
    if state is not None and state.lower() == "present" and vm.state in _GONE:
        return False
    if state is not None and state.lower() != "present" and state.lower() != vm.state.lower():
        return False
    if not ctx.admin and vm.state in _GONE:
        return False
    if keyword is not None and not (keyword in vm.name or keyword in vm.displayname or keyword == vm.state):
        return False
    if tags and not any((t.key, t.value) in tags for t in ctx.state.tags_on(vm.id)):
        return False
    wanted = {"id": vm.id, "name": vm.name, "zoneid": vm.zone_id, "groupid": vm.group_id,
              "templateid": vm.template_id, "serviceofferingid": vm.serviceoffering_id,
              "networkid": vm.network_id}
    return all(args.get(k) in (None, v) for k, v in wanted.items()) and vm.id in args.get("ids", [vm.id])


def list_virtual_machines(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listVirtualMachines``."""
    if "id" in args and args.get("ids"):
        raise invalid_value("Specify either id or ids but not both parameters")
    tags = _tag_filter(args.get("tags", []))
    accounts = visible_account_ids(ctx, args)
    vms = [vm for vm in ctx.state.vms.values() if vm.removed is None
           and (accounts is None or vm.account_id in accounts) and _matches(ctx, vm, args, tags)]
    return page(args, [vm_view(ctx.state, vm, ctx.admin) for vm in vms], "virtualmachine")


def _owner(ctx: Ctx, args: dict[str, Any]) -> Account:
    name = args.get("account")
    if name is None:
        return ctx.account
    domain_id = args.get("domainid", ctx.account.domain_id)
    account = next((a for a in ctx.state.accounts.values() if a.name == name and a.domain_id == domain_id),
                   None)
    if account is None:
        raise invalid_value(f"Unable to find account {name} in domain id={domain_id}")
    check_owner(ctx, account.id, f"Acct[{account.id}-{account.name}]")
    return account


def _group(ctx: Ctx, owner: Account, name: str | None) -> str | None:
    if not name:
        return None
    for group in ctx.state.groups.values():
        if group.name == name and group.account_id == owner.id:
            return group.id
    group = InstanceGroup(str(uuid.uuid4()), name, owner.id, ctx.state.clock.now())
    ctx.state.groups[group.id] = group
    return group.id


def deploy_virtual_machine(ctx: Ctx, args: dict[str, Any]) -> Started:
    """``deployVirtualMachine``: the VM exists at once (Starting); the job starts it."""
    state = ctx.state
    owner = _owner(ctx, args)
    name = args.get("name")
    if name is not None and (not _HOSTNAME.fullmatch(name) or name.endswith("-")):
        raise invalid_value(_BAD_NAME)
    network_ids = args.get("networkids") or [owner.network_id]
    network = state.networks[network_ids[0]]
    check_owner(ctx, network.account_id, f"Ntwk[{network.id}]")
    vm_id = str(uuid.uuid4())
    name = name or f"VM-{vm_id}"
    if any(v.name == name and v.network_id == network.id and v.removed is None for v in state.vms.values()):
        raise invalid_value(f"The vm with hostName {name} already exists in the network domain: "
                            f"cs{owner.number}cloud.internal; network={network.name}")
    host = next(network.hosts)
    mac = f"02:00:{owner.number & 255:02x}:{host >> 8 & 255:02x}:{host & 255:02x}:01"
    vm = VirtualMachine(vm_id, name, args.get("displayname") or name,
                        f"i-{owner.number}-{state.next_vm_number()}-VM", owner.id, args["zoneid"],
                        args["serviceofferingid"], args["templateid"], network.id, f"{network.prefix}{host}",
                        mac, _group(ctx, owner, args.get("group")), "Starting", state.clock.now())
    state.vms[vm.id] = vm
    fails = bool(state.deploy_failures)
    failure = state.deploy_failures.popleft() if fails else ""
    start = args.get("startvm", True)

    def run() -> dict[str, Any]:
        if fails:
            vm.state = "Error"
            raise ApiFailure(533, failure or f"Unable to create a deployment for VM[User|{vm.instancename}]")
        vm.state = "Running" if start else "Stopped"
        return {"virtualmachine": vm_view(state, vm, ctx.admin)}

    return Started(run, "VirtualMachine", vm.id, created_id=vm.id)


def destroy_virtual_machine(ctx: Ctx, args: dict[str, Any]) -> Started:
    """``destroyVirtualMachine``: Destroyed, or with ``expunge`` Expunging and then removed."""
    state = ctx.state
    vm = state.vms[args["id"]]
    check_owner(ctx, vm.account_id, f"VM instance {{id: {vm.id}, name: {vm.instancename}}}")
    expunge = args.get("expunge", False)

    def run() -> dict[str, Any]:
        if vm.removed is not None:
            raise invalid_value(f"unable to find a virtual machine with id {vm.id}")
        if expunge and not ctx.admin and not state.allow_user_expunge:
            raise ApiFailure(531, "Parameter expunge can be passed by Admin only. Or when the "
                                  "allow.user.expunge.recover.vm key is set.", 4365)
        if vm.state in _GONE and not expunge:
            return {"virtualmachine": vm_view(state, vm, ctx.admin)}
        for rule in state.lbrules.values():
            if vm.id in rule.members:
                rule.members.remove(vm.id)
        vm.state = "Expunging" if expunge else "Destroyed"
        view = vm_view(state, vm, ctx.admin)
        if expunge:
            vm.removed = state.clock.now()
            state.remove_tags(lambda t: t.resource_id == vm.id)
        return {"virtualmachine": view}

    return Started(run, "VirtualMachine", vm.id)


def _tagged_vms(ctx: Ctx, args: dict[str, Any]) -> list[VirtualMachine]:
    if args["resourcetype"].lower() not in (t.lower() for t in RESOURCE_TYPES):
        raise invalid_value(f"Invalid resource type {args['resourcetype']}")
    vms = []
    for resource_id in args["resourceids"].split(","):
        vm = ctx.state.vms.get(resource_id.lower())
        if vm is None or vm.removed is not None:
            raise invalid_value(f"Unable to find resource by id {resource_id} and type UserVm")
        check_owner(ctx, vm.account_id, f"VM instance {{id: {vm.id}}}")
        vms.append(vm)
    return vms


def create_tags(ctx: Ctx, args: dict[str, Any]) -> Started:
    """``createTags`` on UserVm resources."""
    state = ctx.state
    vms = _tagged_vms(ctx, args)
    pairs = [(e.get("key", ""), e.get("value", "")) for e in args["tags"]]

    def run() -> dict[str, Any]:
        for vm in vms:
            for key, _ in pairs:
                if any(t.key == key for t in state.tags_on(vm.id)):
                    raise invalid_value(f"tag {key} already on UserVm {vm.id}")
        state.add_tags(Tag(k, v, "UserVm", vm.id, vm.account_id) for vm in vms for k, v in pairs)
        return {"success": True}

    return Started(run)


def delete_tags(ctx: Ctx, args: dict[str, Any]) -> Started:
    """``deleteTags``: a tag entry without a value removes the key whatever its value."""
    state = ctx.state
    ids = {vm.id for vm in _tagged_vms(ctx, args)}
    wanted = [(e.get("key"), e.get("value")) for e in args.get("tags", [])]

    def hit(tag: Tag) -> bool:
        return tag.resource_id in ids and (not wanted or any(
            k == tag.key and v in (None, tag.value) for k, v in wanted))

    def run() -> dict[str, Any]:
        state.remove_tags(hit)
        return {"success": True}

    return Started(run)


def list_tags(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listTags``."""
    accounts = visible_account_ids(ctx, args)
    tags = [t for t in ctx.state.tags if (accounts is None or t.account_id in accounts)
            and args.get("resourcetype", t.resource_type).lower() == t.resource_type.lower()
            and args.get("resourceid", t.resource_id).lower() == t.resource_id
            and args.get("key") in (None, t.key) and args.get("value") in (None, t.value)]
    return page(args, [tag_view(ctx.state, t) for t in tags], "tag")


def list_load_balancer_rules(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listLoadBalancerRules``."""
    accounts = visible_account_ids(ctx, args)
    rules = [r for r in ctx.state.lbrules.values() if (accounts is None or r.account_id in accounts)
             and args.get("id") in (None, r.id) and args.get("name") in (None, r.name)
             and args.get("networkid") in (None, r.network_id)]
    return page(args, [lb_rule_view(ctx.state, r) for r in rules], "loadbalancerrule")


def _membership(ctx: Ctx, args: dict[str, Any], assign: bool) -> Started:
    state = ctx.state
    rule = state.lbrules[args["id"]]
    check_owner(ctx, rule.account_id, f"LoadBalancer[{rule.id}]")
    vm_ids = list(args.get("virtualmachineids", [])) + [e["vmid"].lower() for e in args.get("vmidipmap", [])
                                                         if "vmid" in e]
    if not vm_ids:
        raise invalid_value("Provide either virtualmachineids or vmidipmap parameter")

    def run() -> dict[str, Any]:
        for vm_id in vm_ids:
            vm = state.vms.get(vm_id)
            if vm is None or vm.removed is not None or vm.state in _GONE:
                raise invalid_value("Invalid instance id specified")
            if vm.account_id != rule.account_id and not ctx.admin:
                raise permission_denied(ctx, f"VM instance {{id: {vm.id}}}")
            if assign and vm.network_id != rule.network_id:
                raise invalid_value(f"VM {vm.id} is not in the network of load balancer rule {rule.id}")
            if assign and vm_id in rule.members:
                raise invalid_value(f"VM {vm.id} is already mapped to load balancer rule {rule.id}")
        for vm_id in vm_ids:
            if assign:
                rule.members.append(vm_id)
            elif vm_id in rule.members:
                rule.members.remove(vm_id)
        return {"success": True}

    return Started(run, "FirewallRule", rule.id)


def list_load_balancer_rule_instances(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listLoadBalancerRuleInstances`` (``lbvmips=true`` pairs each VM with its IPs)."""
    rule = ctx.state.lbrules[args["id"]]
    check_owner(ctx, rule.account_id, f"LoadBalancer[{rule.id}]")
    vms = [ctx.state.vms[vm_id] for vm_id in rule.members]
    views = [vm_view(ctx.state, vm, ctx.admin) for vm in vms]
    if args.get("lbvmips"):
        paired = [{"loadbalancerruleinstance": v, "lbvmipaddresses": [vm.ipaddress]}
                  for v, vm in zip(views, vms, strict=True)]
        return page(args, paired, "lbrulevmidip")
    return page(args, views, "loadbalancerruleinstance")


_VM_LIST = (P("id", "uuid", table="vms"), P("ids", "uuids", table="vms"), P("name"), P("state"),
            P("zoneid", "uuid", table="zones"), P("groupid", "uuid", table="groups"),
            P("templateid", "uuid", table="templates"),
            P("serviceofferingid", "uuid", table="serviceofferings"),
            P("networkid", "uuid", table="networks"), P("account"), P("domainid", "uuid", table="domains"),
            P("tags", "map"), P("details"), *LIST_PARAMS)
_DEPLOY = (P("zoneid", "uuid", True, "zones"), P("serviceofferingid", "uuid", True, "serviceofferings"),
           P("templateid", "uuid", True, "templates"), P("name"), P("displayname"), P("group"),
           P("networkids", "uuids", table="networks"), P("account"), P("domainid", "uuid", table="domains"),
           P("startvm", "bool"), P("userdata"), P("keypair"))
_TAGS = (P("resourcetype", required=True), P("resourceids", required=True), P("tags", "map", True),
         P("customer"))
_MEMBERS = (P("id", "uuid", True, "lbrules"), P("virtualmachineids", "uuids", table="vms"),
            P("vmidipmap", "map"))
_VM = "org.apache.cloudstack.api.command.{}.vm.{}"
_LB = "org.apache.cloudstack.api.command.user.loadbalancer.{}"
_TAG = "org.apache.cloudstack.api.command.user.tag.{}"

COMMANDS = {spec.name: spec for spec in (
    Spec("listVirtualMachines", list_virtual_machines, _VM_LIST),
    Spec("deployVirtualMachine", deploy_virtual_machine, _DEPLOY,
         job_cmd=(_VM.format("user", "DeployVMCmd"), _VM.format("admin", "DeployVMCmdByAdmin"))),
    Spec("destroyVirtualMachine", destroy_virtual_machine,
         (P("id", "uuid", True, "vms"), P("expunge", "bool")),
         job_cmd=(_VM.format("user", "DestroyVMCmd"), _VM.format("admin", "DestroyVMCmdByAdmin"))),
    Spec("createTags", create_tags, _TAGS,
         job_cmd=(_TAG.format("CreateTagsCmd"), _TAG.format("CreateTagsCmd"))),
    Spec("deleteTags", delete_tags, (P("resourcetype", required=True), P("resourceids", required=True),
                                     P("tags", "map")),
         job_cmd=(_TAG.format("DeleteTagsCmd"), _TAG.format("DeleteTagsCmd"))),
    Spec("listTags", list_tags, (P("resourcetype"), P("resourceid"), P("key"), P("value"), P("account"),
                                 *LIST_PARAMS)),
    Spec("listLoadBalancerRules", list_load_balancer_rules,
         (P("id", "uuid", table="lbrules"), P("name"), P("networkid", "uuid", table="networks"),
          P("account"), *LIST_PARAMS)),
    Spec("assignToLoadBalancerRule", lambda ctx, args: _membership(ctx, args, True), _MEMBERS,
         job_cmd=(_LB.format("AssignToLoadBalancerRuleCmd"), _LB.format("AssignToLoadBalancerRuleCmd"))),
    Spec("removeFromLoadBalancerRule", lambda ctx, args: _membership(ctx, args, False), _MEMBERS,
         job_cmd=(_LB.format("RemoveFromLoadBalancerRuleCmd"), _LB.format("RemoveFromLoadBalancerRuleCmd"))),
    Spec("listLoadBalancerRuleInstances", list_load_balancer_rule_instances,
         (P("id", "uuid", True, "lbrules"), P("lbvmips", "bool"), *LIST_PARAMS)),
)}
