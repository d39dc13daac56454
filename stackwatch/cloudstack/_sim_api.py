"""The simulator's command framework: parameter declarations, parsing, access checks, paging.

A command is a :class:`Spec`: its name, its parameters in declaration order (``P``), whether
only admins may call it, and a handler ``(Ctx, args) -> dict | Started``. :func:`parse` does
what CloudStack's ``ParamProcessWorker`` does, field by field in order: a missing required
parameter, a value that does not convert, or a uuid naming no entity (removed ones included) is
a 431 with CloudStack's wording, raised at the first offending field. Parameters a command does
not declare are ignored, as CloudStack ignores them.

A synchronous handler returns the inner object of its response. An async one validates, then
returns :class:`Started` with the job's effect; the server submits the job and answers
``{"jobid": ...}`` (plus ``"id"`` for create-type commands).

Error wording follows the source: ``ServerApiException`` raised directly carries cserrorcode
9999; an ``InvalidParameterValueException`` (4350) or ``PermissionDeniedException`` (4365)
from the service layer keeps its own code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stackwatch.cloudstack._sim_state import Account, ApiFailure, SimState, User

Kind = Literal["string", "uuid", "uuids", "bool", "int", "map"]
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class P:
    """A declared parameter: ``uuid``/``uuids`` kinds name the :class:`SimState` table they refer to."""

    name: str
    kind: Kind = "string"
    required: bool = False
    table: str | None = None


@dataclass(frozen=True, slots=True)
class Ctx:
    """Who is calling, with what."""

    state: SimState
    command: str
    user: User
    account: Account

    @property
    def admin(self) -> bool:
        """True for a root admin's account (type 1)."""
        return self.account.type == 1


@dataclass(frozen=True, slots=True)
class Started:
    """An async command accepted: its job's effect, and the new entity's id for create commands."""

    run: Callable[[], dict[str, Any]]
    instance_type: str | None = None
    instance_id: str | None = None
    created_id: str | None = None


Handler = Callable[[Ctx, dict[str, Any]], "dict[str, Any] | Started"]


@dataclass(frozen=True, slots=True)
class Spec:
    """One API command of the simulator."""

    name: str
    handler: Handler
    params: tuple[P, ...] = ()
    admin_only: bool = False
    job_cmd: tuple[str, str] | None = None  # (user class, admin class) for async commands

    @property
    def is_async(self) -> bool:
        """True when the command answers with a job id."""
        return self.job_cmd is not None


def missing(command: str, name: str) -> ApiFailure:
    """431 for a missing required parameter, worded as ``ParamProcessWorker`` words it."""
    return ApiFailure(431, f"Unable to execute API command {command.lower()} due to missing parameter {name}")


def invalid_uuid(command: str, name: str, value: str) -> ApiFailure:
    """431 for a uuid parameter naming no entity."""
    return ApiFailure(431, f"Unable to execute API command {command.lower()} due to invalid value. Invalid "
                           f"parameter {name} value={value} due to incorrect long value format, or entity "
                           f"does not exist or due to incorrect parameter annotation for the field in api "
                           f"cmd class.")


def invalid_value(text: str) -> ApiFailure:
    """431 from an ``InvalidParameterValueException`` in the service layer (cserrorcode 4350)."""
    return ApiFailure(431, text, 4350)


def permission_denied(ctx: Ctx, entity: str) -> ApiFailure:
    """531 from a ``PermissionDeniedException`` (cserrorcode 4365)."""
    return ApiFailure(531, f"Account {ctx.account.name} does not have permission to operate with resource "
                           f"{entity}", 4365)


def _map_entries(name: str, raw: Mapping[str, str]) -> list[dict[str, str]]:
    pattern = re.compile(re.escape(name) + r"\[(\d+)\]\.(\w+)")
    entries: dict[int, dict[str, str]] = {}
    for key, value in raw.items():
        m = pattern.fullmatch(key)
        if m:
            entries.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [entries[i] for i in sorted(entries)]


def _lookup(ctx: Ctx, p: P, value: str) -> str:
    table: dict[str, Any] = getattr(ctx.state, p.table or "")
    if not _UUID.fullmatch(value) or value.lower() not in table:
        raise invalid_uuid(ctx.command, p.name, value)
    return value.lower()


def parse(ctx: Ctx, params: Sequence[P], raw: Mapping[str, str]) -> dict[str, Any]:
    """Convert ``raw`` per ``params``, failing at the first bad field as CloudStack does."""
    args: dict[str, Any] = {}
    for p in params:
        if p.kind == "map":
            entries = _map_entries(p.name, raw)
            if not entries and p.required:
                raise missing(ctx.command, p.name)
            args[p.name] = entries
            continue
        value = raw.get(p.name)
        if value is None:
            if p.required:
                raise missing(ctx.command, p.name)
            continue
        if p.kind == "bool":
            args[p.name] = value.lower() == "true"  # Boolean.valueOf
        elif p.kind == "int":
            try:
                args[p.name] = int(value)
            except ValueError:
                raise ApiFailure(431, f"Unable to execute API command {ctx.command.lower()} due to invalid "
                                      f"value {value} for parameter {p.name}") from None
        elif p.kind == "uuid":
            args[p.name] = _lookup(ctx, p, value)
        elif p.kind == "uuids":
            args[p.name] = [_lookup(ctx, p, token) for token in value.split(",") if token]
        else:
            args[p.name] = value
    return args


LIST_PARAMS = (P("keyword"), P("page", "int"), P("pagesize", "int"), P("listall", "bool"))


def page(args: Mapping[str, Any], items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """A list response: ``{"count": total, key: [this page]}``, ``{}`` when nothing matches.

    ``pagesize`` defaults to 500 (``default.page.size``), may not exceed it, and -1 means
    unlimited (then ``page`` is not allowed), as ``BaseListCmd`` checks.
    """
    size = args.get("pagesize", MAX_PAGE_SIZE)
    number = args.get("page")
    if size == -1:
        if number is not None:
            raise invalid_value("Can't specify page parameter when pagesize is -1 (Unlimited)")
        chosen = items
    else:
        if size > MAX_PAGE_SIZE:
            raise invalid_value(f"Page size can't exceed max allowed page size value: {MAX_PAGE_SIZE}")
        if size < 1 or (number is not None and number < 1):
            raise invalid_value("Invalid value for page or pagesize")
        start = ((number or 1) - 1) * size
        chosen = items[start:start + size]
    if not items:
        return {}
    if not chosen:
        return {"count": len(items)}
    return {"count": len(items), key: chosen}


def visible_account_ids(ctx: Ctx, args: Mapping[str, Any]) -> set[str] | None:
    """Accounts whose resources a list shows: None means all (an admin with ``listall`` or ``account``).

    Everyone else sees their own account only, as CloudStack scopes lists to the caller.
    """
    if ctx.admin:
        name = args.get("account")
        if name:
            domain_id = args.get("domainid")
            return {a.id for a in ctx.state.accounts.values()
                    if a.name == name and domain_id in (None, a.domain_id)}
        if args.get("listall"):
            return None
    return {ctx.account.id}


def check_owner(ctx: Ctx, owner_account_id: str, entity: str) -> None:
    """531 unless the caller is an admin or owns the entity."""
    if not ctx.admin and owner_account_id != ctx.account.id:
        raise permission_denied(ctx, entity)
