"""The protos are the contract: generated code matches protos/, and every field is documented."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_up_to_date(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "protos", work / "protos")
    shutil.copytree(ROOT / "scripts", work / "scripts")
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(work / "scripts" / "gen_protos.sh")], check=True, env=env, cwd=work)
    fresh, committed = work / "stackwatch" / "proto", ROOT / "stackwatch" / "proto"
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*")
                             if p.is_file() and "__pycache__" not in p.parts)
    assert fresh_files == committed_files, "stackwatch/proto is out of date: run scripts/gen_protos.sh"
    stale = [str(f) for f in fresh_files if not filecmp.cmp(fresh / f, committed / f, shallow=False)]
    assert not stale, f"stale generated files (run scripts/gen_protos.sh): {stale}"


def _proto_files() -> list[Path]:
    return sorted((ROOT / "protos").rglob("*.proto"))


@pytest.mark.parametrize("path", _proto_files(), ids=lambda p: p.stem)
def test_every_field_message_and_rpc_has_a_comment(path):
    lines = path.read_text().splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        s = line.strip()
        declares = (s.startswith(("message ", "service ", "rpc ", "enum ")) or
                    (s.endswith(";") and "=" in s and not s.startswith(("option", "syntax", "package", "import", "//"))))
        if declares and not lines[i - 1].strip().startswith("//"):
            undocumented.append(f"{path.name}:{i + 1}: {s}")
    assert not undocumented, "\n".join(undocumented)


def test_generated_modules_import():
    from stackwatch.proto.alarm.v1 import alarm_pb2_grpc  # noqa: F401
    from stackwatch.proto.auth.v1 import auth_pb2_grpc  # noqa: F401
    from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc  # noqa: F401
    from stackwatch.proto.metrics.v1 import metrics_pb2_grpc  # noqa: F401


def test_no_field_is_renumbered_retyped_or_reused():
    import json

    from tests.contract.snapshot import SNAPSHOT, current

    before, now = json.loads(SNAPSHOT.read_text()), current()
    problems = []
    for message, fields in before.items():
        if message not in now:
            problems.append(f"message {message} removed")
            continue
        for name, spec in fields.items():
            if name in now[message] and now[message][name] != spec:
                problems.append(f"{message}.{name} changed from {spec} to {now[message][name]}")
        old_numbers = {spec[0]: name for name, spec in fields.items()}
        for name, spec in now[message].items():
            if name not in fields and spec[0] in old_numbers:
                problems.append(f"{message}.{name} reuses number {spec[0]} of {old_numbers[spec[0]]}")
    assert not problems, "\n".join(problems)
