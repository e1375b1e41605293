"""Settings: an invalid environment variable stops start-up with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.settings import LauncherSettings, ReaderSettings, StatusSettings, describe_error


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


@pytest.mark.parametrize(
    ("env", "name", "why"),
    [
        ({"INBOX_RETENTION_S": "3600"}, "INBOX_RETENTION_S", "STREAM_MAX_AGE_S"),
        ({"STREAM_MAX_AGE_S": "1209600", "INBOX_RETENTION_S": "864000"},
         "INBOX_RETENTION_S", "STREAM_MAX_AGE_S (1209600 s)"),
        ({"INBOX_RETENTION_S": "-1"}, "INBOX_RETENTION_S", "greater than 0"),
        ({"EVENT_HISTORY_RETENTION_S": "-86400"}, "EVENT_HISTORY_RETENTION_S", "greater than 0"),
        ({"EVENT_HISTORY_RETENTION_S": "60"}, "EVENT_HISTORY_RETENTION_S", "duplicate window"),
        ({"DEAD_LETTER_RETENTION_S": "0"}, "DEAD_LETTER_RETENTION_S", "greater than 0"),
        ({"DEAD_LETTER_RETENTION_S": "119"}, "DEAD_LETTER_RETENTION_S", "duplicate window"),
        ({"RETENTION_INTERVAL_S": "0"}, "RETENTION_INTERVAL_S", "greater than or equal to 1"),
        ({"RETENTION_BATCH_SIZE": "-5"}, "RETENTION_BATCH_SIZE", "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_a_retention_that_makes_no_sense_stops_status_naming_it(
    env: dict[str, str], name: str, why: str, repo_root: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.status"],
        env={**os.environ, **env}, cwd=repo_root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    line = next(x for x in result.stderr.splitlines() if f"invalid setting {name}" in x)
    assert why in line


def test_the_inbox_outlives_the_stream_by_default() -> None:
    day = 24 * 3600.0
    assert StatusSettings().inbox_retention == 8 * day  # the stream's 7 days + 1
    assert StatusSettings(stream_max_age_s=30 * day).inbox_retention == 31 * day
    assert StatusSettings(inbox_retention_s="").inbox_retention == 8 * day  # `VAR=` in compose
    assert StatusSettings(inbox_retention_s=10 * day).inbox_retention == 10 * day


def test_nats_credentials_are_checked_and_never_shown(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from shared.settings import ChartSettings

    with pytest.raises(ValidationError) as info:
        ChartSettings(nats_password=SecretStr("pw-CANARY"))  # a password names no user
    assert "invalid setting NATS_PASSWORD" in describe_error(info.value)
    assert "pw-CANARY" not in describe_error(info.value)
    with pytest.raises(ValidationError) as info:
        ChartSettings(nats_tls_ca_file=tmp_path / "absent.crt")
    assert "invalid setting NATS_TLS_CA_FILE" in describe_error(info.value)
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    s = ChartSettings(nats_user="chart", nats_password=SecretStr("pw-CANARY"), nats_tls_ca_file=ca)
    creds = s.nats_credentials()
    assert (creds.user, creds.password.get_secret_value(), creds.tls_ca_file) == (
        "chart", "pw-CANARY", ca)  # fmt: skip
    assert "pw-CANARY" not in repr(creds) and "pw-CANARY" not in repr(s)


@pytest.mark.parametrize(
    ("env", "name", "why"),
    [
        ({"AUTH_JWKS_URL": "https://id.example/jwks.json", "AUTH_AUDIENCE": "api"},
         "AUTH_ISSUER", "required with AUTH_JWKS_URL"),
        ({"AUTH_JWKS_URL": "https://id.example/jwks.json", "AUTH_ISSUER": "https://id.example/"},
         "AUTH_AUDIENCE", "required with AUTH_JWKS_URL"),
        ({"AUTH_JWKS_URL": "file:///etc/jwks.json"}, "AUTH_JWKS_URL", "https://"),
        ({"AUTH_ALGORITHMS": "RS256,HS256"}, "AUTH_ALGORITHMS", "'HS256' is not allowed"),
        ({"AUTH_ALGORITHMS": "none"}, "AUTH_ALGORITHMS", "'none' is not allowed"),
        ({"AUTH_TENANT": "a tenant"}, "AUTH_TENANT", "pattern"),
        ({"STREAM_TOKEN_TTL_S": "10"}, "STREAM_TOKEN_TTL_S", "greater than or equal to 60"),
    ],
)  # fmt: skip
def test_sign_in_settings_that_make_no_sense_stop_intake_naming_them(
    env: dict[str, str], name: str, why: str
) -> None:
    from pydantic import ValidationError

    from shared.settings import IntakeSettings

    with pytest.raises(ValidationError) as info:
        IntakeSettings.model_validate({k.lower(): v for k, v in env.items()})
    line = next(x for x in describe_error(info.value).splitlines() if name in x)
    assert why in line


def test_a_short_stream_token_secret_is_named_but_never_echoed() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        StatusSettings(stream_token_secret=SecretStr("tiny-secret-value"))
    message = describe_error(info.value)
    assert "STREAM_TOKEN_SECRET" in message and "32" in message
    assert "tiny-secret-value" not in message
