"""Lint and types are part of the build: ruff over the tree, mypy --strict over the packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed (it is a dev dependency: scripts/bootstrap.sh dev)")
        return found
    return str(path)


def test_ruff_passes():
    out = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.timeout(300)
def test_mypy_strict_passes():
    out = subprocess.run([_tool("mypy"), "stackwatch", "gateway", "services"], cwd=ROOT, capture_output=True,
                         text=True, timeout=290)
    assert out.returncode == 0, out.stdout + out.stderr
