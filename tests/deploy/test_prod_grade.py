"""The prod overlay at production grade, as rendered by `kubectl kustomize`.

PostgreSQL can be restored (WAL archive and scheduled base backups through
the Barman Cloud plugin), commits are synchronous, its image is pinned and
its instances spread over nodes; the edge is the Gateway API with long
timeouts for the SSE stream only; the reader stays within the provider's
limits and KEDA's ceiling is derived from them.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from services.reader.providers.openai_provider import EXPECTED_COMPLETION_TOKENS
from shared.settings import ReaderSettings
from tests.deploy.checks import duration_seconds, httproute_rule
from tests.deploy.conftest import effective_env, find, one, settings_fields
from tests.deploy.test_k8s_manifests import APIS, BACKUP_SECRET, PUBLIC_API, WORKERS

Docs = list[dict[str, Any]]
PLUGIN = "barman-cloud.cloudnative-pg.io"
EVENTS = "/v1/readings/r1/events"
SSE = {"Accept": "text/event-stream"}
# Where the Gateway's data plane runs (components/network-policies, README "Edge").
GATEWAY_NAMESPACE = "gateway-system"


@pytest.fixture
def prod(overlays: dict[str, Docs]) -> Docs:
    return overlays["prod"]


def _cluster(docs: Docs) -> dict[str, Any]:
    (cluster,) = find(docs, "Cluster")
    return cluster


def test_postgres_archives_wal_and_backs_up_on_a_schedule(prod: Docs) -> None:
    cluster = _cluster(prod)
    (plugin,) = [p for p in cluster["spec"].get("plugins", []) if p["name"] == PLUGIN]
    assert plugin.get("isWALArchiver") is True, "WAL archiving makes point-in-time recovery"
    store = one(prod, "ObjectStore", plugin["parameters"]["barmanObjectName"])
    conf = store["spec"]["configuration"]
    assert conf["destinationPath"].startswith(("s3://", "gs://", "https://"))
    creds = conf["s3Credentials"]
    for ref in (creds["accessKeyId"], creds["secretAccessKey"]):
        assert ref["key"] in BACKUP_SECRET.get(ref["name"], []), f"credentials from {ref}"
    assert re.fullmatch(r"[1-9][0-9]*[dwm]", store["spec"]["retentionPolicy"])
    (scheduled,) = find(prod, "ScheduledBackup")
    spec = scheduled["spec"]
    assert spec["cluster"]["name"] == cluster["metadata"]["name"]
    assert (spec["method"], spec["pluginConfiguration"]["name"]) == ("plugin", PLUGIN)
    assert spec["immediate"] is True, "recoverable from the first minutes, not the first night"


def test_postgres_commits_are_synchronous(prod: Docs) -> None:
    spec = _cluster(prod)["spec"]
    sync = spec["postgresql"]["synchronous"]
    assert sync["method"] in ("any", "first")
    assert 1 <= sync["number"] < spec["instances"], "a standby to wait for, and one spare"
    assert sync.get("dataDurability", "required") == "required", "RPO 0: no silent downgrade"
    assert spec["instances"] >= 3


def test_postgres_image_is_pinned_and_instances_spread(prod: Docs) -> None:
    spec = _cluster(prod)["spec"]
    image = spec["imageName"]
    assert re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+[^:@]*@sha256:[0-9a-f]{64}", image), (
        f"{image}: an exact PostgreSQL version and a digest"
    )
    affinity = spec["affinity"]
    assert affinity.get("enablePodAntiAffinity", True) is True
    assert affinity["podAntiAffinityType"] == "required", "never two instances on one node"
    assert affinity["topologyKey"] in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")


def test_dev_postgres_has_no_standby_to_wait_for(overlays: dict[str, Docs]) -> None:
    docs = overlays["dev"]
    spec = _cluster(docs)["spec"]
    assert spec["instances"] == 1 and "synchronous" not in spec["postgresql"]
    assert not spec.get("plugins") and not find(docs, "ObjectStore")
    assert not find(docs, "ScheduledBackup")


def _long(timeouts: dict[str, str]) -> bool:
    """Disabled (0s) or at least an hour, both for the request and the backend request."""
    seconds = [duration_seconds(timeouts.get(key, "")) for key in ("request", "backendRequest")]
    return all(key in timeouts for key in ("request", "backendRequest")) and all(
        s == 0 or s >= 3600 for s in seconds
    )


@pytest.mark.parametrize("regex_above_prefix", [True, False], ids=["regex-first", "prefix-first"])
def test_prod_edge_is_an_httproute_with_long_timeouts_for_sse_only(
    prod: Docs, regex_above_prefix: bool
) -> None:
    assert not find(prod, "Ingress"), "ingress-nginx is retired: prod's edge is the Gateway API"
    route = one(prod, "HTTPRoute", "hd-api")
    # An EventSource (it always sends Accept: text/event-stream) gets the long
    # timeouts whichever way the implementation ranks RegularExpression paths.
    sse = httproute_rule(route, "GET", EVENTS, SSE, regex_above_prefix=regex_above_prefix)
    assert sse is not None and _long(sse["timeouts"]), sse
    plain = httproute_rule(route, "GET", EVENTS, regex_above_prefix=regex_above_prefix)
    assert plain is not None
    assert _long(plain["timeouts"]) == regex_above_prefix, "only the regex tells the path alone"
    for method, path, _ in PUBLIC_API:
        if path == EVENTS:
            continue
        rule = httproute_rule(route, method, path, regex_above_prefix=regex_above_prefix)
        assert rule is not None and "timeouts" in rule, f"{method} {path}: implementation default"
        seconds = [duration_seconds(rule["timeouts"][k]) for k in ("request", "backendRequest")]
        assert all(10 <= s <= 60 for s in seconds), f"{method} {path}: {rule['timeouts']}"


def test_network_policies_let_the_gateway_reach_the_apis_only(prod: Docs) -> None:
    policies = find(prod, "NetworkPolicy")
    assert "ingress-nginx" not in str(policies), "no ingress controller is allowed any more"
    reached: dict[str, set[int]] = {}
    for pol in policies:
        for rule in pol["spec"].get("ingress") or []:
            for peer in rule.get("from") or []:
                labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                if labels.get("kubernetes.io/metadata.name") != GATEWAY_NAMESPACE:
                    continue
                sel = pol["spec"]["podSelector"]
                names = set(sel.get("matchLabels", {}).values())
                for expr in sel.get("matchExpressions") or []:
                    names |= set(expr["values"])
                for name in names:
                    reached.setdefault(name, set()).update(p["port"] for p in rule["ports"])
    assert set(reached) == set(APIS), f"the gateway reaches {sorted(reached)}"
    for name, port in APIS.items():
        assert port in reached[name], f"{GATEWAY_NAMESPACE} -> {name}:{port}"
    assert not set(reached) & set(WORKERS)
    route = one(prod, "HTTPRoute", "hd-api")
    assert {p.get("namespace") for p in route["spec"]["parentRefs"]} == {GATEWAY_NAMESPACE}


def test_reader_replicas_fit_the_provider_limits(prod: Docs) -> None:
    """maxReplicaCount x READER_CONCURRENCY <= the calls in flight the limits sustain."""
    env = effective_env(prod, one(prod, "Deployment", "reader"))
    defaults = settings_fields(ReaderSettings)

    def setting(name: str) -> float:
        return float(env.get(name, defaults[name].default))

    rpm, tpm = int(env["READER_RPM"]), int(env["READER_TPM"])
    assert rpm > 0 and tpm > 0, "prod sets the provider's limits"
    window = setting("READER_LIMIT_WINDOW_S")
    concurrency = int(setting("READER_CONCURRENCY"))
    scaled = one(prod, "ScaledObject", "reader")
    notes = scaled["metadata"]["annotations"]
    call_s = float(notes["hd-pipeline/llm-call-seconds"])
    tokens = int(notes["hd-pipeline/llm-tokens-per-call"])
    assert 0 < call_s <= setting("OPENAI_TIMEOUT_S")
    assert tokens >= EXPECTED_COMPLETION_TOKENS, "a call reserves at least its completion"
    calls_per_window = min(rpm, tpm / tokens)
    in_flight = calls_per_window * call_s / window
    ceiling = scaled["spec"]["maxReplicaCount"]
    assert ceiling * concurrency <= max(in_flight, concurrency), (
        f"{ceiling} x {concurrency} calls in flight exceed the {in_flight:.0f} the limits allow"
    )
    assert ceiling == max(1, math.floor(in_flight / concurrency)), (
        "maxReplicaCount is the largest count the limits keep busy (kustomization.yaml)"
    )
    spec = scaled["spec"]
    assert spec["minReplicaCount"] <= spec["fallback"]["replicas"] <= ceiling
