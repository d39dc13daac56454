"""The manifests in k8s/ are valid for the target Kubernetes release and agree with the code.

No cluster runs here, so this is the whole of their validation:

* **Schema**: every document of every ``k8s/*.yaml`` (and every manifest shown in
  ``k8s/README.md``), against Kubernetes 1.30's OpenAPI schemas with kubernetes-validate in
  strict mode (an unknown or misspelled field fails).
* **Settings**: every ``STACKWATCH_*`` variable a pod gets is a field of a settings class in
  ``stackwatch/config.py`` (prefix + field name upper-cased), and each component's settings,
  built from exactly the environment its pod would see (with the files of its mounted Secrets
  written where the pod would see them), parse and name the ports, Services and files the
  manifests provide; auth builds its credential providers from them.
* **Secrets as files**: which components read the internal key is found out from the code
  (``stackwatch serve X`` without a key); exactly those mount the ``stackwatch-internal-key``
  Secret, read-only, and point ``STACKWATCH_INTERNAL_KEY_FILE`` into it; the others (the gateway
  above all) do not get it. The placeholder key is one the code refuses.
* **Addresses and balancing**: every ``*_ADDRESS`` setting names a Service and port that select
  the pods of the component it names, NetworkPolicy lets the caller in, and the gRPC Services
  are headless. Real channels from ``open_channel`` reach servers from ``serve`` at
  ``127.0.0.1:port`` and ``localhost:port``, spread calls over every address (round_robin), and
  keep working across the servers' connection-age GOAWAYs.
* **Wiring**: Service selectors match a workload's pods, targetPorts are container ports,
  workload selectors match their own templates, HPAs and PDBs point at real workloads.
* **Probes**: gRPC readiness probes name the service the process registers, which exists in the
  generated ``stackwatch.proto`` descriptors; liveness asks for the overall (``""``) status.
* **Hardening and reachability**: every container is locked down and has requests and limits;
  NetworkPolicies let the outside reach only the gateway, the services only each other,
  ClickHouse only the services that own a database and the other ClickHouse servers, and
  ZooKeeper only ClickHouse and the other ZooKeeper servers.
* **The store tier**: every host of the services' store URLs is a ClickHouse pod that a StatefulSet
  creates, reachable by its headless Service's DNS name. The generated files themselves (that
  they are ``scripts/k8s_clickhouse.py``'s output, and consistent for other S and R) are checked
  in ``test_k8s_clickhouse.py``.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import os
import pkgutil
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "stackwatch"
#: Longest grace the servers give in-flight calls on SIGTERM (reference/platform-notes.md 3.3).
SERVER_STOP_GRACE_S = 10
#: Variables a StackWatch container may set that are not settings: each only feeds a $(...) in
#: a setting's value (Kubernetes expands it), so a secret need not sit in the ConfigMap.
HELPER_VARIABLES = {"CLICKHOUSE_STACKWATCH_PASSWORD", "CLICKHOUSE_HOSTS", "CLICKHOUSE_OPTIONS"}
#: The components that keep a database in ClickHouse (each has a STACKWATCH_<COMPONENT>_STORE_URL).
STORE_OWNERS = ("ingest", "alarm", "autoscale")
GRPC_COMPONENTS = ("auth", "ingest", "alarm", "autoscale")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
#: The components whose ``stackwatch serve`` reads the internal key (checked against the code by
#: test_the_internal_key_is_read_by): exactly these get the Secret.
KEY_READERS = ("auth", "ingest", "alarm", "autoscale")
INTERNAL_KEY_SECRET = "stackwatch-internal-key"
#: Where auth finds the optional static credentials file once STACKWATCH_AUTH_CREDENTIALS_FILE is
#: set (commented out in 20-auth.yaml, documented in k8s/README.md).
OPTIONAL_CREDENTIALS_FILE = "/etc/stackwatch/credentials/credentials.json"
README = K8S / "README.md"
#: What the downward API gives a pod, for the pods the tests build settings for.
FIELD_VALUES = {"metadata.name": "pod-0", "metadata.namespace": NAMESPACE}


# --------------------------------------------------------------------------------------------
# Loading


def _documents() -> list[tuple[str, int, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        with path.open() as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is not None:
                    docs.append((path.name, i, doc))
    return docs


DOCS = _documents()


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, _, doc in DOCS if doc["kind"] == kind]


def _named(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} named {name!r}, found {len(found)}"
    return found[0]


def _workloads() -> list[dict[str, Any]]:
    return [doc for _, _, doc in DOCS if doc["kind"] in WORKLOAD_KINDS]


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    return dict(workload["spec"]["template"]["metadata"].get("labels", {}))


def _stackwatch_containers() -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    """(workload, container, component) for every container running ``stackwatch serve X``."""
    for w in _workloads():
        for c in _containers(w):
            if c["image"].split(":")[0].rsplit("/", 1)[-1] == "stackwatch":
                args = c.get("args", [])
                assert len(args) == 2 and args[0] == "serve", f"{w['metadata']['name']}: args {args}"
                yield w, c, args[1]


def _component_workload(component: str) -> dict[str, Any]:
    found = [w for w, _, comp in _stackwatch_containers() if comp == component]
    assert len(found) == 1, f"expected one workload serving {component!r}, found {len(found)}"
    return found[0]


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (a plain map is matchLabels)."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {"In": key in labels and labels[key] in values,
              "NotIn": key not in labels or labels[key] not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


def _selected(selector: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in _workloads() if _matches(selector, _pod_labels(w))]


def _container_ports(workload: dict[str, Any]) -> dict[str, int]:
    """{name or str(number): number} of every container port of the workload."""
    ports: dict[str, int] = {}
    for c in _containers(workload):
        for p in c.get("ports", []):
            ports[str(p["containerPort"])] = p["containerPort"]
            if "name" in p:
                ports[p["name"]] = p["containerPort"]
    return ports


def _services_at(host: str, port: int) -> list[dict[str, Any]]:
    """Services that ``host:port`` reaches from inside the namespace."""
    name = host.split(".")[0]
    in_ns = host in (name, f"{name}.{NAMESPACE}", f"{name}.{NAMESPACE}.svc") or host.startswith(
        f"{name}.{NAMESPACE}.svc.")
    return [s for s in _of_kind("Service") if in_ns and s["metadata"]["name"] == name
            and any(p["port"] == port for p in s["spec"]["ports"])]


def store_url_parts(url: str) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """``clickhouse://user:password@host1:port,host2:port,.../?options`` -> ([(host, port)], options).

    The cluster form of the store URL (several comma-separated hosts): ``urlsplit`` parses its
    scheme, path and query but not a netloc with several hosts, so those are split here.
    """
    parts = urlsplit(url)
    assert parts.scheme == "clickhouse", f"pods need a ClickHouse server, not {parts.scheme}://"
    hosts = []
    for address in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = address.rpartition(":")
        hosts.append((host, int(port)) if host else (address, 9000))
    return hosts, dict(parse_qsl(parts.query, keep_blank_values=True))


def _pod_at(host: str, port: int) -> dict[str, Any] | None:
    """The StatefulSet whose pod ``host`` names (``<set>-<ordinal>.<service>.<namespace>.svc...``).

    The pod exists (ordinal < replicas), the service is the set's governing headless Service, and
    ``port`` is a container port of the pod; otherwise None.
    """
    labels = host.split(".")
    if len(labels) < 4 or labels[2] != NAMESPACE or labels[3] != "svc":
        return None
    pod, service = labels[0], labels[1]
    for sts in _of_kind("StatefulSet"):
        name = sts["metadata"]["name"]
        ordinal = pod.removeprefix(f"{name}-")
        if (sts["spec"]["serviceName"] == service and pod.startswith(f"{name}-") and ordinal.isdigit()
                and int(ordinal) < sts["spec"]["replicas"] and port in _container_ports(sts).values()
                and _named("Service", service)["spec"].get("clusterIP") == "None"):
            return sts
    return None


def test_manifests_are_there():
    """Every component's objects exist, all in the stackwatch namespace."""
    assert DOCS, f"no documents in {K8S}/*.yaml"
    assert {(d["kind"], d["metadata"]["name"]) for _, _, d in DOCS} >= {
        ("Namespace", NAMESPACE),
        ("Deployment", "gateway"), ("Deployment", "auth"), ("Deployment", "ingest"),
        ("StatefulSet", "alarm"), ("StatefulSet", "autoscale"), ("StatefulSet", "clickhouse-s1"),
        ("StatefulSet", "zookeeper"),
        ("Service", "gateway"), ("Service", "auth"), ("Service", "ingest"), ("Service", "alarm"),
        ("Service", "autoscale"), ("Service", "clickhouse"), ("Service", "clickhouse-s1"),
        ("Service", "zookeeper"), ("Service", "zookeeper-headless"), ("ConfigMap", "stackwatch-store"),
        ("HorizontalPodAutoscaler", "gateway"), ("HorizontalPodAutoscaler", "auth"),
        ("HorizontalPodAutoscaler", "ingest"),
        ("PodDisruptionBudget", "gateway"), ("PodDisruptionBudget", "auth"),
        ("PodDisruptionBudget", "ingest"), ("PodDisruptionBudget", "alarm"),
        ("PodDisruptionBudget", "zookeeper"), ("PodDisruptionBudget", "clickhouse-s1"),
    }
    for _, _, doc in DOCS:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, f"{doc['kind']}/{doc['metadata']['name']}"


# --------------------------------------------------------------------------------------------
# Schema


@pytest.mark.parametrize("doc", [d for _, _, d in DOCS],
                         ids=[f"{f}#{i}-{d['kind']}-{d['metadata']['name']}" for f, i, d in DOCS])
def test_schema_is_valid_for_kubernetes_1_30(doc):
    """kubernetes-validate, strict: unknown fields (a misspelled ``grpcc:``) fail too."""
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        where = ".".join(str(p) for p in e.absolute_path) or "(document)"
        pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {e.message} at {where}")


# --------------------------------------------------------------------------------------------
# Settings


def _settings_classes() -> dict[str, type]:
    from pydantic_settings import BaseSettings

    import stackwatch.config as config

    return {name: obj for name, obj in vars(config).items()
            if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj.__module__ == config.__name__
            and obj.model_config.get("env_prefix")}


def settings_variables() -> set[str]:
    """Every variable ``stackwatch/config.py`` reads: env_prefix + field name, upper-cased."""
    names = set()
    for cls in _settings_classes().values():
        prefix = cls.model_config["env_prefix"]
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            names.add((alias or prefix + field_name).upper())
    return names


def _component_settings(component: str) -> type:
    return _settings_classes()[f"{component.capitalize()}Settings"]


def _secret_data(secret: dict[str, Any]) -> dict[str, str]:
    """A Secret's keys and values, from ``data`` (base64) and ``stringData``."""
    data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    return {**data, **secret.get("stringData", {})}


def _pod_environment(container: dict[str, Any]) -> dict[str, str]:
    """The environment Kubernetes gives the container: envFrom, then env with $(VAR) expanded."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(_named("ConfigMap", source["configMapRef"]["name"]).get("data", {}))
        if "secretRef" in source:
            env.update(_secret_data(_named("Secret", source["secretRef"]["name"])))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                                      lambda m: env.get(m.group(1), m.group(0)), var["value"])
        else:
            ref = var["valueFrom"]
            if "secretKeyRef" in ref:
                secret = _secret_data(_named("Secret", ref["secretKeyRef"]["name"]))
                assert ref["secretKeyRef"]["key"] in secret, var
                env[var["name"]] = secret[ref["secretKeyRef"]["key"]]
            elif "configMapKeyRef" in ref:
                cm = _named("ConfigMap", ref["configMapKeyRef"]["name"])
                assert ref["configMapKeyRef"]["key"] in cm.get("data", {}), var
                env[var["name"]] = cm["data"][ref["configMapKeyRef"]["key"]]
            else:
                path = ref["fieldRef"]["fieldPath"]
                assert path in FIELD_VALUES, f"{var['name']}: fieldRef {path} not modelled here"
                env[var["name"]] = FIELD_VALUES[path]
    return env


def test_settings_variables_are_derived_from_config():
    """The derivation sees the classes (these names are documented in config.py's docstring)."""
    names = settings_variables()
    assert {"STACKWATCH_LOG_LEVEL", "STACKWATCH_GATEWAY_AUTH_ADDRESS", "STACKWATCH_INGEST_STORE_URL",
            "STACKWATCH_AUTH_CREDENTIALS_FILE", "STACKWATCH_ALARM_BIND"} <= names


def test_every_stackwatch_variable_is_a_settings_field():
    """A misspelled STACKWATCH_* name would be silently ignored (extra="ignore"): refuse it here."""
    fields = settings_variables()
    unknown = []
    for _, _, doc in DOCS:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "ConfigMap":
            unknown += [f"{where}: {k}" for k in doc.get("data", {})
                        if k.startswith("STACKWATCH_") and k not in fields]
        if doc["kind"] in WORKLOAD_KINDS:
            for c in _containers(doc):
                unknown += [f"{where}/{c['name']}: {v['name']}" for v in c.get("env", [])
                            if v["name"].startswith("STACKWATCH_") and v["name"] not in fields]
    assert not unknown, "not fields of stackwatch/config.py settings:\n" + "\n".join(unknown)


def test_stackwatch_containers_set_only_settings_and_their_helpers():
    """StackWatch containers get settings, plus helpers that only feed a $(VAR) in a setting."""
    fields = settings_variables()
    problems = []
    for w, c, _ in _stackwatch_containers():
        env = c.get("env", [])
        for i, var in enumerate(env):
            name = var["name"]
            if name in fields:
                continue
            if name not in HELPER_VARIABLES:
                problems.append(f"{w['metadata']['name']}: {name} is neither a setting nor a known helper")
            elif not any(f"$({name})" in later.get("value", "") for later in env[i + 1:]):
                problems.append(f"{w['metadata']['name']}: helper {name} is not used by a later variable")
        for source in c.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            kind = "ConfigMap" if "configMapRef" in source else "Secret"
            obj = _named(kind, ref["name"])
            data = obj.get("data", {}) if kind == "ConfigMap" else _secret_data(obj)
            problems += [f"{w['metadata']['name']}: {kind} {ref['name']} key {k} is not a setting"
                         for k in data if k not in fields]
    assert not problems, "\n".join(problems)


def _volume_files(volume: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
    """{path in the volume: (kind, object name, key, content)} of a Secret/ConfigMap/projected volume.

    A missing Secret or ConfigMap fails, unless the volume marks it ``optional`` (then the pod
    starts and the files are absent, as here).
    """
    sources = []
    if "secret" in volume:
        sources.append(("Secret", volume["secret"], volume["secret"]["secretName"]))
    if "configMap" in volume:
        sources.append(("ConfigMap", volume["configMap"], volume["configMap"]["name"]))
    for src in volume.get("projected", {}).get("sources", []):
        for kind, field in (("Secret", "secret"), ("ConfigMap", "configMap")):
            if field in src:
                sources.append((kind, src[field], src[field]["name"]))
    files: dict[str, tuple[str, str, str, str]] = {}
    for kind, ref, name in sources:
        found = [d for d in _of_kind(kind) if d["metadata"]["name"] == name]
        if not found:
            assert ref.get("optional") is True, f"volume {volume['name']}: no {kind} {name} (and not optional)"
            continue
        data = _secret_data(found[0]) if kind == "Secret" else found[0].get("data", {})
        items = {i["path"]: i["key"] for i in ref.get("items", [])} or {k: k for k in data}
        for path, key in items.items():
            assert key in data, f"volume {volume['name']}: {kind} {name} has no key {key!r}"
            files[path] = (kind, name, key, data[key])
    return files


def _pod_volumes(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}


def _mounted_file(workload: dict[str, Any], container: dict[str, Any],
                  path: str) -> tuple[dict[str, Any], dict[str, Any], tuple[str, str, str, str]]:
    """(volumeMount, volume, (kind, name, key, content)) of the file the container sees at ``path``."""
    wanted = PurePosixPath(path)
    for mount in sorted(container.get("volumeMounts", []), key=lambda m: len(m["mountPath"]), reverse=True):
        at = PurePosixPath(mount["mountPath"])
        if wanted != at and at not in wanted.parents:
            continue
        rel = PurePosixPath(mount.get("subPath", "")) / wanted.relative_to(at)
        volume = _pod_volumes(workload)[mount["name"]]
        files = _volume_files(volume)
        assert str(rel) in files, f"{path}: volume {volume['name']} mounted at {at} has no file {rel}"
        return mount, volume, files[str(rel)]
    raise AssertionError(f"{workload['metadata']['name']}: nothing is mounted at {path}")


def _write_pod_files(workload: dict[str, Any], container: dict[str, Any], root: Path) -> None:
    """Write the files of the container's Secret/ConfigMap mounts under ``root`` + mountPath."""
    for mount in container.get("volumeMounts", []):
        volume = _pod_volumes(workload)[mount["name"]]
        for rel, (_, _, _, content) in _volume_files(volume).items():
            if "subPath" in mount:
                if rel != mount["subPath"]:
                    continue
                target = root / mount["mountPath"].lstrip("/")
            else:
                target = root / mount["mountPath"].lstrip("/") / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)


def _secrets_given(workload: dict[str, Any]) -> set[str]:
    """Every Secret a workload's containers can read: volumes, env and envFrom."""
    names = set()
    for volume in _pod_volumes(workload).values():
        names |= {name for kind, name, _, _ in _volume_files(volume).values() if kind == "Secret"}
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        names |= {src["secret"]["name"] for src in volume.get("projected", {}).get("sources", []) if "secret" in src}
    for c in _containers(workload):
        names |= {src["secretRef"]["name"] for src in c.get("envFrom", []) if "secretRef" in src}
        names |= {v["valueFrom"]["secretKeyRef"]["name"] for v in c.get("env", [])
                  if "secretKeyRef" in v.get("valueFrom", {})}
    return names


def _use_pod_environment(container: dict[str, Any], monkeypatch: pytest.MonkeyPatch, root: Path | None = None,
                         **extra: str) -> dict[str, str]:
    """Make this process's STACKWATCH_* environment the pod's; ``*_FILE`` paths are moved under ``root``."""
    for name in list(os.environ):
        if name.startswith("STACKWATCH_"):
            monkeypatch.delenv(name)
    env = {**_pod_environment(container), **extra}
    for name, value in env.items():
        if root is not None and name.endswith("_FILE") and value.startswith("/"):
            value = str(root / value.lstrip("/"))
        monkeypatch.setenv(name, value)
    return env


def _address_fields(settings: Any) -> dict[str, str]:
    """{backend component: host:port} of every ``<component>_address`` field of ``settings``."""
    return {name.removesuffix("_address"): getattr(settings, name) for name in type(settings).model_fields
            if name.endswith("_address")}


@pytest.mark.parametrize("component", ["gateway", *GRPC_COMPONENTS])
def test_component_settings_parse_from_the_pod_environment(component, monkeypatch, tmp_path):
    """Build the component's settings from exactly what its pod sees, and check what they name."""
    from stackwatch.errors import StackWatchError

    workload = _component_workload(component)
    (container,) = [c for w, c, comp in _stackwatch_containers() if comp == component]
    _write_pod_files(workload, container, tmp_path)
    _use_pod_environment(container, monkeypatch, tmp_path)
    settings = _component_settings(component)()
    common = _settings_classes()["CommonSettings"]()  # log level / format / tracing values must parse too
    ports = _container_ports(workload)
    for backend, target in _address_fields(settings).items():
        host, port = target.rsplit(":", 1)
        assert _services_at(host, int(port)), f"{component} calls {backend} at {target}: no such Service"

    if component in KEY_READERS:
        # The pod's key file is read by the real code, which refuses the placeholder.
        with pytest.raises(StackWatchError, match="at least 16 bytes"):
            common.internal_key_bytes()

    if component == "gateway":
        assert settings.host == "0.0.0.0"
        assert ports.get("http") == settings.port, "gateway container port 'http' != STACKWATCH_GATEWAY_PORT"
        return

    host, port = settings.bind.rsplit(":", 1)
    assert host == "0.0.0.0", f"{component} binds {settings.bind}: pods must listen on all addresses"
    assert ports.get("grpc") == int(port), f"{component}: container port 'grpc' != bind port {port}"
    if component in STORE_OWNERS:
        assert "$(" not in settings.store_url, f"an unexpanded $(VAR) in {component}'s store URL"
        hosts, options = store_url_parts(settings.store_url)
        assert hosts, f"{component}: no host in its store URL"
        for host, port in hosts:
            assert _pod_at(host, port), f"{component}'s store host {host}:{port} is no ClickHouse pod's name"
        assert options.get("cluster"), f"{component}'s store URL names no cluster"


#: What the cluster form of the store URL adds to the single-server one (the lead's store change
#: for issue 11): several comma-separated hosts, and these options.
CLUSTER_STORE_OPTIONS = ("cluster", "insert_quorum", "insert_quorum_timeout")
#: The smallest URL of that form: when the store accepts it, it has its cluster mode.
CLUSTER_STORE_PROBE = "clickhouse://u:p@h1:9000,h2:9000/?cluster=c&insert_quorum=2&insert_quorum_timeout=10"


@pytest.mark.parametrize("component", STORE_OWNERS)
def test_store_url_opens_with_the_real_store_parser(component, monkeypatch):
    """The URL the pod gets is one ``open_engine`` accepts (it does no I/O until the first call).

    Until the store's cluster mode is merged, the parser on this branch refuses the cluster form
    (several hosts, ``cluster``, ``insert_quorum``, ``insert_quorum_timeout``; even
    CLUSTER_STORE_PROBE): then this test checks that the URL minus those additions parses, and
    skips. Once the store accepts the probe, the pods' URL must open: no skip.
    """
    from stackwatch.store import StoreConfigError, open_engine

    (container,) = [c for _, c, comp in _stackwatch_containers() if comp == component]
    _use_pod_environment(container, monkeypatch)
    url = _component_settings(component)().store_url
    try:
        open_engine(CLUSTER_STORE_PROBE).close()
    except StoreConfigError as e:
        refusal = str(e)
    else:
        open_engine(url).close()
        return
    hosts, options = store_url_parts(url)
    user = urlsplit(url).netloc.rpartition("@")[0]
    rest = "&".join(f"{k}={v}" for k, v in options.items() if k not in CLUSTER_STORE_OPTIONS)
    open_engine(f"clickhouse://{user}@{hosts[0][0]}:{hosts[0][1]}/?{rest}").close()  # everything else parses
    # TODO(issue 11): remove this skip once the store's cluster mode (several hosts; the options
    # cluster, insert_quorum, insert_quorum_timeout) is merged: the full URL must then open.
    pytest.skip(f"TODO(issue 11): this branch's store URL parser refuses the cluster form "
                f"(several hosts, {', '.join(CLUSTER_STORE_OPTIONS)}): {refusal}")


def test_auth_asks_cloudstack_by_default(monkeypatch, tmp_path):
    """The production default: CloudStack configured, its secret key a file from a mounted Secret."""
    from services.auth.cloudstack import CloudStackCredentialProvider
    from services.auth.main import _providers

    workload = _component_workload("auth")
    (container,) = [c for w, c, comp in _stackwatch_containers() if comp == "auth"]
    env = _pod_environment(container)
    url = urlsplit(env.get("STACKWATCH_AUTH_CLOUDSTACK_URL", ""))
    assert url.scheme in ("http", "https") and url.hostname, "STACKWATCH_AUTH_CLOUDSTACK_URL must be a URL"
    assert env.get("STACKWATCH_AUTH_CLOUDSTACK_API_KEY"), "STACKWATCH_AUTH_CLOUDSTACK_API_KEY is not set"
    assert "STACKWATCH_AUTH_CLOUDSTACK_SECRET_KEY" not in env, "the secret key belongs in a file, not the environment"
    path = env.get("STACKWATCH_AUTH_CLOUDSTACK_SECRET_KEY_FILE", "")
    mount, volume, (kind, name, _, content) = _mounted_file(workload, container, path)
    assert kind == "Secret" and mount.get("readOnly") is True, f"{path} must come from a Secret, read-only"
    assert name != INTERNAL_KEY_SECRET
    assert "STACKWATCH_AUTH_CREDENTIALS_FILE" not in env, "the static credentials file is optional: off by default"

    _write_pod_files(workload, container, tmp_path)
    _use_pod_environment(container, monkeypatch, tmp_path)
    settings = _component_settings("auth")()
    assert settings.cloudstack_secret() == content.strip()
    provider = _providers(settings)  # the real construction auth does at start
    assert isinstance(provider, CloudStackCredentialProvider)


def test_auth_static_credentials_file_is_an_optional_mount(monkeypatch, tmp_path):
    """Turned on (STACKWATCH_AUTH_CREDENTIALS_FILE), the file is the Secret's; its placeholder is refused."""
    from services.auth.main import _providers
    from stackwatch.errors import StackWatchError

    workload = _component_workload("auth")
    (container,) = [c for w, c, comp in _stackwatch_containers() if comp == "auth"]
    mount, volume, (kind, name, _, _) = _mounted_file(workload, container, OPTIONAL_CREDENTIALS_FILE)
    assert kind == "Secret" and name == "stackwatch-auth-credentials" and mount.get("readOnly") is True
    assert volume["secret"].get("optional") is True, "the pod must start without the optional Secret"
    assert OPTIONAL_CREDENTIALS_FILE in (K8S / "20-auth.yaml").read_text(), "20-auth.yaml must show how to turn it on"
    assert OPTIONAL_CREDENTIALS_FILE in README.read_text(), "k8s/README.md must say how to turn it on"

    _write_pod_files(workload, container, tmp_path)
    _use_pod_environment(container, monkeypatch, tmp_path, STACKWATCH_AUTH_CREDENTIALS_FILE=OPTIONAL_CREDENTIALS_FILE)
    settings = _component_settings("auth")()
    assert settings.credentials_file and settings.cloudstack_url, "both may be set: the file is asked first"
    with pytest.raises(StackWatchError, match="not valid JSON"):
        _providers(settings)


# --------------------------------------------------------------------------------------------
# The internal key


async def _serve_without_key(component: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> bool:
    """Whether ``stackwatch serve <component>`` refuses to start for want of the internal key.

    Everything else it needs is given (local ports, a credentials file); a component that does
    not read the key starts, and is stopped at once.
    """
    from stackwatch import cli
    from stackwatch.errors import StackWatchError

    for name in list(os.environ):
        if name.startswith("STACKWATCH_"):
            monkeypatch.delenv(name)
    creds = tmp_path / "credentials.json"
    creds.write_text('{"credentials": []}')
    for name, value in {"STACKWATCH_GATEWAY_HOST": "127.0.0.1", "STACKWATCH_GATEWAY_PORT": "0",
                        "STACKWATCH_AUTH_BIND": "127.0.0.1:0", "STACKWATCH_AUTH_CREDENTIALS_FILE": str(creds),
                        "STACKWATCH_INGEST_BIND": "127.0.0.1:0", "STACKWATCH_INGEST_STORE_URL": "clickhouse://127.0.0.1:1",
                        "STACKWATCH_ALARM_BIND": "127.0.0.1:0", "STACKWATCH_AUTOSCALE_BIND": "127.0.0.1:0"}.items():
        monkeypatch.setenv(name, value)
    stop = asyncio.Event()
    stop.set()
    monkeypatch.setattr(cli, "_stop_event", lambda **_: stop)
    monkeypatch.setattr(cli, "_settle_heap", lambda: None)  # no gc.freeze() in the test process
    try:
        await asyncio.wait_for(cli.serve(component), timeout=30)
    except StackWatchError as e:
        if "STACKWATCH_INTERNAL_KEY_FILE" in str(e):
            return True
        raise
    return False


@pytest.mark.parametrize("component", ["gateway", *GRPC_COMPONENTS])
async def test_the_internal_key_is_read_by(component, monkeypatch, tmp_path):
    """KEY_READERS is what the code does: exactly those refuse to start without the key."""
    reads = await _serve_without_key(component, monkeypatch, tmp_path)
    assert reads == (component in KEY_READERS), (
        f"stackwatch serve {component} {'needs' if reads else 'does not need'} the internal key: "
        "update KEY_READERS and the manifests (mount stackwatch-internal-key only where it is read)")


def test_internal_key_is_mounted_exactly_where_it_is_read():
    """Key readers: STACKWATCH_INTERNAL_KEY_FILE -> the one Secret, read-only; others: no key at all."""
    sources = {}
    for w, c, component in _stackwatch_containers():
        name = w["metadata"]["name"]
        env = _pod_environment(c)
        if component not in KEY_READERS:
            assert "STACKWATCH_INTERNAL_KEY_FILE" not in env and "STACKWATCH_INTERNAL_KEY" not in env, name
            assert INTERNAL_KEY_SECRET not in _secrets_given(w), \
                f"{name} does not read the internal key and must not be given it (least privilege)"
            continue
        assert "STACKWATCH_INTERNAL_KEY" not in env, f"{name}: the key belongs in a file, not the environment"
        path = env.get("STACKWATCH_INTERNAL_KEY_FILE")
        assert path, f"{name} (serve {component}) needs STACKWATCH_INTERNAL_KEY_FILE"
        mount, volume, (kind, secret, key, _) = _mounted_file(w, c, path)
        assert (kind, secret) == ("Secret", INTERNAL_KEY_SECRET), f"{name}: {path} is {kind} {secret}, not the key"
        assert mount.get("readOnly") is True, f"{name}: mount the internal key read-only"
        assert "optional" not in volume.get("secret", {}), f"{name}: the key Secret must not be optional"
        mode = volume.get("secret", {}).get("defaultMode", 0o644)
        assert mode & 0o007 == 0, f"{name}: the key file is readable by others (mode {mode:o})"
        sources[component] = (secret, key)
    assert set(sources) == set(KEY_READERS)
    assert len(set(sources.values())) == 1, f"every component must read the same key: {sources}"
    assert "gateway" not in KEY_READERS


def test_internal_key_placeholder_is_refused_and_documented():
    """The placeholder is too short for the code (the services do not start) and says how to make one."""
    from stackwatch.errors import StackWatchError
    from stackwatch.rpc import TokenSigner

    secret = _named("Secret", INTERNAL_KEY_SECRET)
    assert "placeholder" in str(secret["metadata"].get("annotations", {}))
    for value in _secret_data(secret).values():
        with pytest.raises(StackWatchError):
            TokenSigner(value.encode().strip())  # what CommonSettings.internal_key_bytes() returns
    for doc in (K8S / "02-secrets.yaml", README):
        assert "openssl rand -hex 32" in doc.read_text(), f"{doc.name} must say how to generate the key"


# --------------------------------------------------------------------------------------------
# Addresses and balancing


def test_every_address_names_the_service_of_its_backend(monkeypatch):
    """Each ``<backend>_ADDRESS`` names a headless Service that leads to the backend's pods.

    The Service and port select the backend's pods and target the port it binds, and
    NetworkPolicy lets the caller reach them.
    """

    def settings_of(component: str) -> Any:
        (container,) = [c for _, c, comp in _stackwatch_containers() if comp == component]
        _use_pod_environment(container, monkeypatch)
        return _component_settings(component)()

    checked = []
    for w, _, component in _stackwatch_containers():
        for backend, target in _address_fields(settings_of(component)).items():
            where = f"{component}: {backend}_address {target}"
            host, port = target.rsplit(":", 1)
            services = _services_at(host, int(port))
            assert len(services) == 1, f"{where}: no Service {host} with port {port}"
            svc = services[0]
            backend_workload = _component_workload(backend)
            reached = [x["metadata"]["name"] for x in _selected(svc["spec"]["selector"])]
            assert reached == [backend_workload["metadata"]["name"]], f"{where} reaches {reached}"
            (svc_port,) = [p for p in svc["spec"]["ports"] if p["port"] == int(port)]
            target_port = _container_ports(backend_workload)[str(svc_port.get("targetPort", svc_port["port"]))]
            bind_port = int(settings_of(backend).bind.rsplit(":", 1)[1])
            assert target_port == bind_port, f"{where}: the Service targets {target_port}, {backend} binds {bind_port}"
            assert svc["spec"].get("clusterIP") == "None", \
                f"{where}: Service {host} must be headless, or round_robin sees one address"
            allowed = _who_may_reach(backend_workload)
            assert "*" in allowed or w["metadata"]["name"] in allowed, \
                f"{where}: NetworkPolicy does not let {w['metadata']['name']} in"
            checked.append((component, backend))
    assert {("gateway", "auth"), ("gateway", "ingest"), ("ingest", "auth")} <= set(checked), checked


def test_grpc_services_are_headless():
    """The gRPC Services resolve to every ready pod (clients balance per call); the gateway's does not."""
    for name in GRPC_COMPONENTS:
        assert _named("Service", name)["spec"].get("clusterIP") == "None", f"Service {name} must be headless"
    assert _named("Service", "gateway")["spec"].get("clusterIP") != "None", "HTTP clients need a virtual IP"


def test_channels_and_servers_are_configured_to_spread_calls():
    """round_robin over what DNS returns, and connections that age out so clients re-resolve."""
    import json

    from stackwatch.config import GatewaySettings
    from stackwatch.rpc import _channel, _server

    options = dict(_channel.CLIENT_OPTIONS)
    assert json.loads(options["grpc.service_config"])["loadBalancingConfig"][0] == {"round_robin": {}}
    assert _channel.channel_target("auth:50051") == "dns:///auth:50051"
    assert _channel.channel_target("127.0.0.1:50051") == "dns:///127.0.0.1:50051"
    assert _channel.channel_target("ipv4:10.0.0.1:1,10.0.0.2:1") == "ipv4:10.0.0.1:1,10.0.0.2:1"
    assert _channel.channel_target("dns:///auth:50051") == "dns:///auth:50051"
    server = dict(_server.SERVER_OPTIONS)
    assert 0 < server["grpc.max_connection_age_ms"] <= 10 * 60 * 1000
    assert server["grpc.max_connection_age_grace_ms"] > 1000 * max(GatewaySettings().rpc_timeout,
                                                                  GatewaySettings().put_timeout), \
        "calls in flight on an aged connection must be able to run to their deadline"
    assert server["grpc.http2.min_ping_interval_without_data_ms"] < options["grpc.keepalive_time_ms"], \
        "the server would answer the clients' keepalive pings with GOAWAY too_many_pings"


async def _start_health_server(bind: str, who: bool):
    from grpc_health.v1 import health_pb2

    from stackwatch.rpc import serve

    handle = await serve(bind, lambda server: None, ["who"])
    status = health_pb2.HealthCheckResponse.SERVING if who else health_pb2.HealthCheckResponse.NOT_SERVING
    await handle.health.set("who", status)
    return handle


async def _ask_who(target: str, calls: int, until: set[int] | None = None) -> list[int]:
    """The "who" health status of ``calls`` calls on one channel (fewer once ``until`` was all seen)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from stackwatch.rpc import open_channel

    channel = open_channel(target)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        answers: list[int] = []
        for _ in range(calls):
            answers.append((await stub.Check(health_pb2.HealthCheckRequest(service="who"), timeout=5)).status)
            if until is not None and until <= set(answers):
                break
        return answers
    finally:
        await channel.close()


async def test_channels_reach_local_servers_by_ip_and_by_name():
    """``open_channel("127.0.0.1:port")`` and ``("localhost:port")`` still work (dns:/// + round_robin)."""
    handle = await _start_health_server("127.0.0.1:0", True)
    try:
        for target in (f"127.0.0.1:{handle.port}", f"localhost:{handle.port}", f"dns:///127.0.0.1:{handle.port}"):
            assert await _ask_who(target, 3) == [1, 1, 1], target
    finally:
        await handle.stop(grace=0)


async def test_channels_spread_calls_over_every_address():
    """Two servers behind one target both answer calls of one channel (pick_first would use one).

    ``ipv4:a,b`` gives the channel two addresses the way DNS does for a headless Service.
    """
    first = await _start_health_server("127.0.0.1:0", True)
    try:
        try:
            second = await _start_health_server(f"127.0.0.2:{first.port}", False)
        except OSError:
            pytest.skip("127.0.0.2 is not a local address here")
        try:
            answers = await _ask_who(f"ipv4:127.0.0.1:{first.port},127.0.0.2:{first.port}", 200, until={1, 2})
        finally:
            await second.stop(grace=0)
    finally:
        await first.stop(grace=0)
    assert set(answers) == {1, 2}, f"calls did not spread over both servers: {answers}"


async def test_calls_keep_working_across_connection_age_goaways(monkeypatch):
    """serve() ages connections out (shortened here to 0.3 s): the client reconnects, no call fails."""
    import grpc

    from stackwatch.rpc import _server, open_channel, serve

    monkeypatch.setattr(_server, "SERVER_OPTIONS", tuple(
        (k, 300 if k == "grpc.max_connection_age_ms" else v) for k, v in _server.SERVER_OPTIONS))
    peers: set[str] = set()

    async def peer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        peers.add(context.peer())  # the client's address and port: one per connection
        return b""

    def register(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "test.Peers", {"Get": grpc.unary_unary_rpc_method_handler(peer)}),))

    handle = await serve("127.0.0.1:0", register, [])
    channel = open_channel(f"localhost:{handle.port}")
    try:
        call = channel.unary_unary("/test.Peers/Get")
        loop = asyncio.get_running_loop()
        deadline, calls = loop.time() + 1.5, 0
        while loop.time() < deadline:
            results = await asyncio.gather(*[call(b"", timeout=5) for _ in range(10)], return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, failures[0]
            calls += len(results)
            await asyncio.sleep(0.01)
    finally:
        await channel.close()
        await handle.stop(grace=0)
    assert len(peers) >= 3, f"{calls} calls over 1.5 s used {len(peers)} connection(s): no maximum age in force"


# --------------------------------------------------------------------------------------------
# Wiring


def test_stackwatch_image_and_components():
    """Each component runs in exactly one workload, from the image of the package's version."""
    from stackwatch.cli import COMPONENTS

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    served = []
    for w, c, component in _stackwatch_containers():
        assert c["image"].endswith(f"stackwatch:{version}"), \
            f"{w['metadata']['name']}: {c['image']} is not version {version}"
        assert component in COMPONENTS
        served.append(component)
    assert sorted(served) == sorted(COMPONENTS), f"each component runs in exactly one workload: {served}"


def test_workload_selectors_match_their_own_pods():
    """The API server would reject a selector that misses the template; the schema does not."""
    for w in _workloads():
        assert _matches(w["spec"]["selector"], _pod_labels(w)), f"{w['kind']}/{w['metadata']['name']}"


def test_every_service_selects_a_workload_and_targets_its_ports():
    """Each Service selects pods, and each targetPort (name or number) is one of their ports."""
    for svc in _of_kind("Service"):
        name = svc["metadata"]["name"]
        selected = _selected(svc["spec"].get("selector", {"matchLabels": {"_": "none"}}))
        assert selected, f"Service {name} selects no workload's pods"
        for w in selected:
            ports = _container_ports(w)
            for p in svc["spec"]["ports"]:
                target = str(p.get("targetPort", p["port"]))
                assert target in ports, \
                    f"Service {name} port {p['port']} -> {target}: not a port of {w['metadata']['name']}"


def test_statefulsets_are_governed_by_their_services():
    """Each set's serviceName selects its pods; alarm/autoscale get per-pod DNS (headless)."""
    for sts in _of_kind("StatefulSet"):
        svc = _named("Service", sts["spec"]["serviceName"])
        selected = [w["metadata"]["name"] for w in _selected(svc["spec"]["selector"])]
        assert selected == [sts["metadata"]["name"]], f"Service {svc['metadata']['name']} selects {selected}"
    for name in ("alarm", "autoscale"):
        assert _named("Service", name)["spec"].get("clusterIP") == "None", f"{name} needs a headless Service"
    # autoscale has no sharding: a second replica would act on every group too.
    assert _named("StatefulSet", "autoscale")["spec"]["replicas"] == 1
    # ClickHouse and ZooKeeper pods are addressed by name (remote_servers, zookeeper nodes, the
    # services' host list): their governing Services are headless and publish pods before they are
    # ready (a ZooKeeper server is ready only once its peers found it).
    for sts in _of_kind("StatefulSet"):
        if _pod_labels(sts).get("app.kubernetes.io/name") in ("clickhouse", "zookeeper"):
            svc = _named("Service", sts["spec"]["serviceName"])
            assert svc["spec"].get("clusterIP") == "None", f"{svc['metadata']['name']} must be headless"
            assert svc["spec"].get("publishNotReadyAddresses") is True, svc["metadata"]["name"]


def test_alarm_replicas_know_their_id_and_run_one_until_ingest_routes_datums_to_owners():
    """The replica id is the pod name; one replica while ingest streams every datum to one address.

    Replicas split the alarms by ownership (services.alarm.ownership), but ingest forwards watched
    datums to the single STACKWATCH_INGEST_ALARM_ADDRESS: a second replica's alarms would get no
    stream and fall back to reading ingest at each evaluation.
    """
    from stackwatch.config import IngestSettings

    sts = _named("StatefulSet", "alarm")
    (container,) = [c for w, c, comp in _stackwatch_containers() if comp == "alarm"]
    (var,) = [v for v in container["env"] if v["name"] == "STACKWATCH_ALARM_REPLICA_ID"]
    assert var["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert IngestSettings.model_fields["alarm_address"].annotation == str | None, "one address, not a list"
    assert sts["spec"]["replicas"] == 1, "ingest streams to one alarm address: more replicas would miss the stream"
    pdb = _named("PodDisruptionBudget", "alarm")
    assert [w["metadata"]["name"] for w in _selected(pdb["spec"]["selector"])] == ["alarm"]
    assert pdb["spec"].get("maxUnavailable") == 1 and "minAvailable" not in pdb["spec"], "drains one at a time"


def test_stateless_components_scale_and_survive_drains():
    """gateway, auth, ingest: an HPA on their Deployment, and a PDB that still allows drains."""
    for name in ("gateway", "auth", "ingest"):
        hpa, pdb = _named("HorizontalPodAutoscaler", name), _named("PodDisruptionBudget", name)
        ref = hpa["spec"]["scaleTargetRef"]
        target = _named(ref["kind"], ref["name"])
        assert ref["kind"] == "Deployment" and target is _component_workload(name), f"HPA {name} -> {ref}"
        selected = [w["metadata"]["name"] for w in _selected(pdb["spec"]["selector"])]
        assert selected == [name], f"PDB {name} selects {selected}, not exactly its Deployment"
        # A PDB as large as the minimum replica count would block every node drain.
        assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"] <= target["spec"]["replicas"]


# --------------------------------------------------------------------------------------------
# Probes


def proto_service_names() -> set[str]:
    """Full names of every service in the generated ``stackwatch.proto`` modules."""
    import stackwatch.proto as proto

    names = set()
    for info in pkgutil.walk_packages(proto.__path__, proto.__name__ + "."):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(info.name)
            names |= {s.full_name for s in module.DESCRIPTOR.services_by_name.values()}
    return names


def test_grpc_probes_name_real_services():
    """Readiness asks for a service in the generated descriptors; the others for ``""``."""
    known = proto_service_names()
    assert known, "no services found in stackwatch.proto"
    probed = {}
    for w in _workloads():
        for c in _containers(w):
            ports = {p["containerPort"] for p in c.get("ports", [])}
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                grpc = c.get(kind, {}).get("grpc")
                if grpc is None:
                    continue
                name = w["metadata"]["name"]
                assert grpc["port"] in ports, f"{name} {kind} port {grpc['port']} is not a container port"
                service = grpc.get("service", "")
                if kind == "readinessProbe":
                    assert service in known, f"{name}: readiness probes {service!r}, not in {sorted(known)}"
                    probed[name] = service
                else:
                    assert service == "", f"{name} {kind} should ask for the overall status ''"
    assert set(probed) >= set(GRPC_COMPONENTS)


@pytest.mark.parametrize("component", GRPC_COMPONENTS)
def test_readiness_probes_the_service_the_process_registers(component):
    """The name is the one ``services/<component>/main.py`` registers with the health servicer."""
    registered = importlib.import_module(f"services.{component}.main").SERVICE_NAME
    (container,) = [c for _, c, comp in _stackwatch_containers() if comp == component]
    assert container["readinessProbe"]["grpc"]["service"] == registered
    assert container["livenessProbe"]["grpc"].get("service", "") == ""


def test_gateway_is_probed_on_its_listener():
    """The gateway has no health path: its probes open a TCP connection to the HTTP port."""
    (container,) = [c for _, c, comp in _stackwatch_containers() if comp == "gateway"]
    port = _container_ports(_component_workload("gateway"))["http"]
    for kind in ("readinessProbe", "livenessProbe"):
        assert container[kind]["tcpSocket"]["port"] in (port, "http"), kind


# --------------------------------------------------------------------------------------------
# Hardening


def test_every_container_is_locked_down_and_sized():
    """Hardening, sizing, probes and a grace period above the servers' own stop grace."""
    problems = []
    for w in _workloads():
        pod = w["spec"]["template"]["spec"]
        where = f"{w['kind']}/{w['metadata']['name']}"
        if pod.get("terminationGracePeriodSeconds", 30) <= SERVER_STOP_GRACE_S:
            problems.append(f"{where}: terminationGracePeriodSeconds must exceed {SERVER_STOP_GRACE_S}")
        if pod.get("enableServiceLinks") is not False:
            # Service links inject <SERVICE>_PORT=tcp://... variables; a Service named
            # "stackwatch-gateway" would inject STACKWATCH_GATEWAY_PORT and break the settings.
            problems.append(f"{where}: set enableServiceLinks: false")
        for c in _containers(w):
            sc, res = c.get("securityContext", {}), c.get("resources", {})
            pod_sc = pod.get("securityContext", {})
            seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}
            checks = {
                "runAsNonRoot": sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True,
                "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem") is True,
                "allowPrivilegeEscalation: false": sc.get("allowPrivilegeEscalation") is False,
                "capabilities.drop: [ALL]": sc.get("capabilities", {}).get("drop") == ["ALL"],
                "seccompProfile RuntimeDefault": seccomp.get("type") == "RuntimeDefault",
                "requests and limits for cpu and memory": all(
                    {"cpu", "memory"} <= set(res.get(k, {})) for k in ("requests", "limits")),
                "readiness and liveness probes": "readinessProbe" in c and "livenessProbe" in c,
            }
            problems += [f"{where}/{c['name']}: {what}" for what, ok in checks.items() if not ok]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Reachability


def _who_may_reach(target: dict[str, Any]) -> set[str]:
    """Names of the workloads (or ``*``: anyone) allowed in by the policies selecting ``target``."""
    policies = [p for p in _of_kind("NetworkPolicy")
                if "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
                and _matches(p["spec"]["podSelector"], _pod_labels(target))]
    assert policies, f"no NetworkPolicy selects {target['metadata']['name']}: ingress would be open"
    allowed: set[str] = set()
    ports = set(_container_ports(target).values())
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            for p in rule.get("ports", []):
                assert p["port"] in ports, \
                    f"{policy['metadata']['name']} opens {p['port']}, not a port of the pods"
            peers = rule.get("from", [])
            if not peers:
                allowed.add("*")
            for peer in peers:
                if "ipBlock" in peer or "namespaceSelector" in peer:
                    allowed.add("*")
                else:
                    allowed |= {w["metadata"]["name"] for w in _selected(peer["podSelector"])}
    return allowed


def test_network_policies_expose_only_the_gateway():
    """Outside -> gateway only; services <- gateway and each other; ClickHouse <- its owners."""
    deny = [p for p in _of_kind("NetworkPolicy")
            if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    assert deny, "a default-deny ingress policy must select every pod"
    services = {"gateway", *GRPC_COMPONENTS}
    clickhouse = {w["metadata"]["name"] for w in _workloads()
                  if _pod_labels(w).get("app.kubernetes.io/name") == "clickhouse"}
    assert clickhouse, "no ClickHouse StatefulSet"
    expected = {"gateway": {"*"}, "zookeeper": {*clickhouse, "zookeeper"},
                **{name: {*STORE_OWNERS, *clickhouse} for name in clickhouse},
                **{name: services for name in GRPC_COMPONENTS}}
    actual = {w["metadata"]["name"]: _who_may_reach(w) for w in _workloads()}
    assert actual == expected


# --------------------------------------------------------------------------------------------
# k8s/README.md


def _readme_manifests() -> list[dict[str, Any]]:
    """The Kubernetes objects shown in the README's ```yaml blocks."""
    blocks = re.findall(r"^( *)```yaml\n(.*?)^\1```", README.read_text(), re.MULTILINE | re.DOTALL)
    docs = []
    for indent, body in blocks:
        text = "\n".join(line[len(indent):] for line in body.splitlines())
        docs += [d for d in yaml.safe_load_all(text) if isinstance(d, dict) and "apiVersion" in d]
    return docs


def test_readme_manifests_are_valid_and_fit_the_deployment():
    """The egress example is valid for 1.30, selects the auth pods and opens DNS and CloudStack's port."""
    docs = _readme_manifests()
    assert docs, "the README shows an egress policy example"
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"README {doc['kind']}/{doc['metadata']['name']}: {e.message}")
        assert doc["metadata"].get("namespace") == NAMESPACE
    (egress,) = [d for d in docs if d["kind"] == "NetworkPolicy" and "Egress" in d["spec"]["policyTypes"]]
    assert [w["metadata"]["name"] for w in _selected(egress["spec"]["podSelector"])] == ["auth"]
    opened = {(p["port"], p.get("protocol", "TCP")) for rule in egress["spec"]["egress"] for p in rule["ports"]}
    url = urlsplit(_named("ConfigMap", "stackwatch-config")["data"]["STACKWATCH_AUTH_CLOUDSTACK_URL"])
    assert {(53, "UDP"), (53, "TCP"), (url.port or {"http": 80, "https": 443}[url.scheme], "TCP")} <= opened


def test_readme_is_honest_about_what_was_tested_and_what_is_open():
    """The honesty note stays, and the README says egress is open as long as no policy restricts it."""
    text = " ".join(README.read_text().split())
    assert "have not been applied to a real cluster" in text
    if not any("Egress" in p["spec"].get("policyTypes", []) for p in _of_kind("NetworkPolicy")):
        assert "Egress is open" in text and "Only ingress is restricted" in text


async def test_a_server_without_aged_connections_keeps_its_clients_connection(monkeypatch):
    """serve(aged_connections=False) (the alarm service, for ingest's long-lived stream): one connection."""
    import grpc

    from stackwatch.rpc import _server, open_channel, serve

    monkeypatch.setattr(_server, "SERVER_OPTIONS", tuple(
        (k, 300 if k == "grpc.max_connection_age_ms" else v) for k, v in _server.SERVER_OPTIONS))
    assert "grpc.max_connection_age_ms" not in dict(_server.server_options(aged_connections=False))
    peers: set[str] = set()

    async def peer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        peers.add(context.peer())
        return b""

    def register(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "test.Peers", {"Get": grpc.unary_unary_rpc_method_handler(peer)}),))

    handle = await serve("127.0.0.1:0", register, [], aged_connections=False)
    channel = open_channel(f"localhost:{handle.port}")
    try:
        call = channel.unary_unary("/test.Peers/Get")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.5
        while loop.time() < deadline:
            await asyncio.gather(*[call(b"", timeout=5) for _ in range(10)])
            await asyncio.sleep(0.01)
    finally:
        await channel.close()
        await handle.stop(grace=0)
    assert len(peers) == 1, f"the connection was replaced: {peers}"
