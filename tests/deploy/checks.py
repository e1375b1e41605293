"""Checkers for rendered manifests. Each returns a list of problems (empty = fine).

Kept apart from the tests so the self-tests can show that each one catches
a broken manifest.
"""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.conftest import require_module

# A Kubernetes version kubernetes-validate ships schemas for (1.25 .. 1.37 in
# 1.37.0). The oldest minor version we promise to run on: the manifests use
# nothing newer.
K8S_VERSION = "1.33"

# Custom resources and the CRD model (generated from the CRD's OpenAPI schema)
# that validates them; the rest get a structural check below.
_KEDA = ("cloudcoil.models.keda.v1alpha1", "cloudcoil-models-keda")
_PROMETHEUS = ("cloudcoil.models.prometheus_operator.v1", "cloudcoil-models-prometheus-operator")
CRD_MODELS: dict[tuple[str, str], tuple[str, str]] = {
    ("keda.sh/v1alpha1", "ScaledObject"): _KEDA,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _PROMETHEUS,
    ("monitoring.coreos.com/v1", "PodMonitor"): _PROMETHEUS,
    ("monitoring.coreos.com/v1", "PrometheusRule"): _PROMETHEUS,
}
STRUCTURAL = {("postgresql.cnpg.io/v1", "Cluster"), ("gateway.networking.k8s.io/v1", "HTTPRoute")}
CUSTOM_KINDS = {kind for _, kind in CRD_MODELS} | {kind for _, kind in STRUCTURAL}

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$")


def name_of(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def builtin_problems(doc: dict[str, Any]) -> list[str]:
    """Validate a built-in kind against Kubernetes' own schema (strict: no unknown fields)."""
    kv = require_module("kubernetes_validate", "kubernetes-validate")
    try:
        kv.validate(doc, K8S_VERSION, strict=True)
    except kv.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        return [f"{name_of(doc)}: {path}: {exc.message}"]
    except kv.SchemaNotFoundError as exc:
        return [f"{name_of(doc)}: no schema ({exc.message}): a custom kind without a check?"]
    return []


def _unknown_fields(given: Any, kept: Any, path: str = "") -> list[str]:
    """Keys of `given` that the model dropped: fields the CRD does not have."""
    out: list[str] = []
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                out.append(f"{path}.{key}")
            else:
                out += _unknown_fields(value, kept[key], f"{path}.{key}")
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (a, b) in enumerate(zip(given, kept, strict=False)):
            out += _unknown_fields(a, b, f"{path}[{i}]")
    return out


def custom_problems(doc: dict[str, Any]) -> list[str]:
    """Validate a custom resource: by its CRD model, or by a structural check."""
    key = (str(doc.get("apiVersion")), str(doc.get("kind")))
    if key in CRD_MODELS:
        module_name, package = CRD_MODELS[key]
        model = getattr(require_module(module_name, package), str(doc["kind"]))
        try:
            obj = model.model_validate(doc)
        except Exception as exc:  # pydantic.ValidationError, with every bad field
            return [f"{name_of(doc)}: {exc}"]
        kept = obj.model_dump(by_alias=True, exclude_unset=True, mode="json")
        return [f"{name_of(doc)}: unknown field {f}" for f in _unknown_fields(doc, kept)]
    if key == ("postgresql.cnpg.io/v1", "Cluster"):
        return cnpg_cluster_problems(doc)
    if key == ("gateway.networking.k8s.io/v1", "HTTPRoute"):
        return httproute_problems(doc)
    return [f"{name_of(doc)}: {key} is neither a built-in kind nor a checked custom kind"]


CNPG_SPEC_FIELDS = {
    "instances", "imageName", "imageCatalogRef", "primaryUpdateStrategy", "primaryUpdateMethod",
    "enablePDB", "bootstrap", "postgresql", "storage", "walStorage", "affinity", "resources",
    "monitoring", "backup", "plugins", "managed", "inheritedMetadata", "description",
    "superuserSecret", "enableSuperuserAccess", "certificates", "externalClusters",
    "replica", "minSyncReplicas", "maxSyncReplicas", "startDelay", "stopDelay",
    "smartShutdownTimeout", "switchoverDelay", "failoverDelay", "priorityClassName",
    "topologySpreadConstraints", "env", "envFrom", "serviceAccountTemplate", "logLevel",
    "tablespaces", "probes", "podSecurityContext", "securityContext", "ephemeralVolumeSource",
    "ephemeralVolumesSizeLimit", "projectedVolumeTemplate", "seccompProfile",
}  # fmt: skip


def cnpg_cluster_problems(doc: dict[str, Any]) -> list[str]:
    """CloudNativePG Cluster: the fields its CRD requires or we rely on, and their types."""
    problems = []
    spec = doc.get("spec") or {}
    if not doc.get("metadata", {}).get("name"):
        problems.append("Cluster: metadata.name is required")
    if not isinstance(spec.get("instances"), int) or spec["instances"] < 1:
        problems.append(f"{name_of(doc)}: spec.instances must be an integer >= 1")
    size = (spec.get("storage") or {}).get("size")
    if not isinstance(size, str) or not QUANTITY.match(size):
        problems.append(f"{name_of(doc)}: spec.storage.size must be a quantity, got {size!r}")
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    for field in ("database", "owner"):
        if not isinstance(initdb.get(field), str):
            problems.append(f"{name_of(doc)}: spec.bootstrap.initdb.{field} must be a string")
    params = (spec.get("postgresql") or {}).get("parameters") or {}
    for k, v in params.items():
        if not isinstance(v, str):
            problems.append(f"{name_of(doc)}: postgresql.parameters.{k} must be a string")
    problems += [
        f"{name_of(doc)}: unknown field spec.{k}" for k in spec if k not in CNPG_SPEC_FIELDS
    ]
    return problems


def httproute_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    spec = doc.get("spec") or {}
    if not spec.get("parentRefs") or not all("name" in p for p in spec["parentRefs"]):
        problems.append(f"{name_of(doc)}: spec.parentRefs needs at least one named Gateway")
    for i, rule in enumerate(spec.get("rules") or []):
        for match in rule.get("matches") or []:
            path = match.get("path") or {}
            if path and path.get("type") not in ("Exact", "PathPrefix", "RegularExpression"):
                problems.append(f"{name_of(doc)}: rules[{i}] path type {path.get('type')!r}")
            if "method" in match and match["method"] not in HTTP_METHODS:
                problems.append(f"{name_of(doc)}: rules[{i}] method {match['method']!r}")
            for header in match.get("headers") or []:
                if not header.get("name") or not isinstance(header.get("value"), str):
                    problems.append(f"{name_of(doc)}: rules[{i}] header match needs name and value")
                if header.get("type", "Exact") not in ("Exact", "RegularExpression"):
                    problems.append(f"{name_of(doc)}: rules[{i}] header type {header['type']!r}")
        refs = rule.get("backendRefs") or []
        if not refs or not all(isinstance(r.get("port"), int) and r.get("name") for r in refs):
            problems.append(f"{name_of(doc)}: rules[{i}] needs backendRefs with name and port")
    if not spec.get("rules"):
        problems.append(f"{name_of(doc)}: spec.rules is empty")
    return problems


def manifest_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Every document: built-ins by Kubernetes' schema, custom kinds by theirs."""
    problems: list[str] = []
    for doc in docs:
        if doc.get("kind") in CUSTOM_KINDS:
            problems += custom_problems(doc)
        else:
            problems += builtin_problems(doc)
    return problems


def hardening_problems(workload: dict[str, Any], uid: int | None = 10001) -> list[str]:
    """STYLE practice 17: the hardened pod defaults, on a Deployment or StatefulSet."""
    pod = workload["spec"]["template"]["spec"]
    who = name_of(workload)
    problems = []
    psc = pod.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        problems.append(f"{who}: pod runAsNonRoot must be true")
    if uid is not None and (psc.get("runAsUser"), psc.get("runAsGroup")) != (uid, uid):
        problems.append(f"{who}: pod runAsUser/runAsGroup must be {uid}")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{who}: pod seccompProfile must be RuntimeDefault")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{who}: automountServiceAccountToken must be false")
    if pod.get("enableServiceLinks") is not False:
        problems.append(f"{who}: enableServiceLinks must be false (INTAKE_PORT=tcp://... clashes)")
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        csc = c.get("securityContext") or {}
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{who}/{c['name']}: allowPrivilegeEscalation must be false")
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{who}/{c['name']}: readOnlyRootFilesystem must be true")
        if (csc.get("capabilities") or {}).get("drop") != ["ALL"]:
            problems.append(f"{who}/{c['name']}: capabilities must drop ALL")
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(kind) or {}):
                    problems.append(f"{who}/{c['name']}: resources.{kind}.{r} missing")
        image = c.get("image", "")
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            problems.append(f"{who}/{c['name']}: image {image!r} is not pinned by tag")
    return problems


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _prefix_matches(prefix: str, path: str) -> bool:
    """Ingress `Prefix`, Gateway API `PathPrefix`: whole path elements, trailing / ignored."""
    want = _segments(prefix)
    return _segments(path)[: len(want)] == want


def ingress_backend(ingress: dict[str, Any], path: str) -> str | None:
    """The Service an Ingress sends `path` to, or None (not routed).

    Kubernetes' rules: Exact matches the whole path, Prefix whole path
    elements; the longest matching path wins, and an Exact one wins a tie.
    An Ingress cannot see the method, so none is asked for.
    """
    path = path.partition("?")[0]
    best: tuple[tuple[int, bool], str] | None = None
    for rule in ingress["spec"]["rules"]:
        for p in (rule.get("http") or {}).get("paths") or []:
            exact = p["pathType"] == "Exact"
            if (path == p["path"]) if exact else _prefix_matches(p["path"], path):
                rank = (len(p["path"].rstrip("/")), exact)
                if best is None or rank > best[0]:
                    best = (rank, p["backend"]["service"]["name"])
    return best[1] if best else None


def httproute_backend(
    route: dict[str, Any], method: str, path: str, headers: dict[str, str] | None = None
) -> str | None:
    """The Service an HTTPRoute sends a request to, or None (the Gateway answers 404).

    Gateway API precedence among matching rules: an Exact path, then the
    longest PathPrefix, then a method match, then the most header matches.
    Two best matches naming different backends are a problem of the route.
    """
    path = path.partition("?")[0]
    sent = {k.lower(): v for k, v in (headers or {}).items()}
    found: list[tuple[tuple[bool, int, bool, int], str]] = []
    for rule in route["spec"]["rules"]:
        backend = rule["backendRefs"][0]["name"]
        for match in rule.get("matches") or [{}]:
            pm = match.get("path") or {"type": "PathPrefix", "value": "/"}
            if pm["type"] == "Exact":
                if path != pm["value"]:
                    continue
            elif pm["type"] == "PathPrefix":
                if not _prefix_matches(pm["value"], path):
                    continue
            else:
                raise ValueError(f"path match {pm['type']!r} is not simulated")
            if match.get("method", method) != method:
                continue
            wanted = match.get("headers") or []
            if any(sent.get(h["name"].lower()) != h["value"] for h in wanted):
                continue
            rank = (pm["type"] == "Exact", len(pm["value"]), "method" in match, len(wanted))
            found.append((rank, backend))
    if not found:
        return None
    top = max(rank for rank, _ in found)
    backends = {b for rank, b in found if rank == top}
    if len(backends) > 1:
        raise ValueError(f"{method} {path}: equal matches to {sorted(backends)}")
    return backends.pop()
