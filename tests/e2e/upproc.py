"""``stackwatch up`` run as a user runs it, in a session of its own, for e2e tests.

:class:`Up` starts the real command on the embedded store in a data directory and reads its
banner (endpoint, pids); :func:`alive` and :func:`gone_within` watch its processes.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

AK, SK = "AKIAUPTEST0000000001", "up-test-secret-00000000000000000000000000"
ACCOUNT = "c0000000-0000-4000-8000-00000000000c"
STACKWATCH = [sys.executable, "-m", "stackwatch.cli"]


class Up:
    """A running ``stackwatch up``: its endpoint and its processes' pids."""

    def __init__(self, data_dir: Path, creds: Path, gateways: int = 2, port: int = 0) -> None:
        self.log = data_dir.parent / f"up-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [*STACKWATCH, "up", "--port", str(port), "--data-dir", str(data_dir), "--credentials", str(creds),
             "--gateways", str(gateways)],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "STACKWATCH_LOG_LEVEL": "INFO"})
        end = time.monotonic() + 120
        while "Press Ctrl-C" not in self.text():
            assert self.proc.poll() is None, f"stackwatch up exited:\n{self.text()[-3000:]}"
            assert time.monotonic() < end, f"stackwatch up did not start:\n{self.text()[-3000:]}"
            time.sleep(0.1)
        endpoint = re.search(r"CloudWatch endpoint : (\S+)", self.text())
        processes = re.search(r"processes\s+: (.*)", self.text())
        assert endpoint and processes
        self.endpoint = endpoint.group(1)
        self.pids = {name: int(pid) for name, pid in (p.rsplit(" ", 1) for p in processes.group(1).split(", "))}

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, service: str = "cloudwatch"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=AK, aws_secret_access_key=SK,
                            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    with contextlib.suppress(FileNotFoundError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def gone_within(pids: list[int], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False
