"""The simulator's in-memory database: CloudStack's entities as rows, plus async jobs that run late.

This module owns the data and nothing about HTTP or signatures. Rows are mutable dataclasses
(it is a database: a VM changes state, a user gets new keys); the command handlers in
``_sim_commands`` / ``_sim_vm_commands`` read and change them, ``_sim_views`` renders them as the
API's response objects.

::

    Domain ─┬─ Account (type 0 user, 1 root admin, 2 domain admin; state enabled/disabled/locked)
            │    ├─ User (state, apikey, secretkey)
            │    ├─ Network (one default isolated network per account)
            │    ├─ VirtualMachine ── Tag (resourcetype UserVm)
            │    ├─ InstanceGroup
            │    └─ LoadBalancerRule ── members: VM ids
    Zone, ServiceOffering, Template: the catalog (templates are public and featured)
    AsyncJob: created pending; due after ``job_seconds``; :meth:`SimState.tick` runs its effect

Jobs make real progress: an async command validates its parameters at once (as CloudStack's
dispatcher does), then its job stays ``jobstatus`` 0 until ``created + job_seconds``; the first
:meth:`~SimState.tick` after that runs the job's effect, which sets ``jobstatus`` 1 with a result
or 2 with an error (a raised :class:`ApiFailure`). Every request ticks first, so a VM deployed
with a 1 s job shows ``Starting`` for about a second, then ``Running``.

Thread safety: every public method takes :attr:`SimState.lock` (re-entrant), so tests may call
them from another thread while the server runs (see ``SimulatorThread``).

Seed documents (``--seed FILE``) look like::

    {"admin": {"apikey": "...", "secretkey": "..."},                      # optional
     "accounts": [{"name": "acme", "type": 0, "state": "enabled", "domain": "ROOT",
                   "users": [{"username": "alice", "apikey": "...", "secretkey": "...",
                              "state": "enabled"}],
                   "loadbalancerrules": [{"name": "web", "publicport": 80, "privateport": 8080}]}]}

Ids not given are derived from names (uuid5), so a seeded simulator has the same ids every run.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from stackwatch.clock import Clock, SystemClock

_NS = uuid.UUID("7d9c3c55-51b4-4b8e-9a8e-5c0c8f2b7a10")
JOB_PENDING, JOB_SUCCEEDED, JOB_FAILED = 0, 1, 2
ACCOUNT_TYPES = {0: "User", 1: "Admin", 2: "DomainAdmin", 3: "ResourceAdmin", 4: "ReadOnlyAdmin",
                 5: "Project"}
STATES = ("enabled", "disabled", "locked")


def stable_id(*parts: str) -> str:
    """A uuid5 derived from ``parts``: the same names give the same id on every run."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


def new_key() -> str:
    """A key the way CloudStack makes one: 64 random bytes, URL-safe base64 (86 characters)."""
    return secrets.token_urlsafe(64)


class ApiFailure(Exception):
    """A command failed: becomes an error envelope (or a failed job) with these codes."""

    def __init__(self, errorcode: int, errortext: str, cserrorcode: int | None = 9999) -> None:
        super().__init__(errortext)
        self.errorcode = errorcode
        self.errortext = errortext
        self.cserrorcode = cserrorcode


@dataclass(slots=True)
class Domain:
    id: str
    name: str
    path: str


@dataclass(slots=True)
class Account:
    id: str
    name: str
    type: int
    state: str
    domain_id: str
    number: int
    network_id: str = ""


@dataclass(slots=True)
class User:
    id: str
    username: str
    account_id: str
    api_key: str | None
    secret_key: str | None
    state: str
    created: float
    firstname: str = ""
    lastname: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ServiceOffering:
    id: str
    name: str
    displaytext: str
    cpunumber: int
    cpuspeed: int
    memory: int


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    name: str
    displaytext: str
    ostypename: str
    zone_id: str


@dataclass(slots=True)
class Network:
    id: str
    name: str
    account_id: str
    zone_id: str
    prefix: str
    hosts: itertools.count[int] = field(default_factory=lambda: itertools.count(10))


@dataclass(slots=True)
class InstanceGroup:
    id: str
    name: str
    account_id: str
    created: float


@dataclass(slots=True)
class VirtualMachine:
    id: str
    name: str
    displayname: str
    instancename: str
    account_id: str
    zone_id: str
    serviceoffering_id: str
    template_id: str
    network_id: str
    ipaddress: str
    macaddress: str
    group_id: str | None
    state: str
    created: float
    removed: float | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str
    resource_type: str
    resource_id: str
    account_id: str


@dataclass(slots=True)
class LoadBalancerRule:
    id: str
    name: str
    account_id: str
    network_id: str
    zone_id: str
    publicip: str
    publicport: int
    privateport: int
    algorithm: str = "roundrobin"
    members: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AsyncJob:
    id: str
    cmd: str
    account_id: str
    user_id: str
    instance_type: str | None
    instance_id: str | None
    created: float
    due: float
    run: Callable[[], dict[str, Any]]
    status: int = JOB_PENDING
    result: dict[str, Any] | None = None
    resultcode: int = 0
    completed: float | None = None


class SimState:
    """All rows of one simulated CloudStack, with the root admin and the default catalog.

    Args:
        clock: the wall clock (jobs fall due by it; ``expires`` is checked against it).
        job_seconds: how long an async job stays pending.
        admin_keys: ``(apikey, secretkey)`` for the root admin (default: generated).
    """

    def __init__(self, clock: Clock | None = None, job_seconds: float = 1.0,
                 admin_keys: tuple[str, str] | None = None) -> None:
        self.lock = threading.RLock()
        #: CloudStack's ``use.secret.key.in.response``: user responses carry ``secretkey``.
        self.secret_key_in_response = False
        self.clock: Clock = clock or SystemClock()
        self.job_seconds = job_seconds
        #: ``allow.user.expunge.recover.vm``: may non-admins pass ``expunge=true``? (default false)
        self.allow_user_expunge = False
        self.domains: dict[str, Domain] = {}
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}
        self.zones: dict[str, Zone] = {}
        self.serviceofferings: dict[str, ServiceOffering] = {}
        self.templates: dict[str, Template] = {}
        self.networks: dict[str, Network] = {}
        self.groups: dict[str, InstanceGroup] = {}
        self.vms: dict[str, VirtualMachine] = {}
        self.tags: list[Tag] = []  # change it through add_tags / remove_tags (they keep tags_on's index)
        self._tag_index: tuple[int, dict[str, list[Tag]]] = (-1, {})
        self._tag_changes = 0
        self.lbrules: dict[str, LoadBalancerRule] = {}
        self.jobs: dict[str, AsyncJob] = {}
        #: Error texts for the jobs of the next deploys to fail with ('' for CloudStack's own text).
        self.deploy_failures: deque[str] = deque()
        self._account_numbers = itertools.count(2)
        self._vm_numbers = itertools.count(1)
        self._public_ips = itertools.count(10)
        self.root = self._add_domain("ROOT", "ROOT")
        self._seed_catalog()
        api_key, secret_key = admin_keys or (new_key(), new_key())
        self.admin_account = self.add_account("admin", type=1)
        self.admin_user = self.add_user(self.admin_account, "admin", api_key=api_key, secret_key=secret_key)
        self.add_lb_rule(self.admin_account, "web-lb", publicport=80, privateport=8080)

    def add_tags(self, tags: Iterable[Tag]) -> None:
        """Put tags on resources."""
        self.tags.extend(tags)
        self._tag_changes += 1

    def remove_tags(self, gone: Callable[[Tag], bool]) -> None:
        """Take off every tag ``gone`` picks."""
        self.tags[:] = [t for t in self.tags if not gone(t)]
        self._tag_changes += 1

    def tags_on(self, resource_id: str) -> list[Tag]:
        """The tags on one resource (an index rebuilt after each change, not a scan per call)."""
        version, index = self._tag_index
        if version != self._tag_changes:
            index = {}
            for t in self.tags:
                index.setdefault(t.resource_id, []).append(t)
            self._tag_index = (self._tag_changes, index)
        return index.get(resource_id, [])

    def _add_domain(self, name: str, path: str) -> Domain:
        domain = Domain(stable_id("domain", path), name, path)
        self.domains[domain.id] = domain
        return domain

    def _seed_catalog(self) -> None:
        zone = Zone(stable_id("zone", "zone1"), "zone1")
        self.zones[zone.id] = zone
        for name, text, cpus, speed, memory in (("Small Instance", "Small Instance", 1, 500, 512),
                                                ("Medium Instance", "Medium Instance", 1, 1000, 1024)):
            offering = ServiceOffering(stable_id("serviceoffering", name), name, text, cpus, speed, memory)
            self.serviceofferings[offering.id] = offering
        for name, text, os_name in (
                ("CentOS 5.5(64-bit) no GUI (Simulator)", "CentOS 5.5(64-bit) no GUI (Simulator)",
                 "CentOS 5.5 (64-bit)"),
                ("Ubuntu 22.04 LTS", "Ubuntu 22.04 LTS (Jammy Jellyfish)", "Ubuntu 22.04 LTS")):
            template = Template(stable_id("template", name), name, text, os_name, zone.id)
            self.templates[template.id] = template

    @property
    def zone(self) -> Zone:
        """The first zone (the simulator has one unless a test adds more)."""
        return next(iter(self.zones.values()))

    def domain(self, name_or_path: str) -> Domain:
        """The domain with this path (``ROOT``, ``ROOT/acme``) or name, created under ROOT if new."""
        with self.lock:
            path = name_or_path if name_or_path.startswith("ROOT") else f"ROOT/{name_or_path}"
            for domain in self.domains.values():
                if domain.path == path:
                    return domain
            return self._add_domain(path.rsplit("/", 1)[-1], path)

    def add_account(self, name: str, *, type: int = 0, state: str = "enabled", domain: Domain | None = None,
                    id: str | None = None) -> Account:
        """Create an account (with its default network). Raises ValueError if the name is taken."""
        if type not in ACCOUNT_TYPES or state not in STATES:
            raise ValueError(f"bad account type {type} or state {state!r}")
        with self.lock:
            domain = domain or self.root
            if any(a.name == name and a.domain_id == domain.id for a in self.accounts.values()):
                raise ValueError(f"account {name} already exists in domain {domain.path}")
            account = Account(id or stable_id("account", domain.path, name), name, type, state, domain.id,
                              next(self._account_numbers))
            network = Network(stable_id("network", account.id), f"{name}-network", account.id, self.zone.id,
                              f"10.1.{account.number % 250}.")
            account.network_id = network.id
            self.accounts[account.id] = account
            self.networks[network.id] = network
            return account

    def add_user(self, account: Account, username: str, *, api_key: str | None = None,
                 secret_key: str | None = None, state: str = "enabled", id: str | None = None,
                 firstname: str = "", lastname: str = "", email: str = "") -> User:
        """Create a user of ``account`` with the given keys (generated when not given)."""
        if state not in STATES:
            raise ValueError(f"bad user state {state!r}")
        with self.lock:
            api_key = api_key or new_key()
            if self.user_by_api_key(api_key) is not None:
                raise ValueError("that api key is already in use")
            user = User(id or stable_id("user", account.id, username), username, account.id, api_key,
                        secret_key or new_key(), state, self.clock.now(), firstname or username.capitalize(),
                        lastname, email or f"{username}@example.org")
            self.users[user.id] = user
            return user

    def user_by_api_key(self, api_key: str) -> User | None:
        """The user holding ``api_key``, if any."""
        with self.lock:
            return next((u for u in self.users.values() if u.api_key == api_key), None)

    def account_of(self, user: User) -> Account:
        """The account ``user`` belongs to."""
        return self.accounts[user.account_id]

    def rotate_keys(self, user: User) -> User:
        """Give ``user`` a new key pair; the old pair stops working at once (pre-4.23 behaviour)."""
        with self.lock:
            user.api_key, user.secret_key = new_key(), new_key()
            return user

    def add_lb_rule(self, account: Account, name: str, *, publicport: int = 80,
                    privateport: int = 8080) -> LoadBalancerRule:
        """Create a load balancer rule in ``account``'s network on a fresh public IP."""
        with self.lock:
            rule = LoadBalancerRule(stable_id("lbrule", account.id, name), name, account.id,
                                    account.network_id, self.zone.id,
                                    f"203.0.113.{next(self._public_ips) % 250}", publicport, privateport)
            self.lbrules[rule.id] = rule
            return rule

    def next_vm_number(self) -> int:
        """The next VM's internal number (for ``i-<account>-<vm>-VM`` names)."""
        return next(self._vm_numbers)

    def submit_job(self, cmd: str, caller: User, run: Callable[[], dict[str, Any]], *,
                   instance_type: str | None = None, instance_id: str | None = None) -> AsyncJob:
        """Queue an async job whose effect ``run`` happens ``job_seconds`` from now."""
        with self.lock:
            now = self.clock.now()
            job = AsyncJob(str(uuid.uuid4()), cmd, caller.account_id, caller.id, instance_type, instance_id,
                           now, now + self.job_seconds, run)
            self.jobs[job.id] = job
            return job

    def tick(self) -> None:
        """Run every pending job that has fallen due, in submission order."""
        with self.lock:
            now = self.clock.now()
            for job in self.jobs.values():
                if job.status != JOB_PENDING or job.due > now:
                    continue
                try:
                    job.result = job.run()
                    job.status = JOB_SUCCEEDED
                except ApiFailure as failure:
                    job.result = {"errorcode": failure.errorcode, "errortext": failure.errortext}
                    job.status, job.resultcode = JOB_FAILED, failure.errorcode
                job.completed = now

    def load_seed(self, doc: dict[str, Any]) -> None:
        """Add the accounts, users and LB rules of a seed document (format in the module docstring).

        Raises:
            ValueError: a malformed entry, a duplicate account or api key.
        """
        try:
            self._load_seed(doc)
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"malformed seed document: {type(e).__name__} {e}") from None

    def _load_seed(self, doc: dict[str, Any]) -> None:
        with self.lock:
            admin = doc.get("admin") or {}
            if admin.get("apikey") and admin.get("secretkey"):
                self.admin_user.api_key, self.admin_user.secret_key = admin["apikey"], admin["secretkey"]
            for entry in doc.get("accounts", []):
                account = self.add_account(entry["name"], type=int(entry.get("type", 0)),
                                           state=entry.get("state", "enabled"),
                                           domain=self.domain(entry.get("domain", "ROOT")),
                                           id=entry.get("id"))
                for u in entry.get("users", []):
                    self.add_user(account, u["username"], api_key=u.get("apikey"),
                                  secret_key=u.get("secretkey"), state=u.get("state", "enabled"),
                                  id=u.get("id"), firstname=u.get("firstname", ""),
                                  lastname=u.get("lastname", ""), email=u.get("email", ""))
                for rule in entry.get("loadbalancerrules", []):
                    self.add_lb_rule(account, rule["name"], publicport=int(rule.get("publicport", 80)),
                                     privateport=int(rule.get("privateport", 8080)))
