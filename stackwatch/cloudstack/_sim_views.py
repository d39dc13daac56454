"""Rows rendered as CloudStack's response objects (``UserVmResponse``, ``UserResponse``, ...).

Field names and value types are CloudStack's (``cpunumber`` an int, ``isready`` a bool, dates as
``yyyy-MM-dd'T'HH:mm:ssZ``); the field order follows the response classes, since Gson writes
fields in declaration order. Only the fields StackWatch and common clients read are filled in;
the real objects carry more. Fields that only admins see (``hostid``, ``hostname``,
``instancename``) appear only for admins, as CloudStack's ``ResponseView.Full`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stackwatch.cloudstack._sim_state import (
    ACCOUNT_TYPES,
    JOB_PENDING,
    Account,
    AsyncJob,
    LoadBalancerRule,
    ServiceOffering,
    SimState,
    Tag,
    Template,
    User,
    VirtualMachine,
    Zone,
    stable_id,
)

HOST_ID = stable_id("host", "simulator-host-1")


def date(when: float) -> str:
    """CloudStack's output date format, in UTC: ``2025-03-01T10:00:00+0000``."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def user_view(state: SimState, user: User) -> dict[str, Any]:
    """A ``UserResponse``.

    ``secretkey`` only with ``state.secret_key_in_response`` (CloudStack's
    ``use.secret.key.in.response``, false by default since 4.10; always true before).
    """
    account = state.accounts[user.account_id]
    domain = state.domains[account.domain_id]
    role = ACCOUNT_TYPES[account.type]
    return {
        "id": user.id, "username": user.username, "firstname": user.firstname, "lastname": user.lastname,
        "email": user.email, "created": date(user.created), "state": user.state, "account": account.name,
        "accounttype": account.type, "usersource": "native", "roleid": stable_id("role", role),
        "roletype": role, "rolename": "Root Admin" if account.type == 1 else role, "domainid": domain.id,
        "domain": domain.name, "apikey": user.api_key, "accountid": account.id, "iscallerchilddomain": False,
        "isdefault": user.username == "admin" and account.type == 1, "is2faenabled": False,
        "is2famandated": False,
        **({"secretkey": user.secret_key} if state.secret_key_in_response else {}),
    }


def account_view(state: SimState, account: Account) -> dict[str, Any]:
    """An ``AccountResponse`` with its users (resource limits and counts left out)."""
    domain = state.domains[account.domain_id]
    role = ACCOUNT_TYPES[account.type]
    return {"id": account.id, "name": account.name, "accounttype": account.type,
            "roleid": stable_id("role", role), "roletype": role,
            "rolename": "Root Admin" if account.type == 1 else role, "domainid": domain.id,
            "domain": domain.name, "domainpath": domain.path, "state": account.state,
            "isdefault": account.type == 1,
            "user": [user_view(state, u) for u in state.users.values() if u.account_id == account.id]}


def keys_view(user: User) -> dict[str, Any]:
    """The ``userkeys`` object of ``getUserKeys`` / ``registerUserKeys``."""
    return {"apikey": user.api_key, "secretkey": user.secret_key}


def zone_view(zone: Zone) -> dict[str, Any]:
    """A ``ZoneResponse``."""
    return {"id": zone.id, "name": zone.name, "dns1": "8.8.8.8", "internaldns1": "10.0.0.2",
            "networktype": "Advanced", "securitygroupsenabled": False, "allocationstate": "Enabled",
            "zonetoken": stable_id("zonetoken", zone.id), "dhcpprovider": "VirtualRouter",
            "localstorageenabled": False, "tags": []}


def offering_view(offering: ServiceOffering, created: float) -> dict[str, Any]:
    """A ``ServiceOfferingResponse``."""
    return {"id": offering.id, "name": offering.name, "displaytext": offering.displaytext,
            "cpunumber": offering.cpunumber, "cpuspeed": offering.cpuspeed, "memory": offering.memory,
            "created": date(created), "storagetype": "shared", "offerha": False, "limitcpuuse": False,
            "isvolatile": False, "issystem": False, "defaultuse": False, "iscustomized": False}


def template_view(state: SimState, template: Template, created: float) -> dict[str, Any]:
    """A ``TemplateResponse`` (public, featured, ready)."""
    zone = state.zones[template.zone_id]
    return {"id": template.id, "name": template.name, "displaytext": template.displaytext, "ispublic": True,
            "created": date(created), "isready": True, "passwordenabled": False, "format": "QCOW2",
            "isfeatured": True, "crossZones": False, "ostypeid": stable_id("ostype", template.ostypename),
            "ostypename": template.ostypename, "account": "system", "zoneid": zone.id, "zonename": zone.name,
            "status": "Download Complete", "size": 2147483648, "templatetype": "BUILTIN",
            "hypervisor": "Simulator", "domain": "ROOT", "isextractable": False, "tags": []}


def tag_view(state: SimState, tag: Tag) -> dict[str, Any]:
    """A ``ResourceTagResponse``."""
    account = state.accounts[tag.account_id]
    domain = state.domains[account.domain_id]
    return {"key": tag.key, "value": tag.value, "resourcetype": tag.resource_type,
            "resourceid": tag.resource_id, "account": account.name, "domainid": domain.id,
            "domain": domain.name}


def vm_view(state: SimState, vm: VirtualMachine, admin: bool) -> dict[str, Any]:
    """A ``UserVmResponse``; ``admin`` adds the host and instance name."""
    account = state.accounts[vm.account_id]
    domain = state.domains[account.domain_id]
    zone = state.zones[vm.zone_id]
    offering = state.serviceofferings[vm.serviceoffering_id]
    template = state.templates[vm.template_id]
    network = state.networks[vm.network_id]
    view: dict[str, Any] = {
        "id": vm.id, "name": vm.name, "displayname": vm.displayname, "account": account.name,
        "domainid": domain.id, "domain": domain.name, "created": date(vm.created), "state": vm.state,
        "haenable": False,
    }
    if vm.group_id is not None:
        group = state.groups[vm.group_id]
        view.update(groupid=group.id, group=group.name)
    view.update(zoneid=zone.id, zonename=zone.name)
    if admin:
        view.update(hostid=HOST_ID, hostname="SimulatedAgent.1", instancename=vm.instancename)
    view.update(
        templateid=template.id, templatename=template.name, templatedisplaytext=template.displaytext,
        passwordenabled=False, serviceofferingid=offering.id, serviceofferingname=offering.name,
        cpunumber=offering.cpunumber, cpuspeed=offering.cpuspeed, memory=offering.memory,
        guestosid=stable_id("ostype", template.ostypename), rootdeviceid=0, rootdevicetype="ROOT",
        securitygroup=[],
        nic=[{"id": stable_id("nic", vm.id), "networkid": network.id, "networkname": network.name,
              "netmask": "255.255.255.0", "gateway": f"{network.prefix}1", "ipaddress": vm.ipaddress,
              "traffictype": "Guest", "type": "Isolated", "isdefault": True, "macaddress": vm.macaddress}],
        hypervisor="Simulator", affinitygroup=[], displayvm=True, isdynamicallyscalable=False,
        tags=[tag_view(state, t) for t in state.tags_on(vm.id)],
    )
    return view


def lb_rule_view(state: SimState, rule: LoadBalancerRule) -> dict[str, Any]:
    """A ``LoadBalancerResponse``."""
    account = state.accounts[rule.account_id]
    domain = state.domains[account.domain_id]
    zone = state.zones[rule.zone_id]
    return {"id": rule.id, "name": rule.name, "publicipid": stable_id("publicip", rule.publicip),
            "publicip": rule.publicip, "publicport": str(rule.publicport),
            "privateport": str(rule.privateport), "algorithm": rule.algorithm, "networkid": rule.network_id,
            "cidrlist": "", "account": account.name,
            "domainid": domain.id, "domain": domain.name, "state": "Active", "zoneid": zone.id,
            "zonename": zone.name, "protocol": "tcp", "fordisplay": True, "tags": []}


def job_view(job: AsyncJob) -> dict[str, Any]:
    """An ``AsyncJobResponse`` as ``queryAsyncJobResult`` returns it."""
    view: dict[str, Any] = {"accountid": job.account_id, "userid": job.user_id, "cmd": job.cmd,
                            "jobstatus": job.status, "jobprocstatus": 0, "jobresultcode": job.resultcode}
    if job.status != JOB_PENDING:
        view.update(jobresulttype="object", jobresult=job.result)
    if job.instance_type is not None:
        view["jobinstancetype"] = job.instance_type
    if job.instance_id is not None:
        view["jobinstanceid"] = job.instance_id
    view["created"] = date(job.created)
    if job.completed is not None:
        view["completed"] = date(job.completed)
    view["jobid"] = job.id
    return view
