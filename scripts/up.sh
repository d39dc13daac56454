#!/usr/bin/env bash
# Set up (first run) and start the whole stack in one process on the embedded store.
# Arguments are passed to `stackwatch up` (--host, --port, --data-dir, --credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/stackwatch up "$@"
