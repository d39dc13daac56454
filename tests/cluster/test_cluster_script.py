"""``scripts/cluster.sh up|status|down`` as a user runs it: processes that outlive the script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clickhouse_driver import Client  # type: ignore[import-untyped]

from stackwatch.store.testing import server_command, zookeeper_command

pytestmark = pytest.mark.cluster

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster.sh"


def _run(action: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACKWATCH_PYTHON": sys.executable, "STACKWATCH_CLUSTER_POINTER": str(tmp_path / "pointer")}
    return subprocess.run([str(SCRIPT), action, *args], capture_output=True, text=True, env=env, timeout=120)


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()  # a zombie has exited
    except OSError:
        return False


def test_up_prints_the_ports_of_a_working_cluster_and_down_stops_every_process(tmp_path):
    if server_command() is None or zookeeper_command() is None:
        pytest.skip("clickhouse-server or zookeeper is not installed")
    up = _run("up", tmp_path, "--dir", str(tmp_path / "c"))
    assert up.returncode == 0, up.stderr
    try:
        ports = [int(p) for p in re.findall(r"native port (\d+)", up.stdout)]
        assert len(ports) == 4 and "cluster stackwatch: 2 shards x 2 replicas" in up.stdout
        for port in ports:  # every server knows the whole cluster and its own place in it
            c = Client("127.0.0.1", port=port, connect_timeout=2)
            assert sorted(c.execute("SELECT shard_num, replica_num, port FROM system.clusters "
                                    "WHERE cluster = 'stackwatch'")) == \
                [(1, 1, ports[0]), (1, 2, ports[1]), (2, 1, ports[2]), (2, 2, ports[3])]
            c.disconnect()
        status = _run("status", tmp_path)  # no --dir: the pointer file names it
        assert status.returncode == 0 and status.stdout.count(" up ") == 5, status.stdout
        state = json.loads((tmp_path / "c" / "cluster.json").read_text())
        pids = [s["pid"] for s in state["servers"]] + [state["zookeeper"]["pid"]]
    finally:
        down = _run("down", tmp_path)
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "a cluster process outlived down"
        time.sleep(0.1)
    gone = _run("status", tmp_path, "--dir", str(tmp_path / "c"))
    assert gone.returncode == 1 and "no cluster" in gone.stderr
