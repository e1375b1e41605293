"""deploy/k8s: every overlay renders, validates, and keeps the pipeline's promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from shared.auth import GUARDED_PREFIX
from shared.bus import permissions
from tests.deploy.checks import (
    CUSTOM_KINDS,
    QUANTITY,
    hardening_problems,
    httproute_backend,
    ingress_backend,
    manifest_problems,
)
from tests.deploy.conftest import (
    K8S,
    NAMESPACE,
    OVERLAYS,
    RUNNER_STOP_OVERHEAD_S,
    SERVICE_PORT_VAR,
    SERVICE_SETTINGS,
    SERVICES,
    configmap_data,
    effective_env,
    find,
    kustomize,
    one,
    render_everything,
    settings_fields,
)

Docs = list[dict[str, Any]]
APIS = {"intake": 8080, "status": 8081}
WORKERS = {"chart": 9101, "reader": 9102}

# The Secrets the Deployments read and nobody commits (secret.example.yaml shows them).
SECRETS = {"hd-openai": "OPENAI_API_KEY", "hd-api-keys": "API_KEYS",
           "hd-stream-token": "STREAM_TOKEN_SECRET"}  # fmt: skip
# ... and the one the backups' ObjectStore reads (base/postgres.yaml).
BACKUP_SECRET = {"hd-postgres-backup": ["ACCESS_KEY_ID", "ACCESS_SECRET_KEY"]}
# ... and the NATS users' passwords, a key per user (shared/bus/permissions.py).
NATS_USERS_SECRET = "hd-nats-users"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
# The public API (README "The API for clients") and the service that serves it.
PUBLIC_API = (
    ("POST", "/v1/readings", "intake"),
    ("GET", "/v1/readings/r1", "status"),
    ("GET", "/v1/readings/r1/events", "status"),
    ("GET", "/v1/readings/r1/bodygraph.svg", "status"),
    ("POST", "/v1/readings/r1/regenerate", "status"),
    ("DELETE", "/v1/readings/r1", "status"),
    ("GET", "/v1/readings?user_id=u1", "status"),  # the Ingress' known gap: it reaches intake
    ("DELETE", "/v1/users/u1/readings", "status"),  # erasure on request
)
# Served by intake and status but not public: ops, docs, demo, operator endpoints.
NOT_PUBLIC = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
              "/docs/static/swagger-ui.css", "/", "/demo-config.json", "/static/app.js",
              "/v1/pipeline", "/v1/dead-letters")  # fmt: skip
# What probes and scrapes call: none of it behind the API key (shared/auth/).
OPS_PATHS = {"/healthz", "/readyz", "/metrics"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    assert docs, f"{overlay} renders nothing"
    problems = manifest_problems(docs)
    assert not problems, "\n".join(problems)


def test_base_with_every_component_validates(tmp_path: Path) -> None:
    docs = render_everything(tmp_path)
    kinds = {d["kind"] for d in docs}
    assert CUSTOM_KINDS - {"Cluster"} <= kinds | {"Cluster"}, f"a component is empty: {kinds}"
    problems = manifest_problems(docs)
    assert not problems, "\n".join(problems)
    route = one(docs, "HTTPRoute", "hd-api")
    services = {d["metadata"]["name"]: d for d in find(docs, "Service")}
    for rule in route["spec"]["rules"]:
        for ref in rule["backendRefs"]:
            ports = {p["port"] for p in services[ref["name"]]["spec"]["ports"]}
            assert ref["port"] in ports, f"HTTPRoute -> {ref['name']}:{ref['port']}"


def test_secret_example_validates() -> None:
    docs = [d for d in yaml.safe_load_all((K8S / "secret.example.yaml").read_text()) if d]
    assert not manifest_problems(docs)
    assert {d["metadata"]["name"]: list(d["stringData"]) for d in docs} == {
        **{name: [key] for name, key in SECRETS.items()},
        **BACKUP_SECRET,
        NATS_USERS_SECRET: list(permissions.USERS),
    }, "secret.example.yaml shows every Secret the manifests read, and only those"
    for doc in docs:
        assert doc["metadata"]["namespace"] == NAMESPACE
        assert all("REPLACE" in v for v in doc["stringData"].values()), "placeholders only"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_in_the_namespace(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    assert not find(docs, "Namespace"), "the Namespace is deploy/k8s/namespace, applied once"
    for d in docs:
        if d["kind"] not in CLUSTER_SCOPED:
            assert d["metadata"].get("namespace") == NAMESPACE, (
                f"{d['kind']}/{d['metadata']['name']}"
            )


def test_the_namespace_is_outside_base_and_overlays() -> None:
    """`kubectl delete -k` of the base or an overlay leaves the namespace and its volumes."""
    assert not find(kustomize(K8S / "base"), "Namespace")
    (ns,) = kustomize(K8S / "namespace")
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == NAMESPACE
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not manifest_problems([ns])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_are_rendered(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    assert not find(docs, "Secret"), "Secrets are created in the cluster, never committed"
    cluster = find(docs, "Cluster")[0]["metadata"]["name"]
    for dep in find(docs, "Deployment"):
        for c in dep["spec"]["template"]["spec"]["containers"]:
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref["name"] == NATS_USERS_SECRET:  # the service's own password
                    assert (e["name"], ref["key"]) == ("NATS_PASSWORD", dep["metadata"]["name"])
                elif ref:
                    assert ref["name"] in (*SECRETS, f"{cluster}-app"), ref
                    if ref["name"] in SECRETS:
                        assert ref["key"] == SECRETS[ref["name"]] == e["name"], ref
                elif any(w in e["name"] for w in ("KEY", "PASSWORD", "TOKEN", "DATABASE_URL")):
                    pytest.fail(f"{dep['metadata']['name']}: {e['name']} must come from a Secret")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_hardened(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    problems = []
    for dep in find(docs, "Deployment"):
        problems += hardening_problems(dep)
        pod = dep["spec"]["template"]["spec"]
        tmp = [
            m
            for c in pod["containers"]
            for m in c.get("volumeMounts", [])
            if m["mountPath"] == "/tmp"  # noqa: S108 - the pod's scratch volume
        ]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], (
            f"{dep['metadata']['name']}: /tmp emptyDir"
        )
    for sts in find(docs, "StatefulSet"):
        problems += hardening_problems(sts, uid=None)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_with_probes_on_its_port(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    for name in SERVICES:
        dep = one(docs, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        assert c["command"] == ["python", "-m", f"services.{name}"]
        assert c["image"].split("/")[-1].startswith("hd-pipeline"), c["image"]
        env = effective_env(docs, dep)
        port_var = SERVICE_PORT_VAR[name]
        port = int(env.get(port_var, settings_fields(SERVICE_SETTINGS[name])[port_var].default))
        assert port == {**APIS, **WORKERS}[name]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"),
                            ("livenessProbe", "/healthz")):  # fmt: skip
            get = c[probe]["httpGet"]
            assert get["path"] == path, f"{name}.{probe}"
            assert ports.get(get["port"], get["port"]) == port, f"{name}.{probe} port"
        assert pod["serviceAccountName"] == name
        assert one(docs, "ServiceAccount", name)
        pdb = one(docs, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grace_period_outlasts_the_drain(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    for name in SERVICES:
        dep = one(docs, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        env = effective_env(docs, dep)
        drain = float(env.get("DRAIN_TIMEOUT_S", 20))
        pre_stop = (pod["containers"][0].get("lifecycle") or {}).get("preStop", {})
        sleep = float(pre_stop["exec"]["command"][1]) if pre_stop else 0.0
        grace = pod["terminationGracePeriodSeconds"]
        assert grace > sleep + drain + RUNNER_STOP_OVERHEAD_S, (
            f"{name}: grace {grace} s <= preStop {sleep} + drain {drain} + {RUNNER_STOP_OVERHEAD_S}"
        )
    reader = effective_env(docs, one(docs, "Deployment", "reader"))
    assert float(reader["DRAIN_TIMEOUT_S"]) == 90
    assert float(reader["DRAIN_TIMEOUT_S"]) > float(reader["OPENAI_TIMEOUT_S"]), (
        "the reader's drain must outlast its longest LLM call"
    )
    assert one(docs, "Deployment", "reader")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"] == 120  # fmt: skip


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_env_names_are_settings_of_that_service(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    common = configmap_data(docs, "hd-common")
    assert common["STREAM_REPLICAS"] == "3" and common["LOG_FORMAT"] == "json"
    for name in SERVICES:
        env = effective_env(docs, one(docs, "Deployment", name))
        unknown = set(env) - set(settings_fields(SERVICE_SETTINGS[name]))
        assert not unknown, f"{name} is given variables it does not read: {sorted(unknown)}"
        for var, value in env.items():
            if isinstance(value, str):  # a literal: it must parse as the setting's type
                field = settings_fields(SERVICE_SETTINGS[name])[var]
                TypeAdapter(field.annotation).validate_python(value)


# The edge each overlay uses: an Ingress (components/ingress) or an HTTPRoute
# (components/gateway-api), never both.
EDGE = {"dev": "Ingress", "prod": "HTTPRoute"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_has_one_edge(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    edges = {kind: len(find(docs, kind)) for kind in ("Ingress", "HTTPRoute")}
    assert edges == {kind: int(kind == EDGE[overlay]) for kind in edges}, edges


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_expose_the_apis(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    services = {d["metadata"]["name"]: d for d in find(docs, "Service")}
    for name, port in APIS.items():
        (p,) = services[name]["spec"]["ports"]
        assert (p["name"], p["port"]) == ("http", port)
        assert services[name]["spec"]["selector"] == {"app.kubernetes.io/name": name}
    for name in WORKERS:
        assert name not in services, f"{name} has no API: PodMonitor scrapes it"


def test_ingress_routes_the_api(overlays: dict[str, Docs]) -> None:
    (ingress,) = find(overlays["dev"], "Ingress")
    paths = {
        (p["path"], p["pathType"]): p["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths[("/v1/readings", "Exact")] == {"name": "intake", "port": {"name": "http"}}
    assert paths[("/v1/readings/", "Prefix")] == {"name": "status", "port": {"name": "http"}}
    assert paths[("/v1/users/", "Prefix")] == {"name": "status", "port": {"name": "http"}}
    assert len(paths) == 3, "only the public API is routed (no /metrics, /readyz)"


def test_ingress_sends_each_api_call_to_its_service(overlays: dict[str, Docs]) -> None:
    (ingress,) = find(overlays["dev"], "Ingress")
    for method, path, service in PUBLIC_API:
        if path.startswith("/v1/readings?"):  # documented limitation (ingress.yaml, README)
            assert ingress_backend(ingress, path) == "intake", "the Ingress' known gap changed"
            continue
        assert ingress_backend(ingress, path) == service, f"{method} {path}"
    for path in NOT_PUBLIC:
        assert ingress_backend(ingress, path) is None, f"{path} must not be public"


@pytest.mark.parametrize("regex_above_prefix", [True, False], ids=["regex-first", "prefix-first"])
def test_httproute_sends_each_api_call_to_its_service(
    overlays: dict[str, Docs], regex_above_prefix: bool
) -> None:
    """Whichever way the implementation ranks RegularExpression paths."""
    route = one(overlays["prod"], "HTTPRoute", "hd-api")
    for method, path, service in PUBLIC_API:
        for accept in ({}, {"Accept": "text/event-stream"}, {"Accept": "application/json"}):
            got = httproute_backend(route, method, path, accept,
                                    regex_above_prefix=regex_above_prefix)  # fmt: skip
            assert got == service, f"{method} {path} {accept}"
        # A browser's CORS preflight reaches the service that serves the call.
        preflight = {"Access-Control-Request-Method": method, "Origin": "https://app.example"}
        got = httproute_backend(route, "OPTIONS", path, preflight,
                                regex_above_prefix=regex_above_prefix)  # fmt: skip
        assert got == service, f"OPTIONS {path} for {method}"
    for method in ("GET", "POST", "DELETE"):
        for path in NOT_PUBLIC:
            got = httproute_backend(route, method, path, regex_above_prefix=regex_above_prefix)
            assert got is None, f"{method} {path} is public"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_keys_come_from_their_secret(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    required = overlay == "prod"  # dev may run open; prod refuses to start without keys
    for name in APIS:
        env = effective_env(docs, one(docs, "Deployment", name))
        ref = env["API_KEYS"]["secretKeyRef"]
        assert ref == {"name": "hd-api-keys", "key": "API_KEYS", "optional": not required}, name
        ref = env["STREAM_TOKEN_SECRET"]["secretKeyRef"]  # events_url's token: both services
        assert ref == {"name": "hd-stream-token", "key": "STREAM_TOKEN_SECRET",
                       "optional": not required}, name  # fmt: skip
    for name in WORKERS:
        assert "API_KEYS" not in effective_env(docs, one(docs, "Deployment", name)), name
        assert "STREAM_TOKEN_SECRET" not in effective_env(docs, one(docs, "Deployment", name))
    reader = effective_env(docs, one(docs, "Deployment", "reader"))
    assert reader["OPENAI_API_KEY"]["secretKeyRef"]["optional"] is not required


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_both_apis_share_their_guard_rails(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    intake, status = (effective_env(docs, one(docs, "Deployment", n)) for n in APIS)
    for var in ("API_KEYS", "API_RATE_LIMIT", "API_MAX_BODY_BYTES", "CORS_ORIGINS"):
        assert intake.get(var) == status.get(var), f"intake and status differ in {var}"
    # An Ingress lets every body the API accepts through, so the API answers 413 itself.
    # (The HTTPRoute sets no body cap: the API's own limit is the only one.)
    ingresses = find(docs, "Ingress")
    if not ingresses:
        return
    (ingress,) = ingresses
    cap = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    factor = {"k": 1024, "m": 1024**2}.get(cap[-1].lower(), 1)
    default = settings_fields(SERVICE_SETTINGS["intake"])["API_MAX_BODY_BYTES"].default
    limit = int(intake.get("API_MAX_BODY_BYTES", default))
    assert int(cap.rstrip("kKmM")) * factor >= limit, f"proxy-body-size {cap} < {limit}"


def test_probes_and_scrapes_need_no_api_key(tmp_path: Path) -> None:
    docs = render_everything(tmp_path)
    called = []
    for name in SERVICES:
        (c,) = one(docs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            called.append(c[probe]["httpGet"]["path"])
    endpoints = one(docs, "ServiceMonitor", "hd-api")["spec"]["endpoints"]
    endpoints += one(docs, "PodMonitor", "hd-workers")["spec"]["podMetricsEndpoints"]
    called += [e.get("path", "/metrics") for e in endpoints]
    assert called and set(called) <= OPS_PATHS, sorted(set(called) - OPS_PATHS)
    assert not [p for p in called if p.startswith(GUARDED_PREFIX)], "a probe needs a key"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscaling_targets(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in find(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == set(APIS), "intake and status scale on CPU"
    for hpa in hpas.values():
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in find(docs, "ScaledObject")}
    assert scaled <= set(WORKERS), "KEDA scales the workers only"
    for name in SERVICES:
        assert "replicas" not in one(docs, "Deployment", name)["spec"], (
            f"{name}: an autoscaler owns replicas; a fixed count would be reset on every apply"
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgres_connections_fit(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    (cluster,) = find(docs, "Cluster")
    max_conn = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    status_max = one(docs, "HorizontalPodAutoscaler", "status")["spec"]["maxReplicas"]
    pool = int(effective_env(docs, one(docs, "Deployment", "status"))["DATABASE_POOL_SIZE"])
    assert status_max * pool + 10 <= max_conn, (
        f"{status_max} status pods x pool {pool} exceed max_connections {max_conn}"
    )
    ref = effective_env(docs, one(docs, "Deployment", "status"))["DATABASE_URL"]["secretKeyRef"]
    assert ref == {"name": f"{cluster['metadata']['name']}-app", "key": "uri"}


def test_prod_overlay_uses_every_component_and_the_real_llm(overlays: dict[str, Docs]) -> None:
    docs = overlays["prod"]
    for kind in ("NetworkPolicy", "ScaledObject", "ServiceMonitor", "PodMonitor", "PrometheusRule"):
        assert find(docs, kind), f"prod lacks {kind}"
    env = effective_env(docs, one(docs, "Deployment", "reader"))
    assert env["READER_PROVIDER"] == "openai"
    assert env["OPENAI_API_KEY"]["secretKeyRef"]["optional"] is False
    for name in APIS:
        env = effective_env(docs, one(docs, "Deployment", name))
        assert env["API_KEYS"]["secretKeyRef"]["optional"] is False, f"{name}: keys required"
    for dep in find(docs, "Deployment"):
        image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
        assert not image.endswith((":dev", ":latest")), image


def test_dev_overlay_is_small(overlays: dict[str, Docs]) -> None:
    docs = overlays["dev"]
    assert one(docs, "Cluster", "hd-postgres")["spec"]["instances"] == 1
    for hpa in find(docs, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] == 1
    for dep in find(docs, "Deployment"):
        cpu = dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
        assert QUANTITY.match(cpu) and cpu.endswith("m") and int(cpu[:-1]) <= 100


def _pod_labels(docs: Docs) -> list[dict[str, str]]:
    labels = [w["spec"]["template"]["metadata"]["labels"] for w in docs
              if w["kind"] in ("Deployment", "StatefulSet")]  # fmt: skip
    labels += [{"cnpg.io/cluster": c["metadata"]["name"]} for c in find(docs, "Cluster")]
    return labels


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        present = labels.get(expr["key"])
        if expr["operator"] == "In" and present not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and present in expr["values"]:
            return False
        if expr["operator"] == "Exists" and expr["key"] not in labels:
            return False
        if expr["operator"] == "DoesNotExist" and expr["key"] in labels:
            return False
    return True


def _allowed(policies: Docs, direction: str, pod: dict[str, str], peer: dict[str, str] | None,
             port: int) -> bool:  # fmt: skip
    """Does some policy let `pod` talk to `peer` (a pod of this namespace; None = outside)?"""
    rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for pol in policies:
        if not _selects(pol["spec"]["podSelector"], pod):
            continue
        for rule in pol["spec"].get(rules_key) or []:
            if not any(p.get("port") == port for p in rule.get("ports") or [{"port": port}]):
                continue
            for p in rule.get(peers_key) or [{}]:
                if peer is None and ("ipBlock" in p or "namespaceSelector" in p or not p):
                    return True
                same_namespace = "podSelector" in p and "namespaceSelector" not in p
                if peer is not None and same_namespace and _selects(p["podSelector"], peer):
                    return True
    return False


def test_network_policies_allow_exactly_the_pipeline(overlays: dict[str, Docs]) -> None:
    docs = overlays["prod"]
    policies = find(docs, "NetworkPolicy")
    deny = one(docs, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    for pol in policies:  # every policy selects pods that exist
        assert any(_selects(pol["spec"]["podSelector"], lbl) for lbl in _pod_labels(docs)), (
            f"NetworkPolicy {pol['metadata']['name']} selects no pod"
        )
    pods = {n: {"app.kubernetes.io/name": n} for n in (*SERVICES, "nats")}
    pg = {"cnpg.io/cluster": "hd-postgres"}
    for name in SERVICES:  # every service -> nats:4222, both ends
        assert _allowed(policies, "Egress", pods[name], pods["nats"], 4222), f"{name} -> nats"
        assert _allowed(policies, "Ingress", pods["nats"], pods[name], 4222), f"nats <- {name}"
        port = {**APIS, **WORKERS}[name]
        assert _allowed(policies, "Ingress", pods[name], None, port), f"prometheus -> {name}"
    assert _allowed(policies, "Egress", pods["status"], pg, 5432)
    assert _allowed(policies, "Ingress", pg, pods["status"], 5432)
    # ... and to a Cluster restored under another name (docs/operations.md).
    restored = {"cnpg.io/cluster": "hd-postgres-restore"}
    assert _allowed(policies, "Egress", pods["status"], restored, 5432)
    assert _allowed(policies, "Ingress", restored, pods["status"], 5432)
    assert _allowed(policies, "Ingress", restored, restored, 5432), "replication"
    assert _allowed(policies, "Egress", pods["reader"], None, 443), "reader -> LLM"
    assert _allowed(policies, "Egress", pods["nats"], pods["nats"], 6222), "nats routes"
    assert _allowed(policies, "Ingress", pods["nats"], None, 8222), "KEDA -> nats monitoring"
    assert _allowed(policies, "Egress", pods["nats"], None, 443), "nats' zone tag -> API server"
    # ... and nothing else: no other service reaches the database or the internet.
    for name in ("intake", "chart", "reader"):
        assert not _allowed(policies, "Egress", pods[name], pg, 5432), f"{name} -> postgres"
    for name in ("intake", "chart", "status"):
        assert not _allowed(policies, "Egress", pods[name], None, 443), f"{name} -> internet"
    for name in ("chart", "reader"):
        assert not _allowed(policies, "Ingress", pods[name], pods["intake"], WORKERS[name])
