"""The checkers themselves: each one catches a broken manifest.

A validator that accepts everything would let every other test here pass;
these break a good document on purpose and expect a problem report.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.deploy.checks import (
    hardening_problems,
    httproute_backend,
    httproute_rule,
    ingress_backend,
    manifest_problems,
)
from tests.deploy.conftest import find, one, render_everything
from tests.deploy.test_bus_names import nats_size
from tests.deploy.test_observability import metric_problems

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    return render_everything(tmp_path_factory.mktemp("all"))


def broken(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(one(docs, kind, name))


def test_good_documents_pass(everything: Docs) -> None:
    assert manifest_problems(everything) == []


def test_builtin_schema_rejects_unknown_fields_and_bad_types(everything: Docs) -> None:
    dep = broken(everything, "Deployment", "reader")
    dep["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}  # typo
    assert manifest_problems([dep])
    dep = broken(everything, "Deployment", "reader")
    dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "120s"
    assert manifest_problems([dep])
    svc = broken(everything, "Service", "intake")
    del svc["spec"]["ports"][0]["port"]
    assert manifest_problems([svc])


def test_crd_models_reject_what_the_cluster_would(everything: Docs) -> None:
    so = broken(everything, "ScaledObject", "reader")
    so["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 64  # KEDA wants strings
    assert manifest_problems([so])
    so = broken(everything, "ScaledObject", "reader")
    so["spec"]["maxReplicas"] = 5  # the field is maxReplicaCount
    assert manifest_problems([so])
    so = broken(everything, "ScaledObject", "chart")
    del so["spec"]["scaleTargetRef"]
    assert manifest_problems([so])
    rule = broken(everything, "PrometheusRule", "hd-pipeline")
    rule["spec"]["groups"][0]["rules"][0]["labels"] = ["severity", "warning"]
    assert manifest_problems([rule])
    mon = broken(everything, "ServiceMonitor", "hd-api")
    mon["spec"]["endpoints"][0]["honourLabels"] = True
    assert manifest_problems([mon])


def test_structural_checks_reject_broken_cluster_and_route(everything: Docs) -> None:
    cluster = broken(everything, "Cluster", "hd-postgres")
    del cluster["spec"]["instances"]
    assert manifest_problems([cluster])
    cluster = broken(everything, "Cluster", "hd-postgres")
    cluster["spec"]["postgresql"]["parameters"]["max_connections"] = 200
    assert manifest_problems([cluster])
    route = broken(everything, "HTTPRoute", "hd-api")
    route["spec"]["parentRefs"] = []
    assert manifest_problems([route])


@pytest.mark.parametrize(
    "kind, name, path, value",
    [
        ("Cluster", "hd-postgres", ("postgresql", "synchronous", "number"), 3),  # = instances
        ("Cluster", "hd-postgres", ("postgresql", "synchronous", "method"), "quorum"),
        ("Cluster", "hd-postgres", ("affinity", "podAntiAffinityType"), "strict"),
        ("Cluster", "hd-postgres", ("plugins", 0, "isWALArchiver"), "true"),
        ("ScheduledBackup", "hd-postgres-nightly", ("schedule",), "0 2 * * *"),  # 5 fields
        ("ScheduledBackup", "hd-postgres-nightly", ("method",), "barman"),
        ("ScheduledBackup", "hd-postgres-nightly", ("pluginConfiguration",), {}),
        ("ObjectStore", "hd-postgres-backup", ("retentionPolicy",), "30 days"),
        ("ObjectStore", "hd-postgres-backup", ("configuration", "destinationPath"), "backups"),
        ("ObjectStore", "hd-postgres-backup", ("configuration", "serverName"), "hd-postgres"),
        ("HTTPRoute", "hd-api", ("rules", 1, "timeouts", "request"), "3600"),  # no unit
        ("HTTPRoute", "hd-api", ("rules", 1, "timeouts", "request"), "10m"),  # < backendRequest
        ("HTTPRoute", "hd-api", ("rules", 0, "timeout"), {"request": "30s"}),  # typo
    ],
)
def test_structural_checks_catch_backup_replication_and_timeout_mistakes(
    everything: Docs, kind: str, name: str, path: tuple[Any, ...], value: Any
) -> None:
    doc = broken(everything, kind, name)
    node = doc["spec"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert manifest_problems([doc]), f"{kind} {path} = {value!r} went unnoticed"


def test_unknown_kinds_are_not_waved_through(everything: Docs) -> None:
    odd = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert manifest_problems([odd])


@pytest.mark.parametrize(
    "path, value",
    [
        (("securityContext", "runAsNonRoot"), False),
        (("securityContext", "runAsUser"), 0),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}),
        (("enableServiceLinks",), True),
        (("containers", 0, "securityContext", "readOnlyRootFilesystem"), False),
        (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}),
        (("containers", 0, "resources"), {"requests": {"cpu": "1", "memory": "1Gi"}}),
        (("containers", 0, "image"), "registry.example.com/hd-pipeline:latest"),
    ],
)
def test_hardening_check_catches_each_gap(
    everything: Docs, path: tuple[Any, ...], value: Any
) -> None:
    dep = broken(everything, "Deployment", "status")
    node = dep["spec"]["template"]["spec"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert hardening_problems(dep), f"{path} = {value!r} went unnoticed"


def test_promql_checks_catch_typos_and_unknown_metrics() -> None:
    assert metric_problems("sum(rate(hd_events_handled_total[5m])", "x")  # unbalanced
    assert metric_problems("sum(rate(hd_event_handled_total[5m]))", "x")  # no such metric
    assert metric_problems("rate(hd_events_handled_total{outcome=poison}[5m])", "x")
    assert not metric_problems('sum(rate(hd_events_handled_total{outcome="poison"}[5m]))', "x")


def test_nats_sizes_are_binary() -> None:
    assert nats_size("10GB") == nats_size("10G") == 10 * 1024**3
    assert nats_size("1MB") == 1024**2


def test_every_deployment_is_covered(everything: Docs) -> None:
    assert len(find(everything, "Deployment")) == 4


def _ingress(*paths: tuple[str, str, str]) -> dict[str, Any]:
    return {"spec": {"rules": [{"http": {"paths": [
        {"path": p, "pathType": kind, "backend": {"service": {"name": svc}}}
        for p, kind, svc in paths
    ]}}]}}  # fmt: skip


def _route(*rules: tuple[list[dict[str, Any]], str]) -> dict[str, Any]:
    return {"spec": {"rules": [
        {"matches": m, "backendRefs": [{"name": svc, "port": 80}]} for m, svc in rules
    ]}}  # fmt: skip


def test_ingress_routing_follows_kubernetes_precedence() -> None:
    ing = _ingress(("/a", "Exact", "x"), ("/a/", "Prefix", "y"), ("/a/b", "Prefix", "z"))
    assert ingress_backend(ing, "/a") == "x", "an Exact path wins a tie"
    assert ingress_backend(ing, "/a/1?q=2") == "y"
    assert ingress_backend(ing, "/a/b/c") == "z", "the longest prefix wins"
    assert ingress_backend(ing, "/ab") is None, "a prefix matches whole path elements"


def test_httproute_routing_follows_gateway_api_precedence() -> None:
    route = _route(
        ([{"path": {"type": "Exact", "value": "/a"}, "method": "POST"}], "x"),
        ([{"path": {"type": "PathPrefix", "value": "/a"}}], "y"),
        ([{"path": {"type": "PathPrefix", "value": "/a"}, "method": "PUT"}], "z"),
    )
    assert httproute_backend(route, "POST", "/a") == "x", "Exact outranks PathPrefix"
    assert httproute_backend(route, "GET", "/a") == "y", "the method narrows the Exact match"
    assert httproute_backend(route, "PUT", "/a/1") == "z", "a method match outranks none"
    assert httproute_backend(route, "GET", "/b") is None
    headers = _route(
        ([{"path": {"type": "Exact", "value": "/a"},
           "headers": [{"name": "H", "value": "1"}]}], "x"),
        ([{"path": {"type": "Exact", "value": "/a"}}], "y"),
    )  # fmt: skip
    assert httproute_backend(headers, "GET", "/a", {"h": "1"}) == "x", "header names: any case"
    assert httproute_backend(headers, "GET", "/a", {"h": "2"}) == "y"
    regex = _route(
        ([{"path": {"type": "PathPrefix", "value": "/a"}}], "x"),
        ([{"path": {"type": "RegularExpression", "value": "/a/[^/]+/b"}}], "y"),
        ([{"path": {"type": "Exact", "value": "/a/1/b"}}], "z"),
    )
    assert httproute_backend(regex, "GET", "/a/2/b") == "y", "regex above prefix (Envoy GW)"
    assert httproute_backend(regex, "GET", "/a/2/b", regex_above_prefix=False) == "x", "(Istio)"
    assert httproute_backend(regex, "GET", "/a/1/b") == "z", "Exact outranks a regex"
    assert httproute_backend(regex, "GET", "/a/2/b/c") == "x", "a regex matches the whole path"
    ordered = _route(([{"path": {"type": "PathPrefix", "value": "/a"}}], "x"),
                     ([{"path": {"type": "PathPrefix", "value": "/a"}}], "x"))  # fmt: skip
    ordered["spec"]["rules"][1]["timeouts"] = {"request": "1h"}
    rule = httproute_rule(ordered, "GET", "/a")
    assert rule is not None and "timeouts" not in rule, "a tie goes to the first rule"
    twice = _route(([{"path": {"type": "PathPrefix", "value": "/a"}}], "x"),
                   ([{"path": {"type": "PathPrefix", "value": "/a"}}], "y"))  # fmt: skip
    with pytest.raises(ValueError, match="equal matches"):
        httproute_backend(twice, "GET", "/a")
