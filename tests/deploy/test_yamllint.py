"""Every YAML file of the repository passes yamllint (config: .yamllint)."""

from __future__ import annotations

from tests.deploy.conftest import ROOT, run, tool


def test_yamllint_strict() -> None:
    yamllint = tool("yamllint", "yamllint")
    out = run([yamllint, "--strict", "--format", "parsable", "-c", str(ROOT / ".yamllint"), "."])
    assert out.returncode == 0, f"yamllint findings:\n{out.stdout}{out.stderr}"


def test_yamllint_covers_the_deploy_files() -> None:
    # yamllint would pass vacuously if its config skipped our files.
    yamllint = tool("yamllint", "yamllint")
    out = run([yamllint, "--list-files", "-c", str(ROOT / ".yamllint"), "."])
    assert out.returncode == 0, out.stderr
    listed = {line.removeprefix("./") for line in out.stdout.split()}
    for expected in (
        "docker-compose.yml",
        "deploy/prometheus/prometheus.yml",
        "deploy/k8s/base/kustomization.yaml",
        "deploy/k8s/components/monitoring/prometheusrule.yaml",
        "deploy/k8s/overlays/prod/kustomization.yaml",
    ):
        assert expected in listed, f"yamllint does not check {expected}"
