"""The manifests in k8s/ are valid for the target Kubernetes release and agree with the code.

No cluster runs here, so this is the whole of their validation:

* **Schema**: every document of every ``k8s/*.yaml``, against Kubernetes 1.30's OpenAPI schemas
  with kubernetes-validate in strict mode (an unknown or misspelled field fails).
* **Settings**: every ``STACKWATCH_*`` variable a pod gets is a field of a settings class in
  ``stackwatch/config.py`` (prefix + field name upper-cased), and each component's settings,
  built from exactly the environment its pod would see, parse and name the ports, Services and
  files the manifests provide.
* **Wiring**: Service selectors match a workload's pods, targetPorts are container ports,
  workload selectors match their own templates, HPAs and PDBs point at real workloads.
* **Probes**: gRPC readiness probes name the service the process registers, which exists in the
  generated ``stackwatch.proto`` descriptors; liveness asks for the overall (``""``) status.
* **Hardening and reachability**: every container is locked down and has requests and limits;
  NetworkPolicies let the outside reach only the gateway, the services only each other, and
  ClickHouse only the services that own a database.
"""

from __future__ import annotations

import base64
import importlib
import os
import pkgutil
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
HELPER_VARIABLES = {"CLICKHOUSE_STACKWATCH_PASSWORD"}
GRPC_COMPONENTS = ("auth", "ingest", "alarm", "autoscale")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


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


def test_manifests_are_there():
    """Every component's objects exist, all in the stackwatch namespace."""
    assert DOCS, f"no documents in {K8S}/*.yaml"
    assert {(d["kind"], d["metadata"]["name"]) for _, _, d in DOCS} >= {
        ("Namespace", NAMESPACE),
        ("Deployment", "gateway"), ("Deployment", "auth"), ("Deployment", "ingest"),
        ("StatefulSet", "alarm"), ("StatefulSet", "autoscale"), ("StatefulSet", "clickhouse"),
        ("Service", "gateway"), ("Service", "auth"), ("Service", "ingest"), ("Service", "alarm"),
        ("Service", "autoscale"), ("Service", "clickhouse"),
        ("HorizontalPodAutoscaler", "gateway"), ("HorizontalPodAutoscaler", "auth"),
        ("HorizontalPodAutoscaler", "ingest"),
        ("PodDisruptionBudget", "gateway"), ("PodDisruptionBudget", "auth"),
        ("PodDisruptionBudget", "ingest"),
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


@pytest.mark.parametrize("component", ["gateway", *GRPC_COMPONENTS])
def test_component_settings_parse_from_the_pod_environment(component, monkeypatch):
    """Build the component's settings from exactly what its pod sees, and check what they name."""
    workload = _component_workload(component)
    (container,) = [c for w, c, comp in _stackwatch_containers() if comp == component]
    for name in list(os.environ):
        if name.startswith("STACKWATCH_"):
            monkeypatch.delenv(name)
    for name, value in _pod_environment(container).items():
        monkeypatch.setenv(name, value)
    settings = _component_settings(component)()
    _settings_classes()["CommonSettings"]()  # log level / format / tracing values must parse too
    ports = _container_ports(workload)

    if component == "gateway":
        assert settings.host == "0.0.0.0"
        assert ports.get("http") == settings.port, "gateway container port 'http' != STACKWATCH_GATEWAY_PORT"
        for target, backend in ((settings.auth_address, "auth"), (settings.ingest_address, "ingest")):
            host, port = target.rsplit(":", 1)
            services = _services_at(host, int(port))
            assert services, f"gateway calls {target}: no Service with that name and port"
            reached = [w["metadata"]["name"] for w in _selected(services[0]["spec"]["selector"])]
            assert reached == [_component_workload(backend)["metadata"]["name"]], \
                f"{target} reaches {reached}, not the {backend} pods"
        return

    host, port = settings.bind.rsplit(":", 1)
    assert host == "0.0.0.0", f"{component} binds {settings.bind}: pods must listen on all addresses"
    assert ports.get("grpc") == int(port), f"{component}: container port 'grpc' != bind port {port}"
    if component == "auth":
        path = Path(settings.credentials_file or "")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert str(path.parent) in mounts, f"nothing is mounted at {path.parent}"
        volumes = workload["spec"]["template"]["spec"]["volumes"]
        volume = next(v for v in volumes if v["name"] == mounts[str(path.parent)])
        assert "secret" in volume, "the credentials file must come from a Secret"
        name = volume["secret"]["secretName"]
        keys = _secret_data(_named("Secret", name))
        items = {i["path"]: i["key"] for i in volume["secret"].get("items", [])} or {k: k for k in keys}
        assert path.name in items and items[path.name] in keys, f"{path} is not a key of Secret {name}"
    if component == "ingest":
        url = urlsplit(settings.store_url)
        assert url.scheme == "clickhouse", "pods need a ClickHouse server, not the embedded chDB store"
        assert _services_at(url.hostname or "", url.port or 9000), f"no Service for {url.hostname}:{url.port}"
        assert "$(" not in settings.store_url, "an unexpanded $(VAR) in STACKWATCH_INGEST_STORE_URL"


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
        # Sharding by ordinal is not implemented: a second replica would evaluate every key too.
        assert _named("StatefulSet", name)["spec"]["replicas"] == 1
    assert _named("StatefulSet", "clickhouse")["spec"]["replicas"] == 1, "the single-node layout"


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
    expected = {"gateway": {"*"}, "clickhouse": {"ingest", "alarm", "autoscale"},
                **{name: services for name in GRPC_COMPONENTS}}
    actual = {w["metadata"]["name"]: _who_may_reach(w) for w in _workloads()}
    assert actual == expected
