"""The store tier of k8s/ is ``scripts/k8s_clickhouse.py``'s output, and that output holds together.

* **Nobody hand-edits it**: regenerating with 2 shards x 2 replicas gives the files in ``k8s/``
  byte for byte, and the services' store URLs are the URL the script prints.
* **Consistent for any S x R** (the checked-in 2 x 2, and 1 x 1, 3 x 3, 5 x 2 generated here): valid
  for Kubernetes 1.30 (strict); every host in ``remote_servers`` is a pod that a StatefulSet creates,
  named through its governing headless Service, each pod listed once, shard k's replicas all from
  StatefulSet k; R replicas per shard; one distinct ``shard`` macro per StatefulSet, ``replica`` and
  ``interserver_http_host`` per pod; ZooKeeper nodes are the three ZooKeeper pods, whose server ids
  follow their ordinals; the services' host list is every pod, with a majority insert quorum.
* **The ZooKeeper probes and ids do what the comments say**: the readiness command, run against
  real ZooKeeper servers (Debian's 3.8), fails while a server does not serve yet (when ``ruok``
  already answers ``imok``) and passes once a quorum formed; the start script gives pod
  ``zookeeper-<n>`` the id ``n + 1``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import kubernetes_validate
import pytest
import yaml

from tests.contract.test_k8s import (
    KUBERNETES_VERSION,
    STORE_OWNERS,
    _named,
    _pod_environment,
    _secret_data,
    _stackwatch_containers,
    store_url_parts,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "k8s_clickhouse.py"
K8S = ROOT / "k8s"
GENERATED = ("10-zookeeper.yaml", "11-clickhouse.yaml")
CHECKED_IN = (2, 2)
NAMESPACE = "stackwatch"


def _generate(out: Path, shards: int, replicas: int) -> str:
    """Run the script as a user would; returns the URL it prints."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--shards", str(shards), "--replicas", str(replicas),
                           "--out", str(out)], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _load(directory: Path) -> list[dict[str, Any]]:
    return [d for name in GENERATED for d in yaml.safe_load_all((directory / name).read_text()) if d]


def test_the_checked_in_files_are_the_generators_output_for_2x2(tmp_path):
    url = _generate(tmp_path, *CHECKED_IN)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (K8S / name).read_bytes(), (
            f"k8s/{name} is not what `scripts/k8s_clickhouse.py --shards 2 --replicas 2` writes: "
            "change the script and regenerate, do not edit the file")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    # What the services get is exactly the URL the script prints, password filled in by Kubernetes.
    password = _secret_data(_named("Secret", "stackwatch-clickhouse"))["password"]
    for _, container, component in _stackwatch_containers():
        if component in STORE_OWNERS:
            env = _pod_environment(container)
            got = env[f"STACKWATCH_{component.upper()}_STORE_URL"]
            assert got == url.replace("$(CLICKHOUSE_STACKWATCH_PASSWORD)", password), component


def test_the_script_refuses_an_empty_cluster(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--shards", "0", "--replicas", "2", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "at least 1" in done.stderr
    assert not list(tmp_path.iterdir())


def _env(container: dict[str, Any], pod: str, docs: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    """The container's environment in pod ``pod``: $(VAR) expanded, downward API, ConfigMaps, Secrets."""
    env: dict[str, str] = {}
    for var in container.get("env", []):
        ref = var.get("valueFrom", {})
        if "value" in var:
            value = var["value"]
            for name, known in env.items():
                value = value.replace(f"$({name})", known)
            env[var["name"]] = value
        elif "fieldRef" in ref:
            assert ref["fieldRef"]["fieldPath"] == "metadata.name", var
            env[var["name"]] = pod
        elif "configMapKeyRef" in ref:
            env[var["name"]] = docs[("ConfigMap", ref["configMapKeyRef"]["name"])]["data"][ref["configMapKeyRef"]["key"]]
        else:
            env[var["name"]] = f"<secret {ref['secretKeyRef']['name']}/{ref['secretKeyRef']['key']}>"
    return env


def _ports(sts: dict[str, Any]) -> dict[str, int]:
    (container,) = sts["spec"]["template"]["spec"]["containers"]
    return {p["name"]: p["containerPort"] for p in container["ports"]}


def _selects(selector: dict[str, str], sts: dict[str, Any]) -> bool:
    labels = sts["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def check_store_tier(docs: list[dict[str, Any]], shards: int, replicas: int) -> None:
    """Every consistency rule of the module docstring, on one set of generated documents."""
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    assert len(by) == len(docs), "two objects of the same kind and name"
    sets = [by[("StatefulSet", f"clickhouse-s{k}")] for k in range(1, shards + 1)]
    assert {n for kind, n in by if kind == "StatefulSet"} == {"zookeeper", *(s["metadata"]["name"] for s in sets)}

    # The pods the StatefulSets create, by the DNS name their governing Service gives them.
    pods: dict[str, tuple[int, str]] = {}
    shard_macro: dict[int, str] = {}
    for k, sts in enumerate(sets, 1):
        name = sts["metadata"]["name"]
        assert sts["spec"]["replicas"] == replicas, f"{name}: {sts['spec']['replicas']} replicas, not {replicas}"
        svc = by[("Service", sts["spec"]["serviceName"])]
        assert svc["spec"].get("clusterIP") == "None" and svc["spec"].get("publishNotReadyAddresses") is True, \
            f"{name}: its pods' DNS names need a headless Service that publishes not-ready pods"
        assert [s["metadata"]["name"] for s in sets if _selects(svc["spec"]["selector"], s)] == [name]
        pdb = by[("PodDisruptionBudget", name)]
        assert pdb["spec"]["maxUnavailable"] == 1
        assert [s["metadata"]["name"] for s in sets if _selects(pdb["spec"]["selector"]["matchLabels"], s)] == [name]
        (container,) = sts["spec"]["template"]["spec"]["containers"]
        for j in range(replicas):
            pod = f"{name}-{j}"
            fqdn = f"{pod}.{svc['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
            env = _env(container, pod, by)
            assert env["CLICKHOUSE_REPLICA"] == pod
            assert env["CLICKHOUSE_INTERSERVER_HOST"] == fqdn, "replicas fetch parts at this name"
            assert env["CLICKHOUSE_STACKWATCH_PASSWORD"] == "<secret stackwatch-clickhouse/password>"
            pods[fqdn] = (k, pod)
            shard_macro[k] = env["CLICKHOUSE_SHARD"]
    assert shard_macro == {k: str(k) for k in shard_macro}, f"clickhouse-s<k> must have shard macro k: {shard_macro}"

    config = ET.fromstring(by[("ConfigMap", "clickhouse-config")]["data"]["cluster.xml"])
    macros = config.find("macros")
    assert macros is not None
    assert macros.find("shard").get("from_env") == "CLICKHOUSE_SHARD"  # type: ignore[union-attr]
    assert macros.find("replica").get("from_env") == "CLICKHOUSE_REPLICA"  # type: ignore[union-attr]
    assert config.find("interserver_http_host").get("from_env") == "CLICKHOUSE_INTERSERVER_HOST"  # type: ignore[union-attr]
    assert all(int(config.findtext("interserver_http_port") or 0) == _ports(s)["interserver"] for s in sets)
    assert config.findtext("distributed_ddl/path") == "/clickhouse/task_queue/ddl"
    remote_servers = config.find("remote_servers")
    assert remote_servers is not None and remote_servers.get("replace") == "1", "only our cluster"
    (cluster,) = list(remote_servers)
    assert cluster.tag == macros.findtext("cluster") == "stackwatch"

    listed: list[tuple[str, int]] = []
    shard_elements = cluster.findall("shard")
    assert len(shard_elements) == shards
    for k, shard in enumerate(shard_elements, 1):
        assert shard.findtext("internal_replication") == "true", f"shard {k}: Distributed must write one replica"
        hosts = [(r.findtext("host") or "", int(r.findtext("port") or 0)) for r in shard.findall("replica")]
        assert len(hosts) == replicas, f"shard {k} lists {len(hosts)} replicas"
        for r in shard.findall("replica"):
            assert r.findtext("user") == "stackwatch"
            assert r.find("password").get("from_env") == "CLICKHOUSE_STACKWATCH_PASSWORD"  # type: ignore[union-attr]
        for host, port in hosts:
            assert host in pods, f"{host} (remote_servers, shard {k}) is no pod a StatefulSet creates"
            assert pods[host][0] == k, f"shard {k} lists {host}, a pod of clickhouse-s{pods[host][0]}"
            assert port == _ports(sets[k - 1])["native"]
        listed += hosts
    assert sorted(h for h, _ in listed) == sorted(pods), "each pod is listed exactly once"

    # ZooKeeper: ClickHouse's nodes are the ensemble's pods, and ZOO_SERVERS numbers them ordinal + 1.
    zk = by[("StatefulSet", "zookeeper")]
    zk_svc = by[("Service", zk["spec"]["serviceName"])]
    assert zk_svc["spec"]["clusterIP"] == "None" and zk_svc["spec"]["publishNotReadyAddresses"] is True
    zk_hosts = [f"zookeeper-{n}.{zk_svc['metadata']['name']}.{NAMESPACE}.svc.cluster.local"
                for n in range(zk["spec"]["replicas"])]
    assert zk["spec"]["replicas"] == 3
    nodes = [(n.findtext("host"), int(n.findtext("port") or 0)) for n in config.findall("zookeeper/node")]
    assert nodes == [(h, _ports(zk)["client"]) for h in zk_hosts], f"ClickHouse's zookeeper nodes: {nodes}"
    (zk_container,) = zk["spec"]["template"]["spec"]["containers"]
    servers = _env(zk_container, "zookeeper-0", by)["ZOO_SERVERS"].split()
    ports = _ports(zk)
    assert servers == [f"server.{n + 1}={h}:{ports['quorum']}:{ports['election']};{ports['client']}"
                       for n, h in enumerate(zk_hosts)], f"ZOO_SERVERS: server.<n+1> is pod zookeeper-<n>: {servers}"

    # The services' store address: every pod, in remote_servers order; the cluster; a majority quorum.
    store = by[("ConfigMap", "stackwatch-store")]["data"]
    hosts, options = store_url_parts(f"clickhouse://u:p@{store['hosts']}/?{store['options']}")
    assert hosts == listed, "the services' hosts must be every pod of remote_servers, in its order"
    assert dict(parse_qsl(store["options"])) == options
    assert options["cluster"] == cluster.tag, "the services must name the cluster of remote_servers"
    assert int(options["insert_quorum"]) == replicas // 2 + 1, "insert_quorum is a majority of R"
    assert int(options["insert_quorum_timeout"]) > 0


def test_the_checked_in_store_tier_is_consistent():
    check_store_tier(_load(K8S), *CHECKED_IN)


@pytest.mark.parametrize(("shards", "replicas"), [(1, 1), (3, 3), (5, 2)], ids=["1x1", "3x3", "5x2"])
def test_other_sizes_generate_a_valid_consistent_set(shards, replicas, tmp_path):
    url = _generate(tmp_path, shards, replicas)
    docs = _load(tmp_path)
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {e.message}")
    check_store_tier(docs, shards, replicas)
    hosts, options = store_url_parts(url)
    assert len(hosts) == shards * replicas and options["insert_quorum"] == str(replicas // 2 + 1)


# --------------------------------------------------------------------------------------------
# ZooKeeper's start script and readiness probe


def _zookeeper_container() -> dict[str, Any]:
    (container,) = _named("StatefulSet", "zookeeper")["spec"]["template"]["spec"]["containers"]
    return container


def test_each_zookeeper_pod_gets_the_id_of_its_ordinal_plus_one():
    container = _zookeeper_container()
    assert container["command"] == ["bash", "-c"]
    (script,) = container["args"]
    start = "exec /docker-entrypoint.sh zkServer.sh start-foreground"
    assert script.count(start) == 1 and "$(" not in script, "no $(...): Kubernetes would expand it"
    probe = script.replace(start, 'echo "$ZOO_MY_ID"')
    for n in range(3):
        done = subprocess.run(["bash", "-c", probe], env={"POD_NAME": f"zookeeper-{n}", "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=10)
        assert (done.returncode, done.stdout.strip()) == (0, str(n + 1))
    bad = subprocess.run(["bash", "-c", probe], env={"POD_NAME": "zookeeper", "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode != 0 and "no ordinal" in bad.stderr


def _readiness(port: int) -> bool:
    command = _zookeeper_container()["readinessProbe"]["exec"]["command"]
    assert "127.0.0.1/2181" in command[-1]
    done = subprocess.run([*command[:-1], command[-1].replace("127.0.0.1/2181", f"127.0.0.1/{port}")],
                          capture_output=True, timeout=10)
    return done.returncode == 0


def _four_letters(port: int, word: bytes) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(word)
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
            return reply
    except OSError:
        return b""


def _wait(condition: Any, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.3)


@pytest.mark.cluster
def test_zookeeper_readiness_waits_for_a_quorum_where_ruok_does_not(tmp_path):
    """Two of three ensemble members of Debian's ZooKeeper 3.8, as QuorumPeerMain, on loopback."""
    from stackwatch.store.testing import free_port, zookeeper_command

    command = zookeeper_command()
    if command is None:
        reason = "ZooKeeper is not installed (apt-get install zookeeper, or run scripts/cluster.sh up once)"
        if os.environ.get("CI"):  # as tests/cluster/conftest.py: CI installs it, so this is a failure there
            pytest.fail(f"{reason}; CI is set")
        pytest.skip(reason)
    command = [*command[:-1], "org.apache.zookeeper.server.quorum.QuorumPeerMain"]
    ports: list[int] = []
    while len(ports) < 9:
        if (p := free_port()) not in ports:
            ports.append(p)
    client = ports[:3]
    servers = "".join(f"server.{n + 1}=127.0.0.1:{ports[3 + 2 * n]}:{ports[4 + 2 * n]}\n" for n in range(3))
    procs: list[subprocess.Popen[bytes]] = []

    def start(n: int) -> None:
        d = tmp_path / f"zk{n}"
        (d / "data").mkdir(parents=True)
        (d / "data" / "myid").write_text(f"{n + 1}\n")
        (d / "zoo.cfg").write_text(
            f"tickTime=500\ninitLimit=20\nsyncLimit=5\ndataDir={d / 'data'}\nclientPort={client[n]}\n"
            f"clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=srvr,ruok\n{servers}")
        with (d / "zookeeper.log").open("wb") as log:
            procs.append(subprocess.Popen([*command, str(d / "zoo.cfg")], cwd=d, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log))

    try:
        start(0)
        _wait(lambda: _four_letters(client[0], b"ruok") == b"imok", "the first server to answer ruok")
        assert not _readiness(client[0]), "one of three servers cannot serve: readiness must fail"
        assert b"Mode: " not in _four_letters(client[0], b"srvr")
        start(1)
        _wait(lambda: _readiness(client[0]) and _readiness(client[1]), "a quorum of two to serve")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert not _readiness(client[0]), "nothing listens any more"
