#!/usr/bin/env bash
# Set up (first run) and run the test suite: dev dependencies, Debian's clickhouse-server and zookeeper
# when missing (the fixtures start their own servers on free ports), then pytest on both cores.
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
if ! command -v clickhouse-server >/dev/null 2>&1 && [ ! -x /usr/sbin/clickhouse-server ]; then
  echo "test: installing Debian's clickhouse-server" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clickhouse-server >/dev/null
  # The package may start a system-wide server; the tests start their own, so stop it if it runs.
  $SUDO systemctl disable --now clickhouse-server >/dev/null 2>&1 || true
fi
if [ ! -f /usr/share/java/zookeeper.jar ]; then  # tests/cluster: ZooKeeper for the local ClickHouse cluster
  echo "test: installing Debian's zookeeper" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq zookeeper >/dev/null
  $SUDO systemctl disable --now zookeeper >/dev/null 2>&1 || true
fi
exec .venv/bin/python -m pytest -n 2 "$@"
