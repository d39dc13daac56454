"""A throwaway ClickHouse server process, for tests and benchmarks.

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
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
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
</yandex>
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


class ClickHouseServer:
    """A ClickHouse server owning ``directory`` (see the module docstring).

    Args:
        directory: where config, data, logs and temporary files go; created if missing.
        command: the server command (default: :func:`server_command`).
        startup_timeout: seconds to wait for ``SELECT 1`` to answer.

    Attributes:
        port: the native-protocol port.
        url: ``clickhouse://127.0.0.1:PORT`` for :func:`~stackwatch.store.open_engine`.
        pid: the server's process id.
    """

    def __init__(self, directory: Path, *, command: list[str] | None = None,
                 startup_timeout: float = 30.0) -> None:
        self.directory = Path(directory)
        self._command = command or server_command()
        self.startup_timeout = startup_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``clickhouse://127.0.0.1:PORT``."""
        return f"clickhouse://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._proc is None:
            raise RuntimeError("the server is not running")
        return self._proc.pid

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
        config.write_text(_CONFIG.format(
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
        if not self._command:
            raise FileNotFoundError("no clickhouse-server binary (apt-get install clickhouse-server)")
        for attempt in range(3):
            self.port = free_port()
            config = self._write_config()
            stderr = (self.directory / "log" / "stderr.log").open("ab")
            self._proc = subprocess.Popen(
                [*self._command, f"--config-file={config}"], cwd=self.directory, stdin=subprocess.DEVNULL,
                stdout=stderr, stderr=stderr,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
            stderr.close()
            if self._wait_ready():
                return self
            code = self._proc.poll()
            tail = self.log_tail()
            self.stop()
            if code is not None and "Address already in use" in tail and attempt < 2:
                continue
            raise RuntimeError(f"clickhouse-server on port {self.port} did not answer SELECT 1 within "
                               f"{self.startup_timeout:.0f} s (exit code {code}); log tail:\n{tail}")
        raise AssertionError("unreachable")  # pragma: no cover

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

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> ClickHouseServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
