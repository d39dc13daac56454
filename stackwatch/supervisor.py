"""``stackwatch up``'s process supervisor: every component in its own process, as in production.

One Python process runs Python code on one core at a time, so a stack in one process cannot use
a second core however idle it is. ``stackwatch up`` therefore starts the same ``stackwatch serve
<component>`` processes that Kubernetes runs, configured the same way (``STACKWATCH_*``
variables), on loopback ports it picks::

    stackwatch up ──┬── serve auth      127.0.0.1:<free>     static credentials file
      (this)        ├── serve ingest    127.0.0.1:<free>     chDB store + write-ahead log in the data dir
                    ├── serve autoscale 127.0.0.1:<free>     chDB store of its own (data dir/autoscale-store)
                    ├── serve alarm     127.0.0.1:<free>     chDB store of its own (data dir/alarm-store);
                    │                                        SNS signing key in the data dir; the
                    │                                        gateway's URL for SNS links
                    └── serve gateway × N  <host>:<port>     SO_REUSEPORT when N > 1: the kernel
                                                             spreads connections over them

The embedded store can only live in one process (chDB allows one process per data directory),
so exactly one ingest process runs; gateways scale to the cores. The processes share a generated
internal key (a file in the data directory, mode 0600) exactly as pods share a Secret.

Lifecycle. Components start in dependency order, each awaited until it reports ready: it writes
one byte to the pipe named by ``STACKWATCH_READY_FD`` once it serves (ingest opens its store and
replays its log first). A port that accepts connections would not do: with SO_REUSEPORT the
first gateway answers for all of them. Ctrl-C or SIGTERM
stops them in reverse order with SIGTERM, each given ``grace`` seconds to finish what it
acknowledged before SIGKILL. A component that exits by itself stops the rest: half a stack is
worse than none. Children ask the kernel for SIGTERM if the supervisor dies (PR_SET_PDEATHSIG),
so a killed supervisor leaves no orphans listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stackwatch.errors import StackWatchError

LOG = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
#: The variable naming the pipe a supervised component writes one byte to once it serves.
READY_FD_VARIABLE = "STACKWATCH_READY_FD"


def notify_ready() -> None:
    """Tell a supervisor (if one started this process) that it serves now; once."""
    fd = os.environ.pop(READY_FD_VARIABLE, None)
    if fd is not None:
        with contextlib.suppress(OSError, ValueError):
            os.write(int(fd), b"1")
            os.close(int(fd))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _child_setup() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Ctrl-C reaches the whole foreground group; the supervisor alone acts on it (stopping the
    # components in order with SIGTERM), so a component ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Component:
    """One ``stackwatch serve`` process to run."""

    name: str
    """Shown in logs (``gateway-2``)."""
    kind: str
    """The ``serve`` argument: gateway, auth, ingest, alarm or autoscale."""
    env: Mapping[str, str]
    """``STACKWATCH_*`` settings of this process (added to the supervisor's environment)."""
    port: int
    """The port it listens on once ready."""
    host: str = "127.0.0.1"
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)


class Supervisor:
    """Start components in order, watch them, stop them in reverse order.

    Args:
        components: in start order (dependencies first).
        grace: seconds each component gets to stop after SIGTERM before SIGKILL.
        ready_timeout: seconds a component may take to listen.
    """

    def __init__(self, components: list[Component], *, grace: float = 20.0, ready_timeout: float = 120.0) -> None:
        self.components = components
        self._grace = grace
        self._ready_timeout = ready_timeout

    async def start(self) -> None:
        """Start every component and wait until each listens.

        Raises:
            StackWatchError: a component exited or did not start in time (the others are stopped).
        """
        try:
            for c in self.components:
                await self._start_one(c)
                assert c.process is not None
                LOG.info("%s started (pid %d, port %d)", c.name, c.process.pid, c.port)
        except BaseException:
            await self.stop()
            raise

    async def _start_one(self, c: Component) -> None:
        read_fd, write_fd = os.pipe()
        try:
            c.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "stackwatch.cli", "serve", c.kind,
                env={**os.environ, **c.env, READY_FD_VARIABLE: str(write_fd)}, pass_fds=(write_fd,),
                preexec_fn=_child_setup)
        finally:
            os.close(write_fd)
        try:
            # The child writes a byte when it serves; end of file means it exited first.
            ready = await asyncio.wait_for(asyncio.to_thread(os.read, read_fd, 1), self._ready_timeout)
        except TimeoutError:
            raise StackWatchError(f"{c.name} did not start within {self._ready_timeout:.0f} s") from None
        finally:
            os.close(read_fd)
        if not ready:
            status = await c.process.wait()
            raise StackWatchError(f"{c.name} exited with status {status} while starting")

    async def wait(self, stop: asyncio.Event) -> int:
        """Run until ``stop`` is set (0) or a component exits by itself (1); then stop them all."""
        watchers = {asyncio.create_task(c.process.wait()): c for c in self.components if c.process is not None}
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, *watchers], return_when=asyncio.FIRST_COMPLETED)
        status = 0
        for task in done:
            if task in watchers:
                c = watchers[task]
                LOG.error("%s exited with status %s; stopping the others", c.name, task.result())
                status = 1
        for task in (stopping, *watchers):
            task.cancel()
        await self.stop()
        return status

    async def stop(self) -> None:
        """SIGTERM each running component, last started first; SIGKILL whatever outlives ``grace``."""
        for c in reversed(self.components):
            p = c.process
            if p is None or p.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(p.wait(), self._grace)
            except TimeoutError:
                LOG.warning("%s did not stop within %.0f s; killing it", c.name, self._grace)
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                await p.wait()

    @property
    def pids(self) -> dict[str, int]:
        """Component name -> pid, of those started."""
        return {c.name: c.process.pid for c in self.components if c.process is not None}


def _autoscale_cloudstack() -> dict[str, str]:
    """The autoscale service's CloudStack settings: its own if set, else the auth service's.

    ``stackwatch up`` wires autoscale to the CloudStack tenants sign in with, with the same
    service account (``STACKWATCH_AUTH_CLOUDSTACK_URL``, ``_API_KEY``, ``_SECRET_KEY_FILE`` or
    ``_SECRET_KEY``), unless ``STACKWATCH_AUTOSCALE_CLOUDSTACK_URL`` names another.
    """
    if os.environ.get("STACKWATCH_AUTOSCALE_CLOUDSTACK_URL"):
        return {}
    out: dict[str, str] = {}
    for suffix in ("URL", "API_KEY", "SECRET_KEY_FILE", "SECRET_KEY"):
        value = os.environ.get(f"STACKWATCH_AUTH_CLOUDSTACK_{suffix}")
        if value:
            out[f"STACKWATCH_AUTOSCALE_CLOUDSTACK_{suffix}"] = value
    return out


def stack_components(*, host: str, port: int, data_dir: Path, credentials: Path, gateways: int,
                     store_url: str | None = None, log_format: str = "text") -> list[Component]:
    """The components of ``stackwatch up``: auth, ingest, autoscale, alarm, ``gateways`` gateways.

    The store is ``store_url`` (a ClickHouse server), by default chDB in ``data_dir/store`` for
    ingest, ``data_dir/autoscale-store`` for autoscale and ``data_dir/alarm-store`` for alarm (chDB
    allows one process per directory);
    ingest's write-ahead log is ``data_dir/wal`` either way.
    """
    key_file = data_dir / "internal.key"
    if not key_file.exists():
        key_file.write_bytes(os.urandom(32).hex().encode())
        key_file.chmod(0o600)
    auth_port, ingest_port, alarm_port, autoscale_port = free_port(), free_port(), free_port(), free_port()
    common = {"STACKWATCH_INTERNAL_KEY_FILE": str(key_file.resolve()), "STACKWATCH_LOG_FORMAT": log_format}
    auth = f"127.0.0.1:{auth_port}"
    ingest = f"127.0.0.1:{ingest_port}"
    alarm = f"127.0.0.1:{alarm_port}"
    autoscale = f"127.0.0.1:{autoscale_port}"
    public_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - comparing, not binding
    public_url = f"http://{f'[{public_host}]' if ':' in public_host else public_host}:{port}"
    components = [
        Component("auth", "auth", {**common, "STACKWATCH_AUTH_BIND": auth,
                                   "STACKWATCH_AUTH_CREDENTIALS_FILE": str(credentials.resolve())}, auth_port),
        Component("ingest", "ingest", {
            **common, "STACKWATCH_INGEST_BIND": ingest, "STACKWATCH_INGEST_AUTH_ADDRESS": auth,
            "STACKWATCH_INGEST_STORE_URL": store_url or f"chdb://{(data_dir / 'store').resolve()}",
            "STACKWATCH_INGEST_WAL_DIR": str((data_dir / "wal").resolve()),
            "STACKWATCH_INGEST_ALARM_ADDRESS": alarm}, ingest_port),
        Component("autoscale", "autoscale", {
            **common, **_autoscale_cloudstack(), "STACKWATCH_AUTOSCALE_BIND": autoscale,
            "STACKWATCH_AUTOSCALE_ALARM_ADDRESS": alarm,
            "STACKWATCH_AUTOSCALE_STORE_URL": store_url or f"chdb://{(data_dir / 'autoscale-store').resolve()}"},
            autoscale_port),
        Component("alarm", "alarm", {
            **common, "STACKWATCH_ALARM_BIND": alarm, "STACKWATCH_ALARM_AUTH_ADDRESS": auth,
            "STACKWATCH_ALARM_INGEST_ADDRESS": ingest, "STACKWATCH_ALARM_AUTOSCALE_ADDRESS": autoscale,
            "STACKWATCH_ALARM_PUBLIC_URL": public_url,
            "STACKWATCH_ALARM_SIGNING_KEY_FILE": str((data_dir / "sns-signing-key.pem").resolve()),
            "STACKWATCH_ALARM_STORE_URL": store_url or f"chdb://{(data_dir / 'alarm-store').resolve()}"}, alarm_port),
    ]
    gateway_env = {**common, "STACKWATCH_GATEWAY_HOST": host, "STACKWATCH_GATEWAY_PORT": str(port),
                   "STACKWATCH_GATEWAY_AUTH_ADDRESS": auth, "STACKWATCH_GATEWAY_INGEST_ADDRESS": ingest,
                   "STACKWATCH_GATEWAY_ALARM_ADDRESS": alarm, "STACKWATCH_GATEWAY_AUTOSCALE_ADDRESS": autoscale,
                   "STACKWATCH_GATEWAY_REUSE_PORT": "true" if gateways > 1 else "false"}
    for i in range(gateways):
        components.append(Component("gateway" if gateways == 1 else f"gateway-{i + 1}", "gateway", gateway_env,
                                    port, host))
    return components
