"""Settings: an invalid environment variable stops start-up with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.settings import LauncherSettings, ReaderSettings, describe_error


@pytest.mark.parametrize(
    ("service", "env", "name"),
    [
        ("intake", {"INTAKE_PORT": "eighty"}, "INTAKE_PORT"),
        ("status", {"STATUS_PORT": "99999"}, "STATUS_PORT"),
        ("chart", {"CHART_BATCH_SIZE": "0"}, "CHART_BATCH_SIZE"),
        ("reader", {"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ],
)
def test_an_invalid_variable_stops_startup_naming_it(
    service: str, env: dict[str, str], name: str, repo_root: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        env={**os.environ, **env}, cwd=repo_root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"invalid setting {name}" in result.stderr


def test_a_bad_secret_is_named_but_never_echoed() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        ReaderSettings(openai_api_key=SecretStr("sk-secret-value"), openai_timeout_s=-1)
    message = describe_error(info.value)
    assert "OPENAI_TIMEOUT_S" in message
    assert "sk-secret-value" not in message


@pytest.mark.parametrize("value", ["chart", "chart=0", "chart=two", "worker=2", "chart=33"])
def test_a_bad_service_replicas_stops_the_launcher_naming_it(value: str, repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.launcher", "--cluster"],
        env={**os.environ, "SERVICE_REPLICAS": value}, cwd=repo_root, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "invalid setting SERVICE_REPLICAS" in result.stderr


def test_service_replicas_override_the_mode_default() -> None:
    settings = LauncherSettings(service_replicas="chart=3, reader=1")
    assert settings.replica_counts(cluster=True) == {
        "intake": 2, "chart": 3, "reader": 1, "status": 2}  # fmt: skip
    assert settings.replica_counts(cluster=False) == {
        "intake": 1, "chart": 3, "reader": 1, "status": 1}  # fmt: skip
