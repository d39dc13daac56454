"""Users and keys, the catalog, and async job queries: the simulator's non-VM commands.

=======================  =====  ==============================================================
command                  who    behaviour worth knowing
=======================  =====  ==============================================================
getUser                  admin  ``userapikey`` required; unknown key -> 431 (4350) "User with
                                specified API key does not exist". A non-admin never gets here:
                                the role check answers 432 first (see ``_sim_auth``).
getUserKeys              all    ``id``; the user itself or an admin, else 531
registerUserKeys         all    ``id``; new pair, the old one stops working
listUsers                all    ``id``, ``username``, ``account``, ``state``; users see their
                                own account, admins everyone
listAccounts             all    ``id``, ``name``, ``state``, ``domainid``, ``accounttype``; same
                                scoping; each account lists its users
listZones                all    ``id``, ``name``, ``available``
listServiceOfferings     all    ``id``, ``name``
listTemplates            all    ``templatefilter`` required (431 when missing; an unknown value
                                fails like Java's ``TemplateFilter.valueOf``); ``id``, ``name``
queryAsyncJobResult      all    ``jobid``; users see their own account's jobs, else 531
=======================  =====  ==============================================================
"""

from __future__ import annotations

from typing import Any

from stackwatch.cloudstack._sim_api import LIST_PARAMS, Ctx, P, Spec, invalid_value, page
from stackwatch.cloudstack._sim_state import ApiFailure, User
from stackwatch.cloudstack._sim_views import (
    account_view,
    job_view,
    keys_view,
    offering_view,
    template_view,
    user_view,
    zone_view,
)

TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community",
                    "all")


def get_user(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``getUser``: the user holding ``userapikey``."""
    user = ctx.state.user_by_api_key(args["userapikey"])
    if user is None:
        raise invalid_value("User with specified API key does not exist")
    return {"user": user_view(ctx.state, user)}


def _own_user(ctx: Ctx, user_id: str) -> User:
    user = ctx.state.users[user_id]
    if not ctx.admin and user.id != ctx.user.id:
        raise ApiFailure(531, f"Account {ctx.account.name} does not have permission to access the keys of "
                              f"user {user.id}", 4365)
    return user


def get_user_keys(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``getUserKeys``: a user's api and secret key."""
    return {"userkeys": keys_view(_own_user(ctx, args["id"]))}


def register_user_keys(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``registerUserKeys``: a fresh key pair for the user."""
    return {"userkeys": keys_view(ctx.state.rotate_keys(_own_user(ctx, args["id"])))}


def list_users(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listUsers``."""
    state = ctx.state
    users = [u for u in state.users.values()
             if (ctx.admin or u.account_id == ctx.account.id)
             and args.get("id") in (None, u.id) and args.get("username") in (None, u.username)
             and args.get("account") in (None, state.accounts[u.account_id].name)
             and args.get("state", u.state).lower() == u.state]
    return page(args, [user_view(state, u) for u in users], "user")


def list_accounts(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listAccounts``."""
    accounts = [a for a in ctx.state.accounts.values() if (ctx.admin or a.id == ctx.account.id)
                and args.get("id") in (None, a.id) and args.get("name") in (None, a.name)
                and args.get("domainid") in (None, a.domain_id) and args.get("accounttype") in (None, a.type)
                and args.get("state", a.state).lower() == a.state]
    return page(args, [account_view(ctx.state, a) for a in accounts], "account")


def list_zones(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listZones``."""
    zones = [z for z in ctx.state.zones.values() if args.get("id") in (None, z.id)
             and args.get("name") in (None, z.name)]
    return page(args, [zone_view(z) for z in zones], "zone")


def list_service_offerings(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listServiceOfferings``."""
    created = ctx.state.admin_user.created
    offerings = [o for o in ctx.state.serviceofferings.values() if args.get("id") in (None, o.id)
                 and args.get("name") in (None, o.name)]
    return page(args, [offering_view(o, created) for o in offerings], "serviceoffering")


def list_templates(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``listTemplates``: every seeded template is public and featured; none is owned by a tenant."""
    templatefilter = args["templatefilter"]
    if templatefilter not in TEMPLATE_FILTERS:
        raise ApiFailure(431, "No enum constant com.cloud.template.VirtualMachineTemplate.TemplateFilter."
                              f"{templatefilter}", 4350)
    owned_only = templatefilter in ("self", "selfexecutable", "sharedexecutable")
    created = ctx.state.admin_user.created
    templates = [t for t in ctx.state.templates.values() if not owned_only
                 and args.get("id") in (None, t.id) and args.get("name") in (None, t.name)
                 and args.get("zoneid") in (None, t.zone_id)]
    return page(args, [template_view(ctx.state, t, created) for t in templates], "template")


def query_async_job_result(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """``queryAsyncJobResult``: the job as it stands now (``jobresult`` once it ended)."""
    job = ctx.state.jobs[args["jobid"]]
    if not ctx.admin and job.account_id != ctx.account.id:
        raise ApiFailure(531, f"Account {ctx.account.name} is not authorized to see job id={job.id}", 4365)
    return job_view(job)


COMMANDS = {spec.name: spec for spec in (
    Spec("getUser", get_user, (P("userapikey", required=True),), admin_only=True),
    Spec("getUserKeys", get_user_keys, (P("id", "uuid", True, "users"),)),
    Spec("registerUserKeys", register_user_keys, (P("id", "uuid", True, "users"),)),
    Spec("listUsers", list_users, (P("id", "uuid", table="users"), P("username"), P("account"), P("state"),
                                   *LIST_PARAMS)),
    Spec("listAccounts", list_accounts, (P("id", "uuid", table="accounts"), P("name"), P("state"),
                                         P("domainid", "uuid", table="domains"), P("accounttype", "int"),
                                         *LIST_PARAMS)),
    Spec("listZones", list_zones, (P("id", "uuid", table="zones"), P("name"), P("available", "bool"),
                                   *LIST_PARAMS)),
    Spec("listServiceOfferings", list_service_offerings,
         (P("id", "uuid", table="serviceofferings"), P("name"), *LIST_PARAMS)),
    Spec("listTemplates", list_templates,
         (P("templatefilter", required=True), P("id", "uuid", table="templates"), P("name"),
          P("zoneid", "uuid", table="zones"), *LIST_PARAMS)),
    Spec("queryAsyncJobResult", query_async_job_result, (P("jobid", "uuid", True, "jobs"),)),
)}
