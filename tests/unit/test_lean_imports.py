"""A process that does not use the embedded store does not load it (chDB is ~260 MB of RSS).

Each check runs in a fresh interpreter, since this test process may have imported anything.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("chdb", "pyarrow", "pandas")


@pytest.mark.parametrize("module", ["gateway.app", "services.auth.main", "services.ingest.main", "stackwatch.cli"])
def test_starting_a_component_does_not_import_the_embedded_store(module):
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_the_gateway_starts_without_matplotlib():
    """The gateway imports matplotlib (about a second) on the first GetMetricWidgetImage, not at start-up."""
    code = "import sys, gateway.app; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
