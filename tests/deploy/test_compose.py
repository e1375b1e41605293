"""docker-compose.yml and .env.example, against the compose spec and shared/settings.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import SecretStr, TypeAdapter

from shared.auth import GUARDED_PREFIX
from tests.deploy.conftest import (
    ROOT,
    RUNNER_STOP_OVERHEAD_S,
    SERVICE_PORT_VAR,
    SERVICE_SETTINGS,
    SERVICES,
    all_settings_variables,
    run,
    settings_fields,
    tool,
)

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# Variables that only compose (or the database image) reads, not the services.
COMPOSE_VARIABLES = {
    "POSTGRES_PASSWORD": "password of the PostgreSQL user; compose builds DATABASE_URL from it",
    "HD_IMAGE_TAG": "tag of the locally built image",
}

# Where compose deliberately differs from the settings' defaults, and why.
DELIBERATE = {
    ("*", "NATS_URL"): "the nats service of this compose file",
    ("*", "LOG_FORMAT"): "JSON logs in containers",
    ("status", "DATABASE_URL"): "the postgres service of this compose file",
    ("intake", "STATUS_BASE_URL"): "intake and status are on different host ports",
    ("reader", "DRAIN_TIMEOUT_S"): "drain longer than one LLM call",
    ("reader", "OPENAI_TIMEOUT_S"): "one LLM call shorter than the reader's drain",
}

INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?P<op>:-|:\?)(?P<arg>[^}]*)\}$")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def seconds(duration: str) -> float:
    """A compose duration (`90s`, `2m`, `1m30s`) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"bad duration {duration!r}"
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def test_compose_file_matches_the_compose_spec() -> None:
    checker = tool("check-jsonschema", "check-jsonschema")
    out = run([checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert out.returncode == 0, f"compose spec violations:\n{out.stdout}{out.stderr}"


def test_every_service_has_a_healthcheck() -> None:
    for name, service in load_compose()["services"].items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name}: no healthcheck"


def test_app_services_wait_for_healthy_dependencies_and_check_readyz() -> None:
    services = load_compose()["services"]
    for name in SERVICES:
        service = services[name]
        depends = service.get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on must name conditions"
        assert depends.get("nats", {}).get("condition") == "service_healthy", name
        for dep, spec in depends.items():
            assert spec.get("condition") == "service_healthy", f"{name} -> {dep}"
        assert "build" in service, f"{name}: built from the Dockerfile"
        assert service["command"] == ["python", "-m", f"services.{name}"]
        port = service["environment"][SERVICE_PORT_VAR[name]]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"]), name
    assert services["status"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    nats = " ".join(services["nats"]["healthcheck"]["test"])
    assert "8222" in nats and "js-enabled-only=true" in nats
    assert "--jetstream" in services["nats"]["command"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_app_services_read_exactly_their_settings_with_the_same_defaults() -> None:
    services = load_compose()["services"]
    for name in SERVICES:
        fields = settings_fields(SERVICE_SETTINGS[name])
        env: dict[str, Any] = services[name]["environment"]
        assert set(env) == set(fields), (
            f"{name}: compose sets {sorted(set(env) - set(fields))} that it does not read, "
            f"and misses {sorted(set(fields) - set(env))} (so .env cannot override them)"
        )
        for var, value in env.items():
            if (name, var) in DELIBERATE or ("*", var) in DELIBERATE:
                continue
            m = INTERPOLATION.match(str(value))
            literal = m.group("arg") if m and m.group("op") == ":-" else str(value)
            field = fields[var]
            default = (
                field.default.get_secret_value()
                if isinstance(field.default, SecretStr)
                else field.default
            )
            if default is None:
                assert literal == "", f"{name}.{var}: default is unset, compose has {literal!r}"
                continue
            parsed = TypeAdapter(field.annotation).validate_python(literal)
            if isinstance(parsed, SecretStr):
                parsed = parsed.get_secret_value()
            assert parsed == default, f"{name}.{var}: compose {literal!r} != settings {default!r}"


def test_no_secret_values_in_compose() -> None:
    text = COMPOSE.read_text()
    services = load_compose()["services"]
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert INTERPOLATION.match(password) and ":?" in password, (
        "POSTGRES_PASSWORD is required, never written"
    )
    assert services["reader"]["environment"]["OPENAI_API_KEY"] == "${OPENAI_API_KEY:-}"
    for name in ("intake", "status"):
        assert services[name]["environment"]["API_KEYS"] == "${API_KEYS:-}", (
            f"{name}: API_KEYS comes from .env only (empty = open, development)"
        )
    assert not re.search(r"sk-[A-Za-z0-9]{8,}", text), "an API key in docker-compose.yml"


def test_both_apis_share_their_guard_rails() -> None:
    services = load_compose()["services"]
    intake, status = services["intake"]["environment"], services["status"]["environment"]
    for var in ("API_KEYS", "API_RATE_LIMIT", "API_MAX_BODY_BYTES", "CORS_ORIGINS"):
        assert intake[var] == status[var], f"intake and status differ in {var}"


def test_healthchecks_and_scrapes_need_no_api_key() -> None:
    services = load_compose()["services"]
    for name in SERVICES:
        test = " ".join(services[name]["healthcheck"]["test"])
        paths = re.findall(r"http://127\.0\.0\.1:\d+(/[^'\" ]*)", test)
        assert paths and not [p for p in paths if p.startswith(GUARDED_PREFIX)], name
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        assert not job.get("metrics_path", "/metrics").startswith(GUARDED_PREFIX), job


def test_stop_grace_outlasts_the_drain() -> None:
    services = load_compose()["services"]
    for name in SERVICES:
        env = services[name]["environment"]
        m = INTERPOLATION.match(str(env["DRAIN_TIMEOUT_S"]))
        drain = float(m.group("arg") if m else env["DRAIN_TIMEOUT_S"])
        grace = seconds(services[name]["stop_grace_period"])
        assert grace > drain + RUNNER_STOP_OVERHEAD_S, f"{name}: stop_grace_period {grace} s"
    reader = services["reader"]["environment"]
    llm = INTERPOLATION.match(reader["OPENAI_TIMEOUT_S"])
    assert llm is not None
    assert float(reader["DRAIN_TIMEOUT_S"]) > float(llm.group("arg")), "drain > one LLM call"


def test_prometheus_scrapes_all_four_services() -> None:
    services = load_compose()["services"]
    mounts = " ".join(services["prometheus"]["volumes"])
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in mounts
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    for name in SERVICES:
        port = services[name]["environment"][SERVICE_PORT_VAR[name]]
        assert f"{name}:{port}" in targets, f"prometheus.yml does not scrape {name}:{port}"


def env_example_variables() -> dict[str, str]:
    """Variable -> value of .env.example, set (`NAME=`) or shown commented (`# NAME=`)."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def test_env_example_documents_every_setting_and_nothing_unknown() -> None:
    documented = env_example_variables()
    known = all_settings_variables() | set(COMPOSE_VARIABLES)
    unknown = set(documented) - known
    assert not unknown, f".env.example has variables nothing reads: {sorted(unknown)}"
    missing = all_settings_variables() - set(documented)
    assert not missing, f".env.example does not document {sorted(missing)}"
    # Compose's own ${VAR} references are all documented too.
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", yaml.safe_dump(load_compose())))
    assert referenced <= set(documented), f"undocumented: {sorted(referenced - set(documented))}"


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "OPENAI_API_KEY", "API_KEYS"])
def test_env_example_holds_no_secret_values(name: str) -> None:
    assert env_example_variables()[name] == "", f"{name} must be an empty placeholder"
