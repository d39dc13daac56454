"""The alarm domain stays pure: no I/O libraries imported, no clock read (DESIGN decision 4)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

DOMAIN = pathlib.Path(__file__).resolve().parents[2] / "services" / "alarm" / "domain"


def test_importing_the_domain_pulls_in_no_io_library():
    code = ("import sys, services.alarm.domain; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'grpc', 'aiohttp', 'clickhouse_driver', 'chdb', 'tenacity', 'google', 'socket', 'asyncio'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=DOMAIN.parents[2])
    assert out.stdout.strip() == "[]"


def test_no_module_reads_the_clock():
    for path in DOMAIN.glob("*.py"):
        text = path.read_text()
        for call in ("datetime.now", "datetime.utcnow", "time.time", "time.monotonic", "date.today"):
            assert call not in text, f"{path.name} calls {call}"
