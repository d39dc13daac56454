"""What the benchmarks run against: ``stackwatch up`` as a user starts it, and moto_server beside it.

* :func:`stackwatch_up` runs the real ``stackwatch up`` command (its own processes: auth, ingest,
  one gateway per core), on the embedded store or, with ``clickhouse=True``, on a private Debian
  ``clickhouse-server`` (``--store-url``), and waits for its banner.
  ``store_url`` puts it on any other store (a ClickHouse cluster's URL), and ``wal=False`` runs
  it without ingest's write-ahead log (each PutMetricData acknowledged after its INSERT): then
  this module, run as a script, stands in for ``stackwatch up``, with the same components
  (:func:`stackwatch.supervisor.stack_components`) minus the log. ``accounts`` gives the stack
  one credential per account (``Target.keys``), for load spread over accounts and so over shards.
* :func:`moto` runs ``moto_server``, an in-memory CloudWatch emulator with no durability, as the
  yardstick: this machine's absolute figures move from run to run (the host is shared), so each
  figure is printed beside moto's from the same run, as a ratio.

Both yield a :class:`Target` with the endpoint, credentials and the pids worth watching.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackwatch.store.testing import ClickHouseServer  # noqa: E402
from stackwatch.supervisor import Supervisor, free_port, stack_components  # noqa: E402

# The server fixture polls until ClickHouse answers; the driver logs every refused attempt with a traceback.
logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)

AK, SK = "AKIABENCH00000000001", "bench-secret-0000000000000000000000000000"
ACCOUNT = "b0000000-0000-4000-8000-000000000001"
BIN = Path(sys.executable).parent


@dataclass
class Target:
    """A running CloudWatch endpoint to measure."""

    name: str
    endpoint: str
    access_key: str = AK
    secret_key: str = SK
    pids: dict[str, int] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=lambda: [(AK, SK)])
    """(access key, secret key) of each account the stack knows, the first being ``access_key``'s."""


def bench_keys(i: int) -> tuple[str, str]:
    """The access and secret key of the ``i``-th bench account (0 is :data:`AK`, :data:`SK`)."""
    return f"AKIABENCH{i + 1:011d}", f"bench-secret-{i:028d}"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


@contextlib.contextmanager
def stackwatch_up(*, clickhouse: bool = False, gateways: int | None = None, log_level: str = "WARNING",
                  prepare: Callable[[Path], None] | None = None, data_dir: Path | None = None,
                  store_url: str | None = None, wal: bool = True, accounts: Sequence[str] = (ACCOUNT,),
                  name: str | None = None) -> Iterator[Target]:
    """``stackwatch up`` in a temporary data directory; stopped with SIGTERM (as a user's Ctrl-C) at exit.

    ``prepare(data_dir)`` runs first, before anything owns the embedded store (to load data into it).
    ``data_dir`` is the data directory to use (and keep) instead of a temporary one.
    ``store_url``: the store to use (instead of chDB, or of the private server of ``clickhouse``).
    ``wal=False``: ingest without its write-ahead log (the same components, started by this module).
    ``accounts``: one credential each (``bench_keys(i)``), the first being :data:`AK`/:data:`SK`.
    """
    with tempfile.TemporaryDirectory(prefix="sw-bench-") as tmp, contextlib.ExitStack() as stack:
        tmpdir = Path(tmp)
        creds = tmpdir / "creds.json"
        keys = [bench_keys(i) for i in range(len(accounts))]
        creds.write_text(json.dumps({"credentials": [
            {"access_key_id": ak, "secret_access_key": sk, "account_id": account, "user": f"bench{i}"}
            for i, ((ak, sk), account) in enumerate(zip(keys, accounts, strict=True))]}))
        port = free_port()
        data = data_dir if data_dir is not None else tmpdir / "data"
        up = [str(BIN / "stackwatch"), "up"] if wal else [sys.executable, str(Path(__file__).resolve()), "up"]
        command = [*up, "--port", str(port), "--data-dir", str(data), "--credentials", str(creds)]
        pids: dict[str, int] = {}
        name = name or "stackwatch up (chDB)"
        if prepare is not None:
            prepare(data)
        if clickhouse:
            ch = stack.enter_context(ClickHouseServer(tmpdir / "ch"))
            store_url = ch.url
            pids["clickhouse"] = ch.pid
            name = "stackwatch up (ClickHouse 18.16 server)"
        if store_url:
            command += ["--store-url", store_url]
        if gateways:
            command += ["--gateways", str(gateways)]
        log = tmpdir / "up.log"
        proc = subprocess.Popen(command, env={**os.environ, "STACKWATCH_LOG_LEVEL": log_level},
                                stdout=log.open("wb"), stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 120
            while "Press Ctrl-C" not in log.read_text():
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"stackwatch up did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
            found = re.search(r"processes\s+:\s+(.*)", log.read_text())
            assert found is not None
            for item in found.group(1).split(", "):
                component, pid = item.rsplit(" ", 1)
                pids[component] = int(pid)
            yield Target(name, f"http://127.0.0.1:{port}", keys[0][0], keys[0][1], pids=pids, keys=keys)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
            text = log.read_text()
            kept = Path(tempfile.gettempdir()) / "stackwatch-bench-up.log"
            shutil.copyfile(log, kept)
            print(f"  stack log kept in {kept}")
            for line in text.splitlines():
                if "ingest stopped" in line or "alarm stopped" in line:
                    print("  " + line.split("INFO", 1)[-1].strip())
            for what in ("datapoints unavailable", "evaluation failed", "evaluation pass failed"):
                if n := text.count(what):  # the alarm scheduler's warnings: an alarm skipped a period
                    print(f"  alarm log: {n} x '{what}'")
            if "Traceback" in text or proc.returncode not in (0, -15):
                print(f"--- stackwatch up exited {proc.returncode}; log tail ---\n{text[-3000:]}")


@contextlib.contextmanager
def moto() -> Iterator[Target]:
    """``moto_server`` on a free port (in-memory, nothing durable)."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "moto_server"), "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        yield Target("moto_server (in memory)", f"http://127.0.0.1:{port}", "testing", "testing",
                     pids={"moto": proc.pid})
    finally:
        proc.terminate()
        proc.wait(15)


async def _up_without_wal(args: argparse.Namespace) -> int:
    """``stackwatch up``'s components, ingest without its write-ahead log; until SIGTERM."""
    args.data_dir.mkdir(parents=True, exist_ok=True)
    components = stack_components(host="127.0.0.1", port=args.port, data_dir=args.data_dir,
                                  credentials=args.credentials, gateways=args.gateways, store_url=args.store_url)
    for c in components:
        if c.kind == "ingest":
            c.env = {k: v for k, v in c.env.items() if k != "STACKWATCH_INGEST_WAL_DIR"}
    supervisor = Supervisor(components)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await supervisor.start()
    processes = ", ".join(f"{name} {pid}" for name, pid in supervisor.pids.items())
    print(f"stack up without the write-ahead log\n  processes           : {processes}\nPress Ctrl-C to stop.",
          flush=True)
    return await supervisor.wait(stop)


def main() -> None:
    """``python bench/stacks.py up ...``: what :func:`stackwatch_up` runs for ``wal=False``."""
    parser = argparse.ArgumentParser(description="stackwatch up without ingest's write-ahead log (for benches)")
    parser.add_argument("command", choices=("up",))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--store-url", default=None)
    parser.add_argument("--gateways", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(_up_without_wal(args)))


if __name__ == "__main__":
    main()
