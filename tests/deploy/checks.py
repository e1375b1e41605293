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
STRUCTURAL = {
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    ("barmancloud.cnpg.io/v1", "ObjectStore"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}
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
    if key == ("postgresql.cnpg.io/v1", "ScheduledBackup"):
        return scheduled_backup_problems(doc)
    if key == ("barmancloud.cnpg.io/v1", "ObjectStore"):
        return object_store_problems(doc)
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
    if "imageName" in spec and not isinstance(spec["imageName"], str):
        problems.append(f"{name_of(doc)}: spec.imageName must be a string")
    problems += _cnpg_synchronous_problems(doc, (spec.get("postgresql") or {}).get("synchronous"))
    problems += _cnpg_affinity_problems(doc, spec.get("affinity"))
    for i, plugin in enumerate(spec.get("plugins") or []):
        where = f"{name_of(doc)}: spec.plugins[{i}]"
        if not isinstance(plugin.get("name"), str):
            problems.append(f"{where}.name must be a string")
        if not isinstance(plugin.get("isWALArchiver", False), bool):
            problems.append(f"{where}.isWALArchiver must be a boolean")
        params = plugin.get("parameters") or {}
        if not all(isinstance(v, str) for v in params.values()):
            problems.append(f"{where}.parameters must map strings to strings")
        problems += [f"{where}: unknown field {k}" for k in plugin if k not in CNPG_PLUGIN_FIELDS]
    return problems


CNPG_PLUGIN_FIELDS = {"name", "enabled", "isWALArchiver", "parameters"}
CNPG_SYNCHRONOUS_FIELDS = {"method", "number", "maxStandbyNamesFromCluster", "standbyNamesPre",
                           "standbyNamesPost", "dataDurability", "failoverQuorum"}  # fmt: skip
CNPG_AFFINITY_FIELDS = {"enablePodAntiAffinity", "topologyKey", "nodeSelector", "nodeAffinity",
                        "tolerations", "podAntiAffinityType", "additionalPodAntiAffinity",
                        "additionalPodAffinity"}  # fmt: skip


def _cnpg_synchronous_problems(doc: dict[str, Any], sync: Any) -> list[str]:
    """spec.postgresql.synchronous: `method` and `number` are required when it is there."""
    if sync is None:
        return []
    where = f"{name_of(doc)}: spec.postgresql.synchronous"
    problems = []
    if sync.get("method") not in ("any", "first"):
        problems.append(f"{where}.method must be any or first, got {sync.get('method')!r}")
    number = sync.get("number")
    if not isinstance(number, int) or number < 1:
        problems.append(f"{where}.number must be an integer >= 1, got {number!r}")
    elif isinstance(doc["spec"].get("instances"), int) and number >= doc["spec"]["instances"]:
        problems.append(f"{where}.number {number} needs more than {number} instances")
    if sync.get("dataDurability", "required") not in ("required", "preferred"):
        problems.append(f"{where}.dataDurability must be required or preferred")
    problems += [f"{where}: unknown field {k}" for k in sync if k not in CNPG_SYNCHRONOUS_FIELDS]
    return problems


def _cnpg_affinity_problems(doc: dict[str, Any], affinity: Any) -> list[str]:
    if affinity is None:
        return []
    where = f"{name_of(doc)}: spec.affinity"
    problems = [f"{where}: unknown field {k}" for k in affinity if k not in CNPG_AFFINITY_FIELDS]
    if not isinstance(affinity.get("enablePodAntiAffinity", True), bool):
        problems.append(f"{where}.enablePodAntiAffinity must be a boolean")
    if affinity.get("podAntiAffinityType", "preferred") not in ("preferred", "required"):
        problems.append(f"{where}.podAntiAffinityType must be preferred or required")
    if not isinstance(affinity.get("topologyKey", ""), str):
        problems.append(f"{where}.topologyKey must be a string")
    return problems


# A CloudNativePG cron schedule has six fields: seconds first.
_CRON_FIELD = re.compile(r"^[0-9*/,\-?LW#A-Za-z]+$")


def scheduled_backup_problems(doc: dict[str, Any]) -> list[str]:
    """CloudNativePG ScheduledBackup: schedule, cluster, method and what they require."""
    spec = doc.get("spec") or {}
    who = name_of(doc)
    problems = []
    fields = spec.get("schedule", "").split() if isinstance(spec.get("schedule"), str) else []
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        problems.append(f"{who}: spec.schedule must be a 6-field cron (seconds first)")
    if not isinstance((spec.get("cluster") or {}).get("name"), str):
        problems.append(f"{who}: spec.cluster.name is required")
    method = spec.get("method", "barmanObjectStore")
    if method not in ("barmanObjectStore", "volumeSnapshot", "plugin"):
        problems.append(f"{who}: spec.method {method!r}")
    if method == "plugin" and not isinstance(
        (spec.get("pluginConfiguration") or {}).get("name"), str
    ):
        problems.append(f"{who}: method plugin needs spec.pluginConfiguration.name")
    if spec.get("backupOwnerReference", "none") not in ("none", "self", "cluster"):
        problems.append(f"{who}: spec.backupOwnerReference must be none, self or cluster")
    for flag in ("immediate", "suspend", "online"):
        if not isinstance(spec.get(flag, False), bool):
            problems.append(f"{who}: spec.{flag} must be a boolean")
    known = {"schedule", "cluster", "method", "pluginConfiguration", "backupOwnerReference",
             "immediate", "suspend", "target", "online", "onlineConfiguration"}  # fmt: skip
    problems += [f"{who}: unknown field spec.{k}" for k in spec if k not in known]
    return problems


def object_store_problems(doc: dict[str, Any]) -> list[str]:
    """Barman Cloud plugin ObjectStore: where, with which credentials, kept how long."""
    spec = doc.get("spec") or {}
    who = name_of(doc)
    known = ("configuration", "retentionPolicy", "instanceSidecarConfiguration")
    problems = [f"{who}: unknown field spec.{k}" for k in spec if k not in known]
    conf = spec.get("configuration")
    if not isinstance(conf, dict):
        return [*problems, f"{who}: spec.configuration is required"]
    dest = conf.get("destinationPath")
    if not isinstance(dest, str) or not re.match(r"^(s3|gs)://[^/]+|^https://", dest):
        problems.append(f"{who}: spec.configuration.destinationPath {dest!r} is not a bucket URL")
    if "serverName" in conf:
        problems.append(f"{who}: serverName belongs in the Cluster's plugin parameters")
    creds = [k for k in ("s3Credentials", "googleCredentials", "azureCredentials") if k in conf]
    if len(creds) != 1:
        problems.append(f"{who}: exactly one of s3/google/azure credentials, got {creds}")
    for key, ref in (conf.get("s3Credentials") or {}).items():
        if key in ("accessKeyId", "secretAccessKey", "sessionToken", "region") and not (
            isinstance(ref, dict)
            and isinstance(ref.get("name"), str)
            and isinstance(ref.get("key"), str)
        ):
            problems.append(f"{who}: s3Credentials.{key} must be a Secret name and key")
    policy = spec.get("retentionPolicy")
    if policy is not None and not (
        isinstance(policy, str) and re.match(r"^[1-9][0-9]*[dwm]$", policy)
    ):
        problems.append(f"{who}: spec.retentionPolicy {policy!r} (e.g. 30d)")
    for part in ("wal", "data"):
        compression = (conf.get(part) or {}).get("compression")
        if compression not in (None, "gzip", "bzip2", "snappy", "lz4", "xz", "zstd"):
            problems.append(f"{who}: {part}.compression {compression!r}")
    return problems


# Gateway API Duration (GEP-2257): e.g. 30s, 1h, 1m30s, 500ms; "0s" = no timeout.
GATEWAY_DURATION = re.compile(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")
_DURATION_PART = re.compile(r"([0-9]+)(h|ms|m|s)")
HTTPROUTE_RULE_FIELDS = {"name", "matches", "filters", "backendRefs", "timeouts", "retry",
                         "sessionPersistence"}  # fmt: skip


def duration_seconds(text: str) -> float:
    """A Gateway API Duration in seconds (0 = disabled)."""
    unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(int(n) * unit[u] for n, u in _DURATION_PART.findall(text))


def _timeouts_problems(doc: dict[str, Any], i: int, timeouts: Any) -> list[str]:
    where = f"{name_of(doc)}: rules[{i}].timeouts"
    if not isinstance(timeouts, dict):
        return [f"{where} must be a mapping"]
    problems = [f"{where}: unknown field {k}" for k in timeouts
                if k not in ("request", "backendRequest")]  # fmt: skip
    for key in ("request", "backendRequest"):
        value = timeouts.get(key)
        if value is not None and not (isinstance(value, str) and GATEWAY_DURATION.match(value)):
            problems.append(f"{where}.{key} {value!r} is not a Gateway API Duration")
    request, backend = timeouts.get("request"), timeouts.get("backendRequest")
    if not problems and request and backend:
        limit = duration_seconds(request)
        if limit and duration_seconds(backend) > limit:
            problems.append(f"{where}: backendRequest {backend} is longer than request {request}")
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
        if "timeouts" in rule:
            problems += _timeouts_problems(doc, i, rule["timeouts"])
        problems += [f"{name_of(doc)}: rules[{i}]: unknown field {k}" for k in rule
                     if k not in HTTPROUTE_RULE_FIELDS]  # fmt: skip
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


def httproute_rule(
    route: dict[str, Any],
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    regex_above_prefix: bool = True,
) -> dict[str, Any] | None:
    """The HTTPRoute rule that takes a request, or None (the Gateway answers 404).

    Gateway API precedence among matching rules: an Exact path, then the
    longest PathPrefix, then a method match, then the most header matches;
    on a tie, the first rule in list order. Where a RegularExpression path
    ranks is implementation-specific: above every PathPrefix (Envoy Gateway,
    Contour, kgateway, NGINX Gateway Fabric) or below them (Istio), chosen by
    `regex_above_prefix`. Two best matches naming different backends are a
    problem of the route.
    """
    path = path.partition("?")[0]
    sent = {k.lower(): v for k, v in (headers or {}).items()}
    found: list[tuple[tuple[bool, bool, int, bool, int], int, dict[str, Any]]] = []
    for index, rule in enumerate(route["spec"]["rules"]):
        for match in rule.get("matches") or [{}]:
            pm = match.get("path") or {"type": "PathPrefix", "value": "/"}
            if pm["type"] == "Exact":
                if path != pm["value"]:
                    continue
            elif pm["type"] == "PathPrefix":
                if not _prefix_matches(pm["value"], path):
                    continue
            elif pm["type"] == "RegularExpression":
                if not re.fullmatch(pm["value"], path):
                    continue
            else:
                raise ValueError(f"path match {pm['type']!r} is not simulated")
            if match.get("method", method) != method:
                continue
            wanted = match.get("headers") or []
            if any(sent.get(h["name"].lower()) != h["value"] for h in wanted):
                continue
            regex = pm["type"] == "RegularExpression"
            rank = (
                pm["type"] == "Exact",
                regex if regex_above_prefix else not regex,
                0 if regex else len(pm["value"]),
                "method" in match,
                len(wanted),
            )
            found.append((rank, index, rule))
    if not found:
        return None
    top = max(rank for rank, _, _ in found)
    best = sorted((index, rule) for rank, index, rule in found if rank == top)
    backends = {rule["backendRefs"][0]["name"] for _, rule in best}
    if len(backends) > 1:
        raise ValueError(f"{method} {path}: equal matches to {sorted(backends)}")
    return best[0][1]


def httproute_backend(
    route: dict[str, Any],
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    regex_above_prefix: bool = True,
) -> str | None:
    """The Service an HTTPRoute sends a request to, or None (the Gateway answers 404)."""
    rule = httproute_rule(route, method, path, headers, regex_above_prefix=regex_above_prefix)
    return None if rule is None else str(rule["backendRefs"][0]["name"])
