#!/usr/bin/env python3
"""Write the store tier of ``k8s/``: ZooKeeper (3 nodes) and ClickHouse as S shards x R replicas.

::

    scripts/k8s_clickhouse.py --shards 2 --replicas 2 [--out k8s] [--cluster-domain cluster.local]

writes two files and prints, on stdout, the store URL the services end up with::

    10-zookeeper.yaml    ConfigMap zookeeper-logging, Services zookeeper-headless (ensemble) and
                         zookeeper (clients), StatefulSet zookeeper (3 pods, a PVC each), PDB
    11-clickhouse.yaml   ConfigMaps clickhouse-config (config.d/users.d, the same for every pod) and
                         stackwatch-store (the services' host list and options), Service clickhouse
                         (clients), and per shard i: headless Service clickhouse-s<i>, StatefulSet
                         clickhouse-s<i> (R pods, a PVC each), PDB clickhouse-s<i>

Everything that differs between pods comes from the pod itself, so one ``config.d`` serves all::

    pod clickhouse-s2-1 (StatefulSet clickhouse-s2, governed by the headless Service clickhouse-s2)
      CLICKHOUSE_SHARD=2                    (the StatefulSet's env)  -> macro {shard}
      CLICKHOUSE_REPLICA=clickhouse-s2-1    (downward API: pod name) -> macro {replica}
      CLICKHOUSE_INTERSERVER_HOST=clickhouse-s2-1.clickhouse-s2.stackwatch.svc.cluster.local
                                                                     -> interserver_http_host

``remote_servers`` (cluster ``stackwatch``) lists shard i's replicas as those pods' DNS names, in
shard order, which is the order Distributed tables route by (``hash % S`` picks the shard). The
services get every pod as a host of their store URL, from the ``stackwatch-store`` ConfigMap.

The YAML is in ``scripts/k8s_templates/`` (the output as it reads, with ``@NAME@`` tokens); this
module computes what varies with S and R: names, host lists, ``cluster.xml``, the store options.
The output is a pure function of the arguments: regenerating gives the same bytes, and
``tests/contract/test_k8s_clickhouse.py`` checks that the files in ``k8s/`` are this script's
output for 2 x 2 (edit the templates or this script, never the files). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

NAMESPACE = "stackwatch"
CLUSTER = "stackwatch"
CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:25.8"
ZOOKEEPER_IMAGE = "zookeeper:3.8.4"
ZOOKEEPER_NODES = 3  # the StatefulSet's replicas in k8s_templates/10-zookeeper.yaml
NATIVE_PORT, INTERSERVER_PORT, HTTP_PORT = 9000, 9009, 8123
ZK_CLIENT_PORT, ZK_QUORUM_PORT, ZK_ELECTION_PORT = 2181, 2888, 3888
#: The store waits this long (s) for a shard's quorum before it fails the insert (retryably).
INSERT_QUORUM_TIMEOUT_S = 10
DDL_PATH = "/clickhouse/task_queue/ddl"
ZOOKEEPER_FILE, CLICKHOUSE_FILE = "10-zookeeper.yaml", "11-clickhouse.yaml"


@dataclass(frozen=True, slots=True)
class Layout:
    """S shards x R replicas, and the names every manifest derives from them."""

    shards: int
    replicas: int
    domain: str = "cluster.local"

    def __post_init__(self) -> None:
        if self.shards < 1 or self.replicas < 1:
            raise ValueError("shards and replicas must be at least 1")

    def shard_set(self, shard: int) -> str:
        """The StatefulSet (and its governing headless Service) of shard ``shard`` (from 1)."""
        return f"clickhouse-s{shard}"

    def fqdn(self, pod: str, service: str) -> str:
        """The DNS name a headless Service gives a pod."""
        return f"{pod}.{service}.{NAMESPACE}.svc.{self.domain}"

    def replica_hosts(self, shard: int) -> list[str]:
        """DNS names of the shard's pods, ordinal order."""
        name = self.shard_set(shard)
        return [self.fqdn(f"{name}-{j}", name) for j in range(self.replicas)]

    def zookeeper_hosts(self) -> list[str]:
        """DNS names of the ZooKeeper pods; ``zookeeper-<n>`` is server ``n + 1``."""
        return [self.fqdn(f"zookeeper-{n}", "zookeeper-headless") for n in range(ZOOKEEPER_NODES)]

    @property
    def insert_quorum(self) -> int:
        """A majority of a shard's replicas: R = 2 needs both, R = 3 survives one loss."""
        return self.replicas // 2 + 1

    def store_hosts(self) -> str:
        """Every ClickHouse pod as ``host:port``, comma-separated: each one is an entry point."""
        return ",".join(f"{h}:{NATIVE_PORT}" for s in range(1, self.shards + 1) for h in self.replica_hosts(s))

    def store_options(self) -> str:
        """The query string of the store URL that switches the store to the cluster layout."""
        return f"cluster={CLUSTER}&insert_quorum={self.insert_quorum}&insert_quorum_timeout={INSERT_QUORUM_TIMEOUT_S}"

    def store_url(self) -> str:
        """The URL as the services get it (Kubernetes fills the password in from the Secret)."""
        return f"clickhouse://stackwatch:$(CLICKHOUSE_STACKWATCH_PASSWORD)@{self.store_hosts()}/?{self.store_options()}"

    def command(self) -> str:
        """The command line that regenerates these files."""
        domain = "" if self.domain == "cluster.local" else f" --cluster-domain {self.domain}"
        return f"scripts/k8s_clickhouse.py --shards {self.shards} --replicas {self.replicas}{domain}"


TEMPLATES = Path(__file__).resolve().parent / "k8s_templates"


def render(template: str, **values: str) -> str:
    """``scripts/k8s_templates/<template>`` with each ``@NAME@`` replaced by ``values[NAME]``.

    Raises:
        KeyError: the template has a token no value was given for, or a value has no token.
    """
    text = (TEMPLATES / template).read_text()
    tokens = set(re.findall(r"@([A-Z_]+)@", text))
    if tokens != set(values):
        raise KeyError(f"{template}: tokens {sorted(tokens)}, values {sorted(values)}")
    return re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)


def zookeeper_yaml(layout: Layout) -> str:
    """The ZooKeeper ensemble: ``server.<n+1>`` on pod ``zookeeper-<n>``."""
    servers = " ".join(f"server.{n + 1}={host}:{ZK_QUORUM_PORT}:{ZK_ELECTION_PORT};{ZK_CLIENT_PORT}"
                       for n, host in enumerate(layout.zookeeper_hosts()))
    return render(ZOOKEEPER_FILE, ZOOKEEPER_IMAGE=ZOOKEEPER_IMAGE, ZOO_SERVERS=servers)


def _cluster_xml(layout: Layout) -> str:
    """config.d/cluster.xml, indented for the ConfigMap: the same file in every pod."""
    shards = []
    for s in range(1, layout.shards + 1):
        replicas = "".join(f"""
            <replica>
              <host>{host}</host>
              <port>{NATIVE_PORT}</port>
              <user>stackwatch</user>
              <password from_env="CLICKHOUSE_STACKWATCH_PASSWORD"/>
            </replica>""" for host in layout.replica_hosts(s))
        shards.append(f"""
          <!-- shard {s}: StatefulSet {layout.shard_set(s)} -->
          <shard>
            <internal_replication>true</internal_replication>{replicas}
          </shard>""")
    nodes = "".join(f"""
        <node>
          <host>{host}</host>
          <port>{ZK_CLIENT_PORT}</port>
        </node>""" for host in layout.zookeeper_hosts())
    return f"""\
    <clickhouse>
      <!-- Who this server is: the pod's environment (StatefulSet env and downward API). -->
      <macros>
        <cluster>{CLUSTER}</cluster>
        <shard from_env="CLICKHOUSE_SHARD"/>
        <replica from_env="CLICKHOUSE_REPLICA"/>
      </macros>
      <!-- Replicas fetch parts from each other over HTTP at the name each one registers here. -->
      <interserver_http_host from_env="CLICKHOUSE_INTERSERVER_HOST"/>
      <interserver_http_port>{INTERSERVER_PORT}</interserver_http_port>
      <!-- The cluster, in shard order (Distributed tables route a row to shard hash % S + 1).
           The user and password are what one server uses to query another. -->
      <remote_servers replace="1">
        <{CLUSTER}>{"".join(shards)}
        </{CLUSTER}>
      </remote_servers>
      <zookeeper>{nodes}
        <!-- also how long a killed replica still counts as active (docs/cluster-notes.md) -->
        <session_timeout_ms>10000</session_timeout_ms>
      </zookeeper>
      <!-- ON CLUSTER DDL: without this element the server runs no DDL worker. -->
      <distributed_ddl>
        <path>{DDL_PATH}</path>
      </distributed_ddl>
      <!-- A replica killed mid-insert finds parts on its disk that ZooKeeper never committed (never
           acknowledged): it sets them aside and fetches what its peers hold, however many there are
           (by default it refuses to start when they are over half a table's rows, as a small table's are). -->
      <merge_tree>
        <replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts>
      </merge_tree>
    </clickhouse>"""


def clickhouse_yaml(layout: Layout) -> str:
    """ClickHouse: the shared configuration, the services' store address, and one set per shard."""
    shards = "".join(render("11-clickhouse-shard.yaml", SHARD=str(k), NAME=layout.shard_set(k),
                            REPLICAS=str(layout.replicas), LAST_ORDINAL=str(layout.replicas - 1),
                            DOMAIN=layout.domain, CLICKHOUSE_IMAGE=CLICKHOUSE_IMAGE)
                     for k in range(1, layout.shards + 1))
    return render(CLICKHOUSE_FILE, COMMAND=layout.command(), SHARDS=str(layout.shards),
                  REPLICAS=str(layout.replicas), CLUSTER_XML=_cluster_xml(layout),
                  STORE_HOSTS=layout.store_hosts(), STORE_OPTIONS=layout.store_options()) + shards


def write(layout: Layout, out: Path) -> list[Path]:
    """Write both files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((ZOOKEEPER_FILE, zookeeper_yaml(layout)), (CLICKHOUSE_FILE, clickhouse_yaml(layout))):
        path = out / name
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the files, print the store URL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shards", type=int, required=True, help="S, the number of shards")
    parser.add_argument("--replicas", type=int, required=True, help="R, replicas per shard (2 or 3; see k8s/README.md)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "k8s",
                        help="directory to write into (default: the repository's k8s/)")
    parser.add_argument("--cluster-domain", default="cluster.local", help="the Kubernetes cluster's DNS domain")
    args = parser.parse_args(argv)
    try:
        layout = Layout(args.shards, args.replicas, args.cluster_domain)
    except ValueError as e:
        parser.error(str(e))
    for path in write(layout, args.out):
        print(f"wrote {path}", file=sys.stderr)
    print(layout.store_url())
    return 0


if __name__ == "__main__":
    sys.exit(main())
