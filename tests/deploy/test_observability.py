"""Alerts and the dashboard: valid PromQL, over metrics that exist.

Every metric name in an alert or a panel must be one shared/metrics.py
exports (with its type's suffixes) or one of the documented external ones
below; a renamed metric then breaks this test instead of silently muting an
alert.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared import names
from tests.deploy.conftest import (
    NAMESPACE,
    ROOT,
    find,
    project_metric_names,
    render_everything,
    require_module,
)

DASHBOARD = ROOT / "deploy" / "grafana" / "pipeline-dashboard.json"

# Metrics from outside the project, by source (documented in deploy/k8s/README.md).
EXTERNAL_METRICS = {
    # prometheus-nats-exporter sidecar of the NATS pods (-jsz=all)
    "jetstream_consumer_num_pending": "nats exporter",
    "jetstream_consumer_num_ack_pending": "nats exporter",
    "jetstream_consumer_num_redelivered": "nats exporter",
    "jetstream_consumer_delivered_stream_seq": "nats exporter",
    "jetstream_stream_total_bytes": "nats exporter",
    "jetstream_stream_limit_bytes": "nats exporter",  # the stream's max_bytes (exporter 0.17+)
    "gnatsd_varz_routes": "nats exporter",  # -varz: cluster routes of the server
    # CloudNativePG's instance exporter (PodMonitor hd-postgres)
    "cnpg_collector_up": "cloudnative-pg",
    "cnpg_collector_sync_replicas": "cloudnative-pg",
    "cnpg_pg_replication_in_recovery": "cloudnative-pg",
    "cnpg_pg_replication_lag": "cloudnative-pg",
    "cnpg_pg_replication_is_wal_receiver_up": "cloudnative-pg",
    # the kubelet (kube-prometheus-stack's kubelet ServiceMonitor)
    "kubelet_volume_stats_used_bytes": "kubelet",
    "kubelet_volume_stats_capacity_bytes": "kubelet",
    # kube-state-metrics
    "kube_deployment_status_replicas_unavailable": "kube-state-metrics",
    # KEDA operator's own metrics
    "keda_scaler_metrics_value": "keda",
    "keda_scaler_detail_errors_total": "keda",  # KEDA 2.14+
    # Prometheus: one per scrape target
    "up": "prometheus",
}
SEVERITIES = {"info", "warning", "critical"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def selectors(expr: str) -> list[tuple[str | None, dict[str, str]]]:
    """Parse PromQL (raises ValueError when invalid); (metric name, equality matchers) pairs."""
    promql = require_module("promql_parser", "promql-parser")
    found: list[tuple[str | None, dict[str, str]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql.VectorSelector):
            eq = {m.name: m.value for m in node.matchers.matchers if m.op == promql.MatchOp.Equal}
            found.append((node.name or eq.get("__name__"), eq))

    promql.walk(promql.parse(expr), visit)
    return found


def metric_problems(expr: str, where: str) -> list[str]:
    try:
        found = selectors(expr)
    except ValueError as exc:
        return [f"{where}: invalid PromQL: {exc}\n{expr}"]
    known = project_metric_names() | set(EXTERNAL_METRICS)
    problems = [f"{where}: unknown metric {name!r}" for name, _ in found if name not in known]
    if not found:
        problems.append(f"{where}: no metric at all")
    return problems


def rules(tmp_path: Path) -> list[dict[str, Any]]:
    docs = render_everything(tmp_path)
    (rule,) = find(docs, "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_alerts_parse_and_use_known_metrics(tmp_path: Path) -> None:
    problems = []
    alerts = rules(tmp_path)
    assert alerts
    for rule in alerts:
        problems += metric_problems(rule["expr"], rule["alert"])
        assert DURATION.match(rule["for"]), f"{rule['alert']}: for {rule['for']!r}"
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        runbook = rule["annotations"]["runbook"]
        doc, _, anchor = runbook.partition("#")
        assert (ROOT / doc).is_file(), f"{rule['alert']}: runbook {doc} missing"
        headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", (ROOT / doc).read_text(), re.M)}
        assert anchor in headings, f"{rule['alert']}: no heading #{anchor} in {doc}"
    assert not problems, "\n".join(problems)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_alerts_cover_what_operations_needs(tmp_path: Path) -> None:
    exprs = {r["alert"]: r["expr"] for r in rules(tmp_path)}
    joined = "\n".join(exprs.values())
    assert "jetstream_consumer_num_pending" in joined, "consumer lag"
    assert re.search(r'outcome=~"failed\|exhausted"', joined), "failed readings"
    llm_errors = r'hd_llm_calls_total\{outcome!~"ok\|cancelled\|filtered"\}'
    assert re.search(llm_errors, joined), "LLM errors"
    assert 'hd_events_handled_total{service="reader"' not in joined, "LLM: no stand-in metric"
    # What stops intake: the stream's fill from NATS itself, NATS servers and
    # routes, PostgreSQL, volumes, KEDA's scalers.
    for metric in ("jetstream_stream_total_bytes", "jetstream_stream_limit_bytes",
                   "gnatsd_varz_routes", "cnpg_collector_up", "cnpg_pg_replication_lag",
                   "kubelet_volume_stats_used_bytes",
                   "keda_scaler_detail_errors_total"):  # fmt: skip
        assert metric in joined, f"no alert on {metric}"
    assert 'outcome="poison"' in joined, "dead letters"
    assert "kube_deployment_status_replicas_unavailable" in joined, "pods not ready"
    assert "hd_requests_rate_limited_total" in joined, "clients refused by the rate limit"
    assert 'hd_http_requests_total{status="401"}' in joined, "clients refused for their key"
    for expr in exprs.values():
        for ns in re.findall(r'namespace="([^"]+)"', expr):
            assert ns == NAMESPACE, f"an alert names namespace {ns!r}"
        for stream in re.findall(r'stream_name="([^"]+)"', expr):
            assert stream == names.STREAM


def dashboard_targets() -> list[tuple[str, str]]:
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    return out


def test_dashboard_is_valid_grafana_json() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and dash["schemaVersion"] >= 36
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    variables = {v["name"] for v in dash["templating"]["list"]}
    for panel in dash["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        uid = (panel.get("datasource") or {}).get("uid")
        if uid:
            assert uid.strip("${}") in variables, f"{panel['title']}: datasource {uid}"


@pytest.mark.parametrize("title_expr", dashboard_targets(), ids=lambda t: t[0])
def test_dashboard_queries_parse_and_use_known_metrics(title_expr: tuple[str, str]) -> None:
    title, expr = title_expr
    # Grafana's interval variables are not PromQL: give them a value.
    concrete = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    problems = metric_problems(concrete, title)
    assert not problems, "\n".join(problems)


def test_dashboard_shows_what_the_issue_asks_for() -> None:
    joined = "\n".join(expr for _, expr in dashboard_targets())
    for metric in ("hd_http_requests_total", "hd_http_request_seconds_bucket",
                   "hd_events_handled_total", "hd_event_handle_seconds_bucket",
                   "hd_handlers_in_flight", "hd_sse_clients", "hd_bus_connected",
                   "jetstream_consumer_num_pending", "hd_requests_rate_limited_total",
                   "hd_idempotent_replays_total"):  # fmt: skip
        assert metric in joined, f"no panel shows {metric}"


def metric_families() -> dict[str, set[str]]:
    """Every metric family of shared/metrics.py -> the series names a panel may use for it."""
    from prometheus_client.metrics import MetricWrapperBase

    from shared import metrics

    families: dict[str, set[str]] = {}
    for obj in vars(metrics).values():
        if isinstance(obj, MetricWrapperBase):
            base, kind = obj._name, obj._type
            if kind == "counter":
                families[base] = {f"{base}_total"}
            elif kind in ("histogram", "summary"):
                families[base] = {f"{base}_{s}" for s in ("bucket", "sum", "count")}
            else:
                families[base] = {base}
    return families


def test_every_hd_metric_family_has_a_panel() -> None:
    used = {name for _, expr in dashboard_targets() for name, _ in selectors(expr.replace(
        "$__rate_interval", "5m").replace("$__interval", "1m")) if name}  # fmt: skip
    families = metric_families()
    assert len(families) >= 30, "shared/metrics.py defines fewer families than expected"
    missing = sorted(base for base, series in families.items() if not series & used)
    assert not missing, f"no dashboard panel shows: {missing}"


def test_metrics_are_defined_only_in_shared_metrics() -> None:
    # The panel check above reads shared/metrics.py: a metric defined elsewhere
    # would escape it.
    define = re.compile(r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*f?[\"']")
    for package in ("shared", "services", "hdq"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "shared" / "metrics.py":
                continue
            text = path.read_text()
            if "prometheus_client" in text:
                assert not define.search(text), f"{path}: a metric outside shared/metrics.py"
