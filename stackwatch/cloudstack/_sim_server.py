"""The fake management server: ``/client/api`` over aiohttp, with faults a test can switch on.

One request, start to end::

    GET query / POST form ──servlet_params──> name -> values     (400 if an escape is broken)
      calls[command] += 1                                         (every request, even refused)
      unavailable?  -> 503, HTML body, no envelope                (like a proxy in front of a
                                                                   restarting server)
      delay?        -> sleep first
      tick jobs -> verify_request (401 / 432) -> fail_next? -> control characters? (431)
      -> parse params (431) -> handler -> sync: {"<cmd>response": {...}}
                                          async: job submitted, {"jobid"} (+ "id" for deploy)
                                                 (fail_next_jobs? the job fails when it runs)
      observers(state)                                            (after every request)
      lose_responses? -> the command ran, but the connection is dropped without an answer
      errors: {"<cmd>response"|"errorresponse"|"null": {"uuidList": [], "errorcode": N,
               ["cserrorcode": M,] "errortext": "..."}}, HTTP status = N

The error wrapper follows ``ApiServer.getSerializedApiError``: the command's own name when the
command exists, ``errorresponse`` for unknown commands and for every 432, ``null`` when the
request had parameters but no ``command`` (the Java code leaves the name null).
``response=json`` gives ``application/json; charset=UTF-8``; anything else gives CloudStack's
XML rendering of the same document (``text/xml``).

Use it in-process (``async with CloudStackSimulator() as sim``) or, for synchronous clients,
in a thread (``with SimulatorThread() as sim``). Both bind 127.0.0.1 on a free port by default.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

from aiohttp import web

from stackwatch.clock import Clock
from stackwatch.cloudstack._sim_api import Ctx, Spec, Started, parse
from stackwatch.cloudstack._sim_auth import MalformedQuery, first, servlet_params, verify_request
from stackwatch.cloudstack._sim_commands import COMMANDS as _BASE_COMMANDS
from stackwatch.cloudstack._sim_state import Account, ApiFailure, SimState, User
from stackwatch.cloudstack._sim_vm_commands import COMMANDS as _VM_COMMANDS

LOG = logging.getLogger(__name__)

COMMANDS: dict[str, Spec] = {**_BASE_COMMANDS, **_VM_COMMANDS}
ADMIN_ONLY = frozenset(name for name, spec in COMMANDS.items() if spec.admin_only)
VERSION = "4.20.0.0"
JSON_TYPE = "application/json; charset=UTF-8"
_CONTROL = {chr(c) for c in (*range(0, 10), 11, 12, *range(14, 32), 127)}
_UNAVAILABLE_PAGE = b"<html><head><title>503 Service Unavailable</title></head><body>" \
                    b"<h1>503 Service Unavailable</h1></body></html>"


class Keys(NamedTuple):
    """An API key pair."""

    api_key: str
    secret_key: str


def _xml(name: str, value: Any) -> str:
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_xml(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        return "".join(_xml(name, v) for v in value)
    text = ("true" if value else "false") if isinstance(value, bool) else escape(str(value))
    return f"<{name}>{text}</{name}>"


def render(doc: dict[str, Any], json_response: bool) -> tuple[bytes, str]:
    """Body and content type of a response document, in JSON (as Gson writes it) or XML."""
    if json_response:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), JSON_TYPE
    name, inner = next(iter(doc.items()))
    fields = "".join(_xml(k, v) for k, v in inner.items())
    text = f'<?xml version="1.0" encoding="UTF-8"?><{name} cloud-stack-version="{VERSION}">{fields}</{name}>'
    return text.encode("utf-8"), "text/xml; charset=UTF-8"


def _wrapper(params: Mapping[str, Sequence[str]], command: str | None, errorcode: int) -> str:
    if not params:
        return "errorresponse"
    if command is None:
        return "null"
    if errorcode == 432 or command not in COMMANDS:
        return "errorresponse"
    return f"{command.lower()}response"


class CloudStackSimulator:
    """A CloudStack management server in memory, for tests and demos.

    Args:
        host: address to bind.
        port: port to bind (0: any free port; see :attr:`port` after start).
        job_seconds: how long async jobs stay pending (0 for fast tests).
        clock: wall clock for jobs and ``expires`` (default: the system clock).
        seed: a seed document, or the path of a JSON file holding one (see ``_sim_state``).
        admin_keys: fixed ``(apikey, secretkey)`` for the root admin (default: generated).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, job_seconds: float = 1.0,
                 clock: Clock | None = None, seed: Mapping[str, Any] | str | Path | None = None,
                 admin_keys: tuple[str, str] | None = None) -> None:
        self.state = SimState(clock, job_seconds, admin_keys)
        if seed is not None:
            doc = json.loads(Path(seed).read_text()) if isinstance(seed, str | Path) else dict(seed)
            self.state.load_seed(doc)
        self.host = host
        self.port = port
        #: Requests received per ``command`` value ('' when absent), refused ones included.
        self.calls: Counter[str] = Counter()
        self._unavailable = False
        self._delay = 0.0
        self._failures: dict[str, deque[ApiFailure]] = {}
        self._job_failures: dict[str, deque[ApiFailure]] = {}
        self._lost: dict[str, deque[float]] = {}
        #: Called with the state (its lock held) after every request: tests watch invariants here.
        self.observers: list[Callable[[SimState], None]] = []
        self._runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        """The API URL, e.g. ``http://127.0.0.1:40123/client/api``."""
        return f"http://{self.host}:{self.port}/client/api"

    @property
    def admin_keys(self) -> Keys:
        """The root admin's current key pair."""
        user = self.state.admin_user
        return Keys(user.api_key or "", user.secret_key or "")

    @property
    def job_seconds(self) -> float:
        """Seconds an async job stays pending (applies to jobs submitted afterwards)."""
        return self.state.job_seconds

    @job_seconds.setter
    def job_seconds(self, seconds: float) -> None:
        self.state.job_seconds = seconds

    def add_tenant(self, name: str, username: str | None = None) -> tuple[Account, User, Keys]:
        """A new user-type account with one user; returns both and the user's keys."""
        with self.state.lock:
            account = self.state.add_account(name)
            user = self.state.add_user(account, username or name)
            return account, user, Keys(user.api_key or "", user.secret_key or "")

    def set_unavailable(self, unavailable: bool = True) -> None:
        """Answer every request with a bare HTTP 503 (an HTML page, no CloudStack envelope)."""
        self._unavailable = unavailable

    def set_delay(self, seconds: float) -> None:
        """Wait ``seconds`` before handling each request (0 to stop)."""
        self._delay = seconds

    def fail_next(self, command: str, errorcode: int, errortext: str = "injected failure", *,
                  cserrorcode: int | None = 9999, times: int = 1) -> None:
        """Answer the next ``times`` verified calls of ``command`` with this error envelope."""
        queue = self._failures.setdefault(command, deque())
        queue.extend(ApiFailure(errorcode, errortext, cserrorcode) for _ in range(times))

    def fail_next_deploys(self, count: int = 1, errortext: str | None = None) -> None:
        """Make the jobs of the next ``count`` deploys fail with 533 (insufficient capacity)."""
        with self.state.lock:
            self.state.deploy_failures.extend([errortext or ""] * count)

    def fail_next_jobs(self, command: str, errorcode: int = 530, errortext: str = "injected job failure", *,
                       times: int = 1) -> None:
        """Accept the next ``times`` calls of async ``command``, then fail their jobs (jobstatus 2).

        A deploy whose job fails leaves its VM in ``Error``, as CloudStack does (see
        :meth:`fail_next_deploys`); other commands fail without an effect.
        """
        if command == "deployVirtualMachine":
            with self.state.lock:
                self.state.deploy_failures.extend([errortext] * times)
            return
        queue = self._job_failures.setdefault(command, deque())
        queue.extend(ApiFailure(errorcode, errortext) for _ in range(times))

    def lose_responses(self, command: str, *, times: int = 1, delay: float = 0.0) -> None:
        """Run the next ``times`` calls of ``command``, then drop the connection after ``delay`` seconds.

        The command takes effect (a VM is deployed, a job starts) but the caller never learns it:
        what a client sees when a proxy or the network fails after the server acted, or when its
        own timeout (shorter than ``delay``) fires first.
        """
        self._lost.setdefault(command, deque()).extend([delay] * times)

    def clear_faults(self) -> None:
        """Stop every injected fault: outage, delay, queued errors, job failures and lost answers."""
        self._unavailable = False
        self._delay = 0.0
        self._failures.clear()
        self._job_failures.clear()
        self._lost.clear()
        with self.state.lock:
            self.state.deploy_failures.clear()

    def crash_vm(self, vm_id: str) -> None:
        """Put a VM in ``Error`` (its host failed); it stays listed and in its load balancer rules."""
        with self.state.lock:
            self.state.vms[vm_id].state = "Error"

    def vanish_vm(self, vm_id: str) -> None:
        """Expunge a VM behind StackWatch's back (an operator did): gone from lists, rules and tags."""
        with self.state.lock:
            vm = self.state.vms[vm_id]
            vm.state, vm.removed = "Expunging", self.state.clock.now()
            for rule in self.state.lbrules.values():
                if vm_id in rule.members:
                    rule.members.remove(vm_id)
            self.state.remove_tags(lambda t: t.resource_id == vm_id)

    async def start(self) -> None:
        """Bind and serve."""
        app = web.Application()
        app.router.add_get("/client/api", self._handle)
        app.router.add_post("/client/api", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        LOG.info("cloudstack simulator listening on %s", self.endpoint)

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> CloudStackSimulator:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        body = None
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            body = (await request.read()).decode("utf-8", errors="replace")
        try:
            params = servlet_params(request.rel_url.raw_query_string, body)
        except MalformedQuery:
            return web.Response(status=400, text="Unable to parse URI query")
        command = first(params, "command")
        self.calls[command or ""] += 1
        if self._unavailable:
            return web.Response(status=503, body=_UNAVAILABLE_PAGE, content_type="text/html")
        if self._delay:
            await asyncio.sleep(self._delay)
        with self.state.lock:
            status, doc = self._process(params, command)
            for observe in self.observers:
                observe(self.state)
        lost = self._lost.get(command or "")
        if lost and status == 200:
            await asyncio.sleep(lost.popleft())
            if request.transport is not None:
                request.transport.abort()
            LOG.debug("simulator %s: answer dropped on purpose", command)
            return web.Response(status=status)  # written to a closed transport: nobody gets it
        text, content_type = render(doc, (first(params, "response") or "").lower() == "json")
        return web.Response(status=status, body=text, headers={"Content-Type": content_type})

    def _process(self, params: Mapping[str, Sequence[str]],
                 command: str | None) -> tuple[int, dict[str, Any]]:
        self.state.tick()
        try:
            user = verify_request(params, self.state, COMMANDS, ADMIN_ONLY)
            assert command is not None
            return 200, {f"{command.lower()}response": self._dispatch(COMMANDS[command], user, params)}
        except ApiFailure as failure:
            inner: dict[str, Any] = {"uuidList": [], "errorcode": failure.errorcode}
            if failure.cserrorcode is not None:
                inner["cserrorcode"] = failure.cserrorcode
            inner["errortext"] = failure.errortext
            if command is not None and command not in COMMANDS:
                LOG.warning("simulator: %s is not a command it knows; answered 401 as CloudStack answers an "
                            "unknown command", command)
            LOG.debug("simulator %s -> %d", command, failure.errorcode)
            return failure.errorcode, {_wrapper(params, command, failure.errorcode): inner}

    def _dispatch(self, spec: Spec, user: User, params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        queue = self._failures.get(spec.name)
        if queue:
            raise queue.popleft()
        raw = {name: values[0] for name, values in params.items() if name != "command"}
        for name, value in raw.items():
            if _CONTROL.intersection(value):
                raise ApiFailure(431, f"Received value containing illegal ASCII non-printable characters for "
                                      f"parameter {name}")
        ctx = Ctx(self.state, spec.name, user, self.state.account_of(user))
        try:
            result = spec.handler(ctx, parse(ctx, spec.params, raw))
        except ApiFailure:
            raise
        except Exception as e:  # a simulator bug: answer as CloudStack answers its own
            LOG.exception("simulator: %s failed", spec.name)
            raise ApiFailure(530, f"{type(e).__name__}: {e}") from e
        if not isinstance(result, Started):
            return result
        assert spec.job_cmd is not None
        run = result.run
        job_failures = self._job_failures.get(spec.name)
        if job_failures:
            failure = job_failures.popleft()

            def run() -> dict[str, Any]:
                raise failure

        job = self.state.submit_job(spec.job_cmd[1 if ctx.admin else 0], user, run,
                                    instance_type=result.instance_type, instance_id=result.instance_id)
        LOG.debug("simulator %s: job %s due in %.2fs", spec.name, job.id, self.state.job_seconds)
        return {"id": result.created_id, "jobid": job.id} if result.created_id else {"jobid": job.id}


class SimulatorThread:
    """A :class:`CloudStackSimulator` on its own event loop in a daemon thread, for sync clients.

    ``with SimulatorThread(job_seconds=0.1) as sim:`` yields the running simulator; its
    programmatic API (``sim.state``, ``sim.set_unavailable``, ...) is safe to call from the test's
    thread. Keyword arguments go to :class:`CloudStackSimulator`.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="cloudstack-simulator", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.sim: CloudStackSimulator | None = None

    def _main(self) -> None:
        async def serve() -> None:
            try:
                async with CloudStackSimulator(**self._kwargs) as sim:
                    self.sim, self._loop, self._stop = sim, asyncio.get_running_loop(), asyncio.Event()
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as e:
                self._error = e
                self._ready.set()
                raise

        asyncio.run(serve())

    def __enter__(self) -> CloudStackSimulator:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or self.sim is None:
            raise RuntimeError("the simulator did not start") from self._error
        return self.sim

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
