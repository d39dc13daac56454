#!/usr/bin/env bash
# A local ClickHouse cluster for tests and benchmarks: ZooKeeper (Debian's zookeeper package) and
# 2 shards x 2 replicas of Debian's clickhouse-server on 127.0.0.1, each on free ports with its own
# data directory, cluster "stackwatch" in remote_servers, macros {shard}/{replica}, ON CLUSTER DDL.
#
#   scripts/cluster.sh up [--dir DIR] [--shards S] [--replicas R]   # prints the native ports
#   scripts/cluster.sh status [--dir DIR]
#   scripts/cluster.sh down [--dir DIR]
#
# Without --dir, "up" makes a temporary directory and remembers it in $STACKWATCH_CLUSTER_POINTER
# (default /tmp/stackwatch-cluster-$UID), which "status" and "down" read. The processes outlive this
# script; "down" stops them all. Installs zookeeper (and clickhouse-server) with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-}
case "$action" in up|down|status) shift ;; *) echo "usage: $0 up|down|status [--dir DIR]" >&2; exit 2 ;; esac
pointer=${STACKWATCH_CLUSTER_POINTER:-/tmp/stackwatch-cluster-$(id -u)}
dir=""; rest=()
while [ $# -gt 0 ]; do
  case "$1" in --dir) dir=$2; shift 2 ;; --dir=*) dir=${1#--dir=}; shift ;; *) rest+=("$1"); shift ;; esac
done
if [ -z "$dir" ]; then
  if [ "$action" = up ]; then dir=$(mktemp -d -t stackwatch-cluster.XXXXXX)
  elif [ -f "$pointer" ]; then dir=$(cat "$pointer")
  else echo "cluster: no --dir and no cluster started here (no $pointer)" >&2; exit 1
  fi
fi
PY=${STACKWATCH_PYTHON:-.venv/bin/python}
if [ "$action" = up ]; then
  [ -x "$PY" ] || scripts/bootstrap.sh dev
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  missing=()
  [ -f /usr/share/java/zookeeper.jar ] || [ -n "${STACKWATCH_ZOOKEEPER_JAR:-}" ] || missing+=(zookeeper)
  command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "cluster: installing ${missing[*]} with apt" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    # The packages may start system-wide services; the cluster runs its own processes.
    $SUDO systemctl disable --now zookeeper clickhouse-server >/dev/null 2>&1 || true
  fi
fi
"$PY" -m stackwatch.store.testing "$action" --dir "$dir" ${rest[@]+"${rest[@]}"}
rc=$?
if [ "$action" = up ]; then echo "$dir" > "$pointer"; fi
if [ "$action" = down ] && [ -f "$pointer" ] && [ "$(cat "$pointer")" = "$dir" ]; then rm -f "$pointer"; fi
exit $rc
