"""Throwaway ClickHouse servers (one, or a replicated cluster with ZooKeeper), for tests and benchmarks.

:class:`ClickHouseServer` runs Debian's ``clickhouse-server`` (18.16, or any later binary) on a
directory of its own: it writes a minimal ``config.xml`` and ``users.xml`` there, listens only on
127.0.0.1 and only for the native protocol (no HTTP, no interserver port), on a free port, and
keeps data, logs and temporary files inside the directory. The ``default`` user has no password
and may connect from 127.0.0.1 only.

    with ClickHouseServer(tmp_path / "ch") as ch:
        engine = open_engine(ch.url)       # clickhouse://127.0.0.1:PORT

Starting waits until the server answers ``SELECT 1``; if it exits or stays silent, the error
carries the tail of its log. On Linux the server is also told to die with the process that started
it, so a killed test run leaves no server behind.

:class:`ClickHouseCluster` starts a :class:`ZooKeeperServer` (Debian's ``zookeeper`` package, run
straight from its jar) and S x R :class:`ClickHouseServer` processes on 127.0.0.1, each with its
own directory, native and interserver ports, ``macros`` (``shard``, ``replica``), the
``remote_servers`` definition of the cluster (``stackwatch`` by default) and ``distributed_ddl``,
so ``ON CLUSTER`` DDL, ``ReplicatedMergeTree`` and ``Distributed`` tables work. It records its
processes in ``cluster.json`` so another process (``scripts/cluster.sh down``) can stop them::

    with ClickHouseCluster(tmp_path / "cluster") as cluster:
        cluster.server(shard=1, replica=2).url
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

_CANDIDATES = ("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")

_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>{log}</log>
    <errorlog>{errlog}</errorlog>
    <size>100M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{port}</tcp_port>
  <path>{data}/</path>
  <tmp_path>{tmp}/</tmp_path>
  <user_files_path>{user_files}/</user_files_path>
  <format_schema_path>{format_schemas}/</format_schema_path>
  <users_config>{users}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <!-- 18.16 has no per-column codecs: zstd for every part compresses floats ~30 % better than lz4 -->
  <compression>
    <case>
      <min_part_size>0</min_part_size>
      <min_part_size_ratio>0</min_part_size_ratio>
      <method>zstd</method>
    </case>
  </compression>
{extra}</yandex>
"""

_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries>
        <errors>0</errors>
        <result_rows>0</result_rows>
        <read_rows>0</read_rows>
        <execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
"""


def server_command() -> list[str] | None:
    """The command that runs a ClickHouse server here, or None when there is none.

    ``$STACKWATCH_CLICKHOUSE_SERVER`` wins; then Debian's ``clickhouse-server``; then the
    single ``clickhouse`` binary's ``server`` mode.
    """
    explicit = os.environ.get("STACKWATCH_CLICKHOUSE_SERVER")
    if explicit:
        return [explicit]
    found = shutil.which("clickhouse-server") or next((c for c in _CANDIDATES if os.access(c, os.X_OK)), None)
    if found:
        return [found]
    single = shutil.which("clickhouse")
    return [single, "server"] if single else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _spawn(command: list[str], die_with_parent: bool, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``command``; with ``die_with_parent`` (Linux), SIGKILLed when the spawning thread ends.

    util-linux's ``setpriv --pdeathsig`` sets the parent-death signal and execs the command, so
    Python can start it with ``vfork``. A ``preexec_fn`` would need a real ``fork``, which runs
    gRPC's fork handlers when this process also runs gRPC (the e2e stack of the cluster fault
    tests): about 1 child in 60 was aborted by them before its ``exec``. Without ``setpriv``,
    the ``preexec_fn`` it is.
    """
    if not die_with_parent or sys.platform != "linux":
        return subprocess.Popen(command, start_new_session=not die_with_parent, **popen)
    setpriv = shutil.which("setpriv")
    if setpriv:
        return subprocess.Popen([setpriv, "--pdeathsig", "KILL", "--", *command], **popen)
    return subprocess.Popen(command, preexec_fn=_die_with_parent, **popen)


class _PortTaken(RuntimeError):
    """The server could not listen on the port it was given (someone took it first)."""


class _ServerProcess:
    """What both test servers share: the process this object started, and stopping it."""

    _proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._proc is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Whether this object started the server and it has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        _stop(self._proc, grace)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the server (a crash, as far as it can tell) and reap it."""
        _stop(self._proc, None)
        self._proc = None


class ClickHouseServer(_ServerProcess):
    """A ClickHouse server owning ``directory`` (see the module docstring).

    Args:
        directory: where config, data, logs and temporary files go; created if missing.
        command: the server command (default: :func:`server_command`).
        startup_timeout: seconds to wait for ``SELECT 1`` to answer.
        port: a fixed native port (a cluster member's peers know it); default a free one, chosen
            again if it turns out to be taken.
        interserver_port: the replication (interserver HTTP) port on 127.0.0.1; none by default.
        extra_config: XML elements added to ``config.xml`` (``remote_servers``, ``macros``, ...).
        die_with_parent: on Linux, SIGKILL the server when the starting process dies (off for a
            cluster that must outlive ``scripts/cluster.sh up``).

    Attributes:
        port: the native-protocol port.
        url: ``clickhouse://127.0.0.1:PORT`` for :func:`~stackwatch.store.open_engine`.
        pid: the server's process id.
    """

    def __init__(self, directory: Path, *, command: list[str] | None = None,
                 startup_timeout: float = 30.0, port: int | None = None, interserver_port: int | None = None,
                 extra_config: str = "", die_with_parent: bool = True) -> None:
        self.directory = Path(directory)
        self._command = command or server_command()
        self.startup_timeout = startup_timeout
        self._fixed_port = port
        self.port = port or 0
        self.interserver_port = interserver_port
        self.extra_config = extra_config
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``clickhouse://127.0.0.1:PORT``."""
        return f"clickhouse://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The server's main log file."""
        return self.directory / "log" / "server.log"

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server's log and of its stderr."""
        out = []
        for p in (self.log_path, self.directory / "log" / "stderr.log"):
            if p.exists():
                text = p.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {p.name} ---\n" + "\n".join(text))
        return "\n".join(out) or "(no log written)"

    def _write_config(self) -> Path:
        d = self.directory.resolve()
        for sub in ("data", "tmp", "log", "user_files", "format_schemas"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "users.xml").write_text(_USERS)
        config = d / "config.xml"
        extra = self.extra_config
        if self.interserver_port:
            extra = (f"  <interserver_http_host>127.0.0.1</interserver_http_host>\n"
                     f"  <interserver_http_port>{self.interserver_port}</interserver_http_port>\n{extra}")
        config.write_text(_CONFIG.format(extra=extra,
            log=escape(str(d / "log" / "server.log")), errlog=escape(str(d / "log" / "server.err.log")),
            port=self.port, data=escape(str(d / "data")), tmp=escape(str(d / "tmp")),
            user_files=escape(str(d / "user_files")), format_schemas=escape(str(d / "format_schemas")),
            users=escape(str(d / "users.xml"))))
        return config

    def start(self) -> ClickHouseServer:
        """Start the server and wait until it answers; retried on another port if the first is taken.

        Raises:
            FileNotFoundError: no server binary.
            RuntimeError: it exited or did not answer in time (the message has its log tail).
        """
        for attempt in range(3):
            self.launch()
            try:
                return self.wait_started()
            except _PortTaken:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def launch(self) -> None:
        """Write the config and spawn the server, without waiting (see :meth:`wait_started`).

        The server is spawned by the calling thread: on Linux it dies with that thread when
        ``die_with_parent`` is on, so call this from a thread that lives as long as the server.

        Raises:
            FileNotFoundError: no server binary.
        """
        if not self._command:
            raise FileNotFoundError("no clickhouse-server binary (apt-get install clickhouse-server)")
        self.port = self._fixed_port or free_port()
        config = self._write_config()
        with (self.directory / "log" / "stderr.log").open("ab") as stderr:
            self._proc = _spawn([*self._command, f"--config-file={config}"], self.die_with_parent,
                                cwd=self.directory, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)

    def wait_started(self) -> ClickHouseServer:
        """Wait until the launched server answers ``SELECT 1``; stop it if it does not.

        Raises:
            RuntimeError: it exited or did not answer in time (the message has its log tail).
        """
        if self._wait_ready():
            return self
        assert self._proc is not None
        code = self._proc.poll()
        tail = self.log_tail()
        self.stop()
        message = (f"clickhouse-server on port {self.port} did not answer SELECT 1 within "
                   f"{self.startup_timeout:.0f} s (exit code {code}); log tail:\n{tail}")
        if code is not None and "Address already in use" in tail and not self._fixed_port:
            raise _PortTaken(message)
        raise RuntimeError(message)

    def _wait_ready(self) -> bool:
        from clickhouse_driver import Client  # type: ignore[import-untyped]

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False
            client = Client("127.0.0.1", port=self.port, connect_timeout=1, send_receive_timeout=5)
            try:
                if client.execute("SELECT 1") == [(1,)]:
                    return True
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
            finally:
                client.disconnect()
        return False

    def __enter__(self) -> ClickHouseServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


_ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar"
_SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"


def zookeeper_command() -> list[str] | None:
    """The JVM command that runs a standalone ZooKeeper server here, or None when there is none.

    Debian's ``zookeeper`` package puts its jar (with a manifest class path) in
    ``/usr/share/java``; ``$STACKWATCH_ZOOKEEPER_JAR`` overrides the jar. The server class takes the
    config file as its argument.
    """
    jar = os.environ.get("STACKWATCH_ZOOKEEPER_JAR", _ZOOKEEPER_JAR)
    java = shutil.which("java")
    if not java or not os.path.exists(jar):
        return None
    classpath = jar + (f":{_SLF4J_SIMPLE}" if os.path.exists(_SLF4J_SIMPLE) else "")
    return [java, "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
            "org.apache.zookeeper.server.ZooKeeperServerMain"]


def zookeeper_ok(port: int, timeout: float = 1.0) -> bool:
    """Whether a ZooKeeper server on 127.0.0.1:``port`` serves requests (its ``srvr`` report has a mode).

    ``ruok`` is not enough: it answers ``imok`` as soon as the port listens, before the server has
    loaded its database, and a ClickHouse 18.16 server whose handshake is refused then may crash.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"srvr")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
    except OSError:
        return False
    return b"Mode: " in reply


def rss_bytes(pid: int) -> int:
    """The resident set size of process ``pid`` (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class ZooKeeperServer(_ServerProcess):
    """A standalone ZooKeeper server owning ``directory`` (data and log), on 127.0.0.1.

    Args:
        directory: where ``zoo.cfg``, the data and the log go; created if missing.
        port: the client port (default a free one).
        command: the JVM command (default: :func:`zookeeper_command`).
        startup_timeout: seconds to wait for it to serve requests.
        die_with_parent: as for :class:`ClickHouseServer`.
    """

    def __init__(self, directory: Path, *, port: int | None = None, command: list[str] | None = None,
                 startup_timeout: float = 60.0, die_with_parent: bool = True) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self._command = command or zookeeper_command()
        self.startup_timeout = startup_timeout
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server's output."""
        p = self.directory / "zookeeper.log"
        return "\n".join(p.read_text(errors="replace").splitlines()[-lines:]) if p.exists() else "(no log)"

    def start(self) -> ZooKeeperServer:
        """Start the server and wait until it serves requests (see :func:`zookeeper_ok`).

        Raises:
            FileNotFoundError: no java or no ZooKeeper jar.
            RuntimeError: it exited or did not answer in time (the message has its log tail).
        """
        if not self._command:
            raise FileNotFoundError("no ZooKeeper (apt-get install zookeeper, or set STACKWATCH_ZOOKEEPER_JAR)")
        d = self.directory.resolve()
        (d / "data").mkdir(parents=True, exist_ok=True)
        (d / "zoo.cfg").write_text(
            f"tickTime=500\ndataDir={d / 'data'}\nclientPort={self.port}\nclientPortAddress=127.0.0.1\n"
            "maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,mntr\n"
            "maxSessionTimeout=60000\n")
        with (d / "zookeeper.log").open("ab") as out:
            self._proc = _spawn([*self._command, str(d / "zoo.cfg")], self.die_with_parent,
                                cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if zookeeper_ok(self.port):
                return self
            time.sleep(0.2)
        code = self._proc.poll()
        self.stop()
        raise RuntimeError(f"ZooKeeper on port {self.port} did not serve requests within {self.startup_timeout:.0f} s "
                           f"(exit code {code}); log tail:\n{self.log_tail()}")

class ClickHouseCluster:
    """ZooKeeper plus ``shards`` x ``replicas`` ClickHouse servers under ``directory``.

    Server ``s{shard}r{replica}`` (both from 1) has macros ``shard`` = ``{shard}`` and ``replica``
    = ``r{replica}``; the cluster ``name`` lists every server, with ``internal_replication`` on
    (a Distributed insert goes to one replica of the shard and replication copies it).

    Args:
        directory: the parent of each process's directory, and of ``cluster.json``.
        shards: the number of shards.
        replicas: the number of replicas of each shard.
        name: the cluster's name in ``remote_servers``.
        die_with_parent: as for :class:`ClickHouseServer`.
        zookeeper_session_timeout_ms: the servers' ZooKeeper session timeout.
    """

    def __init__(self, directory: Path, *, shards: int = 2, replicas: int = 2, name: str = "stackwatch",
                 die_with_parent: bool = True, zookeeper_session_timeout_ms: int = 10_000) -> None:
        self.directory = Path(directory).resolve()
        self.shards, self.replicas, self.name = shards, replicas, name
        self.zookeeper = ZooKeeperServer(self.directory / "zookeeper", die_with_parent=die_with_parent)
        ports = _distinct_free_ports(2 * shards * replicas, avoid={self.zookeeper.port})
        self.servers: list[ClickHouseServer] = []
        for s in range(1, shards + 1):
            for r in range(1, replicas + 1):
                i = (s - 1) * replicas + (r - 1)
                self.servers.append(ClickHouseServer(
                    self.directory / f"s{s}r{r}", port=ports[2 * i], interserver_port=ports[2 * i + 1],
                    die_with_parent=die_with_parent))
        for i, server in enumerate(self.servers):
            server.extra_config = self._extra_config(i // replicas + 1, i % replicas + 1, zookeeper_session_timeout_ms)

    def server(self, shard: int, replica: int) -> ClickHouseServer:
        """The server of ``shard`` and ``replica`` (both from 1)."""
        return self.servers[(shard - 1) * self.replicas + (replica - 1)]

    def url(self, database: str = "default", **options: object) -> str:
        """The store URL of the cluster (every server an entry point), with extra URL ``options``."""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.servers)
        extra = "".join(f"&{k}={v}" for k, v in options.items())
        return f"clickhouse://{hosts}/{database}?cluster={self.name}{extra}"

    def shard_servers(self, shard: int) -> list[ClickHouseServer]:
        """The replicas of ``shard`` (from 1)."""
        return self.servers[(shard - 1) * self.replicas:shard * self.replicas]

    def _extra_config(self, shard: int, replica: int, session_timeout_ms: int) -> str:
        shards_xml = "".join(
            "      <shard>\n        <internal_replication>true</internal_replication>\n"
            + "".join(f"        <replica><host>127.0.0.1</host><port>{x.port}</port></replica>\n"
                      for x in self.shard_servers(s))
            + "      </shard>\n" for s in range(1, self.shards + 1))
        return (f"  <remote_servers>\n    <{self.name}>\n{shards_xml}    </{self.name}>\n  </remote_servers>\n"
                f"  <macros><cluster>{self.name}</cluster><shard>{shard}</shard>"
                f"<replica>r{replica}</replica></macros>\n"
                f"  <zookeeper>\n    <node><host>127.0.0.1</host><port>{self.zookeeper.port}</port></node>\n"
                f"    <session_timeout_ms>{session_timeout_ms}</session_timeout_ms>\n  </zookeeper>\n"
                "  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n"
                # a replica killed mid-insert sets aside the parts ZooKeeper never committed, however
                # many: by default it refuses to start when they are over half a (small) table's rows
                "  <merge_tree><replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts>"
                "</merge_tree>\n")

    def start(self) -> ClickHouseCluster:
        """Start ZooKeeper (unless running), then every server at once; wait until all answer; stop all on failure.

        Raises:
            FileNotFoundError: no ZooKeeper or no clickhouse-server.
            RuntimeError: a process did not come up (with its log tail).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            if not self.zookeeper.running:
                self.zookeeper.start()
            for server in self.servers:  # spawned by this thread, which they die with (not by a pool's)
                server.launch()
            with ThreadPoolExecutor(len(self.servers)) as pool:
                for f in [pool.submit(s.wait_started) for s in self.servers]:
                    f.result()
        except BaseException:
            self.stop()
            raise
        self._save_state()
        return self

    def stop(self) -> None:
        """Stop every server, then ZooKeeper."""
        with ThreadPoolExecutor(len(self.servers)) as pool:
            list(pool.map(lambda s: s.stop(), self.servers))
        self.zookeeper.stop()
        (self.directory / "cluster.json").unlink(missing_ok=True)

    def _save_state(self) -> None:
        state = {"name": self.name, "shards": self.shards, "replicas": self.replicas,
                 "zookeeper": {"port": self.zookeeper.port, "pid": self.zookeeper.pid,
                               "directory": str(self.zookeeper.directory.resolve())},
                 "servers": [{"shard": i // self.replicas + 1, "replica": i % self.replicas + 1, "port": s.port,
                              "interserver_port": s.interserver_port, "pid": s.pid,
                              "directory": str(s.directory.resolve())} for i, s in enumerate(self.servers)]}
        (self.directory / "cluster.json").write_text(json.dumps(state, indent=2) + "\n")

    def __enter__(self) -> ClickHouseCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _distinct_free_ports(n: int, avoid: set[int]) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p not in avoid and p not in ports:
            ports.append(p)
    return ports


def _owned(pid: int, directory: str) -> bool:
    """Whether ``pid`` is still the process started on ``directory`` (not a reused pid)."""
    try:
        return directory in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def _terminate(pids: list[tuple[int, str]], grace: float = 10.0) -> None:
    live = [pid for pid, d in pids if _owned(pid, d)]
    for pid in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline:
        live = [pid for pid in live if _alive(pid)]
        time.sleep(0.1)
    for pid in live:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (a stopped cluster member's parent is init)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(errors="replace")
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _cluster_status(state: dict[str, object]) -> tuple[bool, list[str]]:
    from clickhouse_driver import Client

    zk = state["zookeeper"]
    assert isinstance(zk, dict)
    zk_up = zookeeper_ok(int(zk["port"]))
    lines = [f"zookeeper 127.0.0.1:{zk['port']} pid {zk['pid']} {'up' if zk_up else 'DOWN'} "
             f"rss {rss_bytes(int(zk['pid'])) // 2**20} MiB"]
    ok = zk_up
    servers = state["servers"]
    assert isinstance(servers, list)
    for s in servers:
        client = Client("127.0.0.1", port=int(s["port"]), connect_timeout=1, send_receive_timeout=5)
        try:
            up = client.execute("SELECT 1") == [(1,)]
        except Exception:  # noqa: BLE001 - reported as down
            up = False
        finally:
            client.disconnect()
        ok = ok and up
        lines.append(f"shard {s['shard']} replica {s['replica']} native 127.0.0.1:{s['port']} "
                     f"interserver {s['interserver_port']} pid {s['pid']} {'up' if up else 'DOWN'} "
                     f"rss {rss_bytes(int(s['pid'])) // 2**20} MiB")
    return ok, lines


def cluster_main(argv: Sequence[str] | None = None) -> int:
    """``python -m stackwatch.store.testing up|down|status --dir DIR``: what ``scripts/cluster.sh`` runs.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 1 when ``status`` finds a process down or there is no cluster.
    """
    parser = argparse.ArgumentParser(prog="cluster.sh", description="A local ClickHouse cluster with ZooKeeper.")
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--dir", required=True, type=Path, help="the cluster's directory")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--name", default="stackwatch", help="the cluster's name in remote_servers")
    args = parser.parse_args(argv)
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.CRITICAL)  # a traceback per refused connect
    state_file = args.dir.resolve() / "cluster.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else None
    if args.action == "up":
        if state is not None and _cluster_status(state)[0]:
            print(f"cluster already up in {args.dir}", file=sys.stderr)
            return 1
        started = time.monotonic()
        cluster = ClickHouseCluster(args.dir, shards=args.shards, replicas=args.replicas, name=args.name,
                                    die_with_parent=False).start()
        print(f"cluster {cluster.name}: {cluster.shards} shards x {cluster.replicas} replicas, "
              f"up in {time.monotonic() - started:.1f} s, directory {cluster.directory}")
        print(f"zookeeper 127.0.0.1:{cluster.zookeeper.port}")
        for i, s in enumerate(cluster.servers):
            print(f"shard {i // cluster.replicas + 1} replica {i % cluster.replicas + 1} native port {s.port}")
        print(f"store URL (stackwatch up --store-url, STACKWATCH_*_STORE_URL): {cluster.url()}")
        return 0
    if state is None:
        print(f"no cluster in {args.dir}", file=sys.stderr)
        return 1
    if args.action == "status":
        ok, lines = _cluster_status(state)
        print(f"cluster {state['name']} in {args.dir}: {'up' if ok else 'DEGRADED'}")
        print("\n".join(lines))
        return 0 if ok else 1
    _terminate([(int(s["pid"]), str(s["directory"])) for s in state["servers"]])
    _terminate([(int(state["zookeeper"]["pid"]), str(state["zookeeper"]["directory"]))])
    state_file.unlink()
    print(f"cluster {state['name']} in {args.dir} stopped")
    return 0


if __name__ == "__main__":
    sys.exit(cluster_main())


def _stop(proc: subprocess.Popen[bytes] | None, grace: float | None) -> None:
    """End a server process and reap it: SIGTERM, then SIGKILL after ``grace`` s (None: SIGKILL at once)."""
    if proc is None or proc.poll() is not None:
        return
    if grace is not None:
        proc.terminate()
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    proc.wait()
