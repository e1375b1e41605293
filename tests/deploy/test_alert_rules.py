"""The alerts' unit tests: `promtool test rules` over the PrometheusRule.

The rule groups are taken out of the PrometheusRule into a plain rules file
beside copies of deploy/k8s/components/monitoring/tests/*.yaml, whose cases
feed series in and name which alerts fire (with their labels and rendered
annotations) and which stay quiet. promtool is Prometheus' own evaluator, so
a case that passes here behaves the same in the cluster's Prometheus.

promtool comes from Debian's `prometheus` package: `make promtool` unpacks it
into .venv/bin (no daemon installed). A missing promtool fails, never skips.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import ROOT, find, render_overlay, run

MONITORING = ROOT / "deploy" / "k8s" / "components" / "monitoring"
RULE_FILE = MONITORING / "prometheusrule.yaml"
TESTS_DIR = MONITORING / "tests"

# Alerts written before the rule tests existed and not covered by a case yet.
# Only ever shrinks: a test below fails when an alert here gets both cases.
NOT_YET_TESTED = frozenset({
    "HdConsumerLagGrowing", "HdStageStuck", "HdConsumerStallRecovered", "HdBusDisconnected",
    "HdRetentionStalled", "HdReadingsFailing", "HdDeadLetters", "HdHttpErrors",
    "HdIntakeSlow", "HdApiRateLimited", "HdApiAuthFailures", "HdPodsNotReady",
    "HdScrapeTargetDown",
})  # fmt: skip


def promtool() -> str:
    """promtool from the venv (where `make promtool` puts it) or PATH, or fail saying how."""
    here = Path(sys.executable).parent / "promtool"
    found = str(here) if here.is_file() and os.access(here, os.X_OK) else shutil.which("promtool")
    if found is None:
        pytest.fail(
            "command 'promtool' is missing: `make promtool` unpacks it from Debian's "
            "'prometheus' package into .venv/bin (or: apt-get install prometheus)",
            pytrace=False,
        )
    return found


@cache
def rule_groups() -> list[dict[str, Any]]:
    rule = yaml.safe_load(RULE_FILE.read_text())
    assert rule["kind"] == "PrometheusRule"
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def alert_names() -> set[str]:
    return {r["alert"] for g in rule_groups() for r in g["rules"] if "alert" in r}


def rule_test_files() -> list[Path]:
    files = sorted(TESTS_DIR.glob("*.yaml"))
    assert files, f"no rule tests in {TESTS_DIR}"
    return files


def test_promtool_test_rules(tmp_path: Path) -> None:
    tool = promtool()
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups()}))
    names = []
    for path in rule_test_files():
        spec = yaml.safe_load(path.read_text())
        assert spec["rule_files"] == ["rules.yaml"], f"{path.name}: rule_files must be [rules.yaml]"
        shutil.copy(path, tmp_path / path.name)
        names.append(path.name)
    check = run([tool, "check", "rules", "rules.yaml"], cwd=tmp_path)
    assert check.returncode == 0, f"promtool check rules:\n{check.stdout}{check.stderr}"
    out = run([tool, "test", "rules", *names], cwd=tmp_path, timeout=120)
    assert out.returncode == 0, f"promtool test rules:\n{out.stdout}{out.stderr}"


def test_every_alert_fires_in_one_case_and_stays_quiet_in_another() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in rule_test_files():
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = alert_names()
    assert fires | quiet <= alerts, f"cases for unknown alerts: {sorted((fires | quiet) - alerts)}"
    assert alerts >= NOT_YET_TESTED, f"gone, drop them: {sorted(NOT_YET_TESTED - alerts)}"
    done = NOT_YET_TESTED & fires & quiet
    assert not done, f"tested now, drop them from NOT_YET_TESTED: {sorted(done)}"
    missing = sorted(
        f"{a}: {'' if a in fires else 'no firing case '}{'' if a in quiet else 'no quiet case'}"
        for a in alerts - NOT_YET_TESTED
        if a not in fires or a not in quiet
    )
    assert not missing, "\n".join(missing)


def test_nats_alerts_count_the_statefulsets_servers() -> None:
    rules = {r["alert"]: r for g in rule_groups() for r in g["rules"] if "alert" in r}
    (statefulset,) = find(render_overlay("prod"), "StatefulSet", "nats")
    replicas = statefulset["spec"]["replicas"]
    down = re.fullmatch(
        r"count\(gnatsd_varz_routes\{[^}]*\}\) < (\d+)", rules["HdNatsServerDown"]["expr"].strip()
    )
    assert down and int(down.group(1)) == replicas, "HdNatsServerDown: servers != NATS replicas"
    quorum = re.search(r"< (\d+)", rules["HdNatsQuorumLost"]["expr"])
    assert quorum and int(quorum.group(1)) == replicas // 2 + 1, "HdNatsQuorumLost: not a majority"
    assert f"of {replicas} NATS servers" in rules["HdNatsServerDown"]["annotations"]["summary"]


def test_keda_alert_names_the_scaled_objects() -> None:
    rules = {r["alert"]: r for g in rule_groups() for r in g["rules"] if "alert" in r}
    found = re.search(r'scaledObject=~"([^"]+)"', rules["HdKedaScalerErrors"]["expr"])
    assert found
    docs = render_overlay("prod")
    scaled = {d["metadata"]["name"] for d in find(docs, "ScaledObject")}
    assert set(found.group(1).split("|")) == scaled
