#!/usr/bin/env bash
# Set up (first run) and start the whole stack on the embedded store: auth, ingest and one gateway
# per core, each its own process, stopped together on Ctrl-C. Arguments go to `stackwatch up`
# (--host, --port, --data-dir, --credentials, --gateways, --store-url, --one-process).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/stackwatch up "$@"
