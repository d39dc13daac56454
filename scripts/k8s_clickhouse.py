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

The output is a pure function of the arguments: regenerating gives the same bytes, and
``tests/contract/test_k8s_clickhouse.py`` checks that the files in ``k8s/`` are this script's
output for 2 x 2 (edit this script, never the files). Standard library only.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

NAMESPACE = "stackwatch"
CLUSTER = "stackwatch"
CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:25.8"
ZOOKEEPER_IMAGE = "zookeeper:3.8.4"
ZOOKEEPER_NODES = 3
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


def _labels(indent: int, name: str, component: str, shard: int | None = None, part_of: bool = True) -> str:
    pad = " " * indent
    lines = [f"app.kubernetes.io/name: {name}", f"app.kubernetes.io/component: {component}"]
    if shard is not None:
        lines.append(f'stackwatch.io/shard: "{shard}"')
    if part_of:
        lines.append("app.kubernetes.io/part-of: stackwatch")
    return "\n".join(pad + line for line in lines)


def _header(command: str, what: str) -> str:
    return (f"# GENERATED by `{command}`: do not edit; change the script and regenerate\n"
            f"# (k8s/README.md, \"The store tier\"; tests/contract/test_k8s_clickhouse.py checks it).\n#\n{what}")


def zookeeper_yaml(layout: Layout) -> str:
    """The ZooKeeper ensemble: 3 servers, ``server.<n+1>`` on pod ``zookeeper-<n>``."""
    servers = " ".join(f"server.{n + 1}={host}:{ZK_QUORUM_PORT}:{ZK_ELECTION_PORT};{ZK_CLIENT_PORT}"
                       for n, host in enumerate(layout.zookeeper_hosts()))
    def labels(indent: int) -> str:
        return _labels(indent, "zookeeper", "coordination")

    def selector(indent: int) -> str:
        return _labels(indent, "zookeeper", "coordination", part_of=False)

    what = f"""\
# ZooKeeper: the {ZOOKEEPER_NODES}-server ensemble that coordinates the ClickHouse replicas (replicated
# tables' metadata, insert quorums, the ON CLUSTER DDL queue). It keeps working while a majority
# (2 of 3) serves. Without it ClickHouse still answers reads, but refuses every insert into a
# replicated table and every ON CLUSTER statement (docs/cluster-notes.md, "ZooKeeper lost").
#
# The official image ({ZOOKEEPER_IMAGE}, uid/gid 1000) runs with a read-only root file system: its
# entrypoint writes zoo.cfg from the ZOO_* variables into /conf (an emptyDir) and the server id into
# /data/myid (the PVC, with the transaction log in /data/txnlog). The id is the pod's ordinal + 1,
# as ZOO_SERVERS numbers the pods. Logging: console only, through the logback.xml below (the
# image's own logback.xml sits in the /conf that the emptyDir hides).
#
# Start-up: the pods start in parallel and the headless Service publishes them before they are
# ready, because a server serves only once a majority has formed: with OrderedReady, zookeeper-0
# would wait for a readiness that needs zookeeper-1. Readiness asks `srvr` for a "Mode:" line
# (`ruok` answers "imok" before the server serves: docs/cluster-notes.md); liveness only checks
# that the port listens, so a lost quorum does not restart the ensemble.
"""
    return _header("scripts/k8s_clickhouse.py", what) + f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: zookeeper-logging
  namespace: {NAMESPACE}
  labels:
{labels(4)}
data:
  logback.xml: |
    <configuration>
      <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
        <encoder>
          <pattern>%d{{ISO8601}} [myid:%X{{myid}}] %-5p [%t:%C{{1}}@%L] - %m%n</pattern>
        </encoder>
      </appender>
      <root level="INFO">
        <appender-ref ref="CONSOLE"/>
      </root>
    </configuration>
---
# The ensemble's own Service: gives each pod its DNS name (zookeeper-<n>.zookeeper-headless...),
# published before the pod is ready (see above).
apiVersion: v1
kind: Service
metadata:
  name: zookeeper-headless
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
{selector(4)}
  ports:
    - name: quorum
      port: {ZK_QUORUM_PORT}
      targetPort: quorum
      protocol: TCP
    - name: election
      port: {ZK_ELECTION_PORT}
      targetPort: election
      protocol: TCP
---
# Clients: the serving servers only. ClickHouse lists the three pods itself (11-clickhouse.yaml);
# this Service is for tools (zkCli.sh -server zookeeper:{ZK_CLIENT_PORT}).
apiVersion: v1
kind: Service
metadata:
  name: zookeeper
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  selector:
{selector(4)}
  ports:
    - name: client
      port: {ZK_CLIENT_PORT}
      targetPort: client
      protocol: TCP
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: zookeeper
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  serviceName: zookeeper-headless
  replicas: {ZOOKEEPER_NODES}
  podManagementPolicy: Parallel   # a server is ready only once a majority runs (see above)
  updateStrategy:
    type: RollingUpdate           # one pod at a time, the next once this one serves again
  selector:
    matchLabels:
{selector(6)}
  template:
    metadata:
      labels:
{labels(8)}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:   # one server per node where the cluster has the nodes
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
{selector(20)}
      containers:
        - name: zookeeper
          # Pin a digest in production.
          image: {ZOOKEEPER_IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["bash", "-c"]
          args:
            - |
              ordinal=${{POD_NAME##*-}}
              case $ordinal in ''|*[!0-9]*) echo "no ordinal in pod name $POD_NAME" >&2; exit 1 ;; esac
              let ZOO_MY_ID=ordinal+1
              export ZOO_MY_ID
              exec /docker-entrypoint.sh zkServer.sh start-foreground
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: ZOO_SERVERS
              value: "{servers}"
            - name: ZOO_DATA_LOG_DIR   # the transaction log, on the PVC with the snapshots
              value: /data/txnlog
            - name: ZOO_4LW_COMMANDS_WHITELIST
              value: "srvr,ruok,mntr"
            - name: ZOO_CFG_EXTRA      # bind the quorum ports on the pod's address, whatever DNS says yet
              value: "quorumListenOnAllIPs=true"
            - name: ZOO_AUTOPURGE_PURGEINTERVAL   # hours; without it old snapshots fill the disk
              value: "24"
            - name: ZOO_AUTOPURGE_SNAPRETAINCOUNT
              value: "3"
            - name: ZOO_ADMINSERVER_ENABLED
              value: "false"
            - name: ZK_SERVER_HEAP     # MiB of Java heap; the container's memory limit leaves room above it
              value: "512"
            - name: SERVER_JVMFLAGS
              value: "-Dlogback.configurationFile=/etc/zookeeper-logging/logback.xml"
          ports:
            - name: client
              containerPort: {ZK_CLIENT_PORT}
              protocol: TCP
            - name: quorum
              containerPort: {ZK_QUORUM_PORT}
              protocol: TCP
            - name: election
              containerPort: {ZK_ELECTION_PORT}
              protocol: TCP
          startupProbe:
            tcpSocket:
              port: client
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:   # serving: `srvr` reports a Mode (leader/follower)
            exec:
              command:
                - bash
                - -c
                - "exec 3<>/dev/tcp/127.0.0.1/{ZK_CLIENT_PORT} && printf srvr >&3 && grep -q '^Mode: ' <&3"
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 2
          livenessProbe:
            tcpSocket:
              port: client
            periodSeconds: 15
            timeoutSeconds: 5
            failureThreshold: 4
          resources:
            requests:
              cpu: 250m
              memory: 768Mi
            limits:
              cpu: "1"
              memory: 1Gi
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: data
              mountPath: /data
            - name: conf
              mountPath: /conf
            - name: logging
              mountPath: /etc/zookeeper-logging
              readOnly: true
            - name: logs
              mountPath: /logs
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: conf
          emptyDir:
            sizeLimit: 16Mi
        - name: logging
          configMap:
            name: zookeeper-logging
        - name: logs
          emptyDir:
            sizeLimit: 64Mi
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
{labels(10)}
      spec:
        accessModes: ["ReadWriteOnce"]
        # storageClassName: <your class>   (the cluster's default class is used when unset)
        resources:
          requests:
            storage: 10Gi
---
# Rolling updates and drains take one server at a time: two of three keep the quorum.
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: zookeeper
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
{selector(6)}
"""


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
    </clickhouse>
"""


def _shard_yaml(layout: Layout, shard: int) -> str:
    """Shard ``shard``'s headless Service, StatefulSet and PodDisruptionBudget."""
    name = layout.shard_set(shard)

    def labels(indent: int) -> str:
        return _labels(indent, "clickhouse", "store", shard)

    def selector(indent: int) -> str:
        return _labels(indent, "clickhouse", "store", shard, part_of=False)

    return f"""\
---
# Shard {shard}: pods {name}-0 .. {name}-{layout.replicas - 1}, each {name}-<j>.{name}.{NAMESPACE}.svc.{layout.domain}
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  clusterIP: None
  publishNotReadyAddresses: true   # peers and the DDL worker resolve a pod as soon as it runs
  selector:
{selector(4)}
  ports:
    - name: native
      port: {NATIVE_PORT}
      targetPort: native
      protocol: TCP
    - name: interserver
      port: {INTERSERVER_PORT}
      targetPort: interserver
      protocol: TCP
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  serviceName: {name}
  replicas: {layout.replicas}
  podManagementPolicy: Parallel   # replicas do not wait for each other
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels:
{selector(6)}
  template:
    metadata:
      labels:
{labels(8)}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      # SIGTERM waits for the clients' idle connections (docs/cluster-notes.md): the services'
      # pools and the other servers' hold some, so a stop can take this long before the SIGKILL.
      terminationGracePeriodSeconds: 60
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        runAsGroup: 101
        fsGroup: 101
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:   # a shard's replicas on different nodes where the cluster has the nodes
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
{selector(20)}
      containers:
        - name: clickhouse
          # Pin a digest in production. 25.8 is an LTS release.
          image: {CLICKHOUSE_IMAGE}
          imagePullPolicy: IfNotPresent
          command: ["/usr/bin/clickhouse-server"]
          args: ["--config-file=/etc/clickhouse-server/config.xml"]
          env:
            - name: CLICKHOUSE_WATCHDOG_ENABLE   # no forked watchdog: signals reach the server
              value: "0"
            - name: CLICKHOUSE_STACKWATCH_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: stackwatch-clickhouse
                  key: password
            - name: CLICKHOUSE_SHARD             # macro {{shard}}
              value: "{shard}"
            - name: CLICKHOUSE_REPLICA           # macro {{replica}}: the pod's name
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: CLICKHOUSE_INTERSERVER_HOST  # the pod's own DNS name
              value: "$(CLICKHOUSE_REPLICA).{name}.{NAMESPACE}.svc.{layout.domain}"
          ports:
            - name: native
              containerPort: {NATIVE_PORT}
              protocol: TCP
            - name: interserver
              containerPort: {INTERSERVER_PORT}
              protocol: TCP
            - name: http
              containerPort: {HTTP_PORT}
              protocol: TCP
          startupProbe:
            httpGet:
              path: /ping
              port: http
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            httpGet:
              path: /ping
              port: http
            periodSeconds: 10
            timeoutSeconds: 3
          livenessProbe:
            httpGet:
              path: /ping
              port: http
            periodSeconds: 15
            timeoutSeconds: 5
            failureThreshold: 4
          resources:
            requests:
              cpu: "1"
              memory: 2Gi
            limits:
              cpu: "2"
              memory: 4Gi
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: data
              mountPath: /var/lib/clickhouse
            - name: config
              mountPath: /etc/clickhouse-server/config.d
              readOnly: true
            - name: users
              mountPath: /etc/clickhouse-server/users.d
              readOnly: true
            - name: logs
              mountPath: /var/log/clickhouse-server
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: clickhouse-config
            items:
              - key: stackwatch.xml
                path: stackwatch.xml
              - key: cluster.xml
                path: cluster.xml
        - name: users
          configMap:
            name: clickhouse-config
            items:
              - key: users.xml
                path: stackwatch-users.xml
        - name: logs
          emptyDir:
            sizeLimit: 256Mi
        - name: tmp
          emptyDir:
            sizeLimit: 1Gi
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
{labels(10)}
      spec:
        accessModes: ["ReadWriteOnce"]
        # storageClassName: <your class>   (the cluster's default class is used when unset)
        resources:
          requests:
            storage: 50Gi
---
# Drains take one replica of the shard at a time. With R = 2 and insert_quorum = 2 the shard
# refuses inserts until that replica is back (k8s/README.md, "Sizing").
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  namespace: {NAMESPACE}
  labels:
{labels(4)}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
{selector(6)}
"""


def clickhouse_yaml(layout: Layout) -> str:
    """ClickHouse: the shared configuration, the services' store address, and one set per shard."""
    s, r = layout.shards, layout.replicas
    what = f"""\
# ClickHouse: cluster "{CLUSTER}", {s} shard(s) x {r} replica(s): one StatefulSet per shard
# (clickhouse-s1 .. clickhouse-s{s}), coordinated by ZooKeeper (10-zookeeper.yaml). The services
# create ReplicatedMergeTree tables with Distributed tables in front, ON CLUSTER, when their store
# URL names the cluster.
#
# The image's entrypoint script is bypassed (it wants to write into /etc/clickhouse-server): the
# server runs directly as the image's clickhouse user (uid/gid 101) on a read-only root file
# system, configured by the files below; its data, preprocessed configs and access storage live
# on the PVC at /var/lib/clickhouse. Logs go to stdout.
"""
    return _header(layout.command(), what) + f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: clickhouse-config
  namespace: {NAMESPACE}
  labels:
{_labels(4, "clickhouse", "store")}
data:
  # Mounted, with cluster.xml, as /etc/clickhouse-server/config.d/ (replacing the image's
  # docker_related_config.xml).
  stackwatch.xml: |
    <clickhouse>
      <!-- Listen on the pod's address (IPv4; use "::" on IPv6 or dual-stack clusters). -->
      <listen_host>0.0.0.0</listen_host>
      <!-- Logs go to stdout only. -->
      <logger>
        <level>information</level>
        <console>1</console>
        <log remove="1"/>
        <errorlog remove="1"/>
      </logger>
      <!-- Native protocol ({NATIVE_PORT}) for StackWatch and the other servers, interserver HTTP
           ({INTERSERVER_PORT}) for replication, HTTP ({HTTP_PORT}) for the /ping probes; nothing else. -->
      <mysql_port remove="1"/>
      <postgresql_port remove="1"/>
    </clickhouse>
  cluster.xml: |
{_cluster_xml(layout)}\
  # Mounted as /etc/clickhouse-server/users.d/: the one user StackWatch (and each server querying
  # another) connects as. The password comes from the stackwatch-clickhouse Secret through an
  # environment variable.
  users.xml: |
    <clickhouse>
      <users>
        <default remove="1"/>
        <stackwatch>
          <password from_env="CLICKHOUSE_STACKWATCH_PASSWORD"/>
          <networks><ip>::/0</ip></networks>
          <profile>default</profile>
          <quota>default</quota>
        </stackwatch>
      </users>
    </clickhouse>
---
# Where the services find the store: ingest, alarm and autoscale build their store URL from these
# two values and the password (21-ingest.yaml, 22-alarm.yaml, 23-autoscale.yaml):
#   clickhouse://stackwatch:$(CLICKHOUSE_STACKWATCH_PASSWORD)@$(CLICKHOUSE_HOSTS)/?$(CLICKHOUSE_OPTIONS)
# Every pod is a host: any of them takes a query, and the store moves on when one does not answer.
apiVersion: v1
kind: ConfigMap
metadata:
  name: stackwatch-store
  namespace: {NAMESPACE}
  labels:
{_labels(4, "clickhouse", "store")}
data:
  hosts: "{layout.store_hosts()}"
  options: "{layout.store_options()}"
---
# For people and tools (clickhouse-client --host clickhouse): any ready server. The services use
# the host list above instead.
apiVersion: v1
kind: Service
metadata:
  name: clickhouse
  namespace: {NAMESPACE}
  labels:
{_labels(4, "clickhouse", "store")}
spec:
  selector:
{_labels(4, "clickhouse", "store", part_of=False)}
  ports:
    - name: native
      port: {NATIVE_PORT}
      targetPort: native
      protocol: TCP
""" + "".join(_shard_yaml(layout, i) for i in range(1, s + 1))


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
