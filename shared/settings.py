"""Settings: every environment variable the services read, typed, read once.

No other module reads `os.environ`. Each service subclasses `BaseServiceSettings`
with only its own fields. An invalid value stops start-up with a message that
names the variable (see `load_settings`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DAY_S = 24 * 3600.0
_MAX_RETENTION_S = 10 * 365 * _DAY_S  # a sanity bound on every retention setting


class BaseServiceSettings(BaseSettings):
    """What every service needs: the broker, logging, the drain bound."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="Broker URL(s), comma-separated. `make run` starts an embedded one when unset.",
    )
    nats_connect_timeout_s: float = Field(2.0, gt=0, le=60)
    nats_user: str = Field(
        "",
        description="The service's NATS user (shared/bus/permissions.py); empty = no auth.",
    )
    nats_password: SecretStr = Field(SecretStr(""), description="The NATS user's password.")
    nats_tls_ca_file: Path | None = Field(
        None,
        description="CA bundle that signed the NATS server's certificate (PEM); set with "
        "`tls://` URLs when the CA is not a public one.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: console on a terminal, JSON otherwise."
    )
    drain_timeout_s: float = Field(
        20.0,
        gt=0,
        le=600,
        description="On SIGTERM, how long in-flight work may take before it is released.",
    )
    stream_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas of the stream.")
    stream_max_age_s: float = Field(
        7 * 24 * 3600.0,
        ge=1,
        le=365 * 24 * 3600.0,
        description="How long the stream keeps an event; readings live on in PostgreSQL.",
    )

    @field_validator("nats_tls_ca_file", mode="before")
    @classmethod
    def _empty_ca_file_is_none(cls, value: object) -> object:
        return None if value == "" else value  # `NATS_TLS_CA_FILE=` (compose) = none

    @field_validator("nats_tls_ca_file")
    @classmethod
    def _ca_file_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no such file: {v}")
        return v

    @field_validator("nats_password")
    @classmethod
    def _password_needs_user(cls, v: SecretStr, info: ValidationInfo) -> SecretStr:
        if v.get_secret_value() and not info.data.get("nats_user"):
            raise ValueError("set NATS_USER too: a password alone names no user")
        return v

    def nats_credentials(self) -> NatsCredentials:
        return NatsCredentials(self.nats_user, self.nats_password, self.nats_tls_ca_file)


@dataclass(frozen=True)
class NatsCredentials:
    """How a service proves who it is to NATS and checks the server: user, password, CA."""

    user: str = ""
    password: SecretStr = field(default_factory=lambda: SecretStr(""))  # never in a repr
    tls_ca_file: Path | None = None


class HttpSettings(BaseServiceSettings):
    """Services that serve the public API: where to listen, who may call, how much."""

    http_host: str = "0.0.0.0"  # noqa: S104 - a service in a pod listens on all interfaces
    http_reuseport: bool = Field(
        False,
        description="SO_REUSEPORT: several replicas on one host share the port and the "
        "kernel spreads connections (one per core without a container per replica).",
    )
    ops_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="An extra listener of this replica alone for /healthz, /readyz and "
        "/metrics (0: none): replicas sharing their API port (HTTP_REUSEPORT) are probed "
        "and scraped one by one there.",
    )
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated client keys, each `[tenant=]key` or "
        "`[tenant=]sha256:<hex of the key>`; unset = open (development only).",
    )
    api_rate_limit: str = Field(
        "200/second",
        description="Requests per key per replica, in `limits` notation "
        "(`200/second`, `100/second;5000/minute`); empty = no limit.",
    )
    api_max_body_bytes: int = Field(
        16_384, ge=1024, le=10_485_760, description="Largest request body accepted (413 above)."
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated browser origins allowed to call the API; empty = none.",
    )
    auth_jwks_url: str = Field(
        "",
        description="Browser sign-in: the identity provider's JSON Web Key Set; with it, "
        "`Authorization: Bearer <JWT>` is verified and its `sub` is the user. Empty = none.",
    )
    auth_issuer: str = Field(
        "", validate_default=True, description="The JWTs' `iss` (required with AUTH_JWKS_URL)."
    )
    auth_audience: str = Field(
        "", validate_default=True, description="The JWTs' `aud` (required with AUTH_JWKS_URL)."
    )
    auth_algorithms: str = Field(
        "RS256,ES256",
        description="Signature algorithms accepted, comma-separated; asymmetric only.",
    )
    auth_jwks_cache_s: float = Field(
        300.0, ge=1, le=86_400,
        description="How long the key set is cached; a token naming an unknown key "
        "fetches it again at once (at most every 10 s).",
    )  # fmt: skip
    auth_jwks_timeout_s: float = Field(5.0, gt=0, le=60)
    auth_leeway_s: float = Field(
        30.0, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat."
    )
    auth_tenant: str = Field(
        "users", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$",
        description="The tenant of every signed-in user's readings; an API key of this "
        "tenant (your own backend) sees them all.",
    )  # fmt: skip
    stream_token_secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs the token in `events_url` (the same in intake and "
        "status, at least 32 characters); empty = events_url carries none.",
    )
    stream_token_ttl_s: int = Field(
        3600, ge=60, le=7 * 86_400, description="How long an events_url token is valid."
    )
    priority_tenants: str = Field(
        "",
        description='Comma-separated tenants allowed `"priority": "high"` (others get '
        "403); `*` = every caller, also the open API (no API_KEYS); empty = none.",
    )

    @property
    def priority_tenant_set(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.priority_tenants.split(",") if t.strip())

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, v: SecretStr) -> SecretStr:
        from shared.auth import ApiKeys

        ApiKeys.parse(v.get_secret_value())  # the message names the entry, never the key
        return v

    @field_validator("auth_jwks_url")
    @classmethod
    def _check_jwks_url(cls, v: str) -> str:
        if v and not v.startswith(("https://", "http://")):
            raise ValueError("must be an https:// (or http://) URL")
        return v

    @field_validator("auth_issuer", "auth_audience")
    @classmethod
    def _needed_with_jwks(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("auth_jwks_url") and not v.strip():
            raise ValueError("required with AUTH_JWKS_URL: tokens are checked against it")
        return v.strip()

    @field_validator("auth_algorithms")
    @classmethod
    def _check_algorithms(cls, v: str) -> str:
        from shared.auth.signin import parse_algorithms

        parse_algorithms(v)
        return v

    @field_validator("stream_token_secret")
    @classmethod
    def _check_stream_secret(cls, v: SecretStr) -> SecretStr:
        from shared.auth.stream_token import MIN_SECRET_CHARS

        if v.get_secret_value() and len(v.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"at least {MIN_SECRET_CHARS} characters (e.g. 32 random bytes, "
                             "base64)")  # fmt: skip
        return v

    @field_validator("api_rate_limit")
    @classmethod
    def _check_rate_limit(cls, v: str) -> str:
        from limits import parse_many

        if v.strip():
            try:
                parse_many(v)
            except ValueError:
                raise ValueError("use the limits notation, e.g. 200/second;5000/minute") from None
        return v


class IntakeSettings(HttpSettings):
    intake_port: int = Field(8080, ge=1, le=65535)
    status_base_url: str = Field(
        "",
        description="Public base URL of the status service for Location/SSE links; "
        "empty = same origin (an ingress routes both).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (CIDR) of proxies whose "
        "X-Forwarded-Host/-Proto name the origin of the links intake answers with (the "
        "client's origin, not STATUS_BASE_URL); empty = none (`make run`: 127.0.0.1, its "
        "gateway).",
    )
    publish_timeout_s: float = Field(2.0, gt=0, le=30)
    intake_max_in_flight: int = Field(
        2000,
        ge=1,
        le=100_000,
        description="Requests waiting for JetStream at once; past it intake sheds with 503.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, v: str) -> str:
        from shared.forwarded import parse_trusted_proxies

        parse_trusted_proxies(v)
        return v


class StatusSettings(HttpSettings):
    status_port: int = Field(8081, ge=1, le=65535)
    database_url: SecretStr = Field(SecretStr("postgresql://postgres@127.0.0.1:5432/postgres"))
    database_pool_size: int = Field(10, ge=1, le=200)
    database_outage_grace_s: float = Field(
        60.0, ge=0, le=3600,
        description="How long the database may be unreachable before /readyz says so: a "
        "failover shorter than this keeps the replica serving live events (reads answer 503).",
    )  # fmt: skip
    status_batch_size: int = Field(256, ge=1, le=4096)
    sse_heartbeat_s: float = Field(15.0, gt=0, le=300)
    sse_max_streams_per_key: int = Field(
        100, ge=1, le=100_000, description="Open SSE streams per key per replica (429 above)."
    )
    demo_intake_url: str = Field(
        "",
        description="Base URL of the intake API the demo page (GET /) sends requests to; "
        "empty = the page's own origin (an ingress routes both).",
    )
    inbox_retention_s: float | None = Field(
        None,
        gt=0,
        le=_MAX_RETENTION_S,
        description="How long the projection remembers an applied event's id (the inbox, "
        "its dedup); at least STREAM_MAX_AGE_S, as the stream may redeliver or replay an "
        "event as long as it keeps it. Default: STREAM_MAX_AGE_S plus a day.",
    )
    event_history_retention_s: float = Field(
        30 * _DAY_S,
        gt=0,
        le=_MAX_RETENTION_S,
        description="How long a reading's events are kept for SSE history (reading_events), "
        "by event time; readings, charts and versions are kept until deleted.",
    )
    dead_letter_retention_s: float = Field(
        30 * _DAY_S,
        gt=0,
        le=_MAX_RETENTION_S,
        description="How long dead letters are kept for inspection (GET /v1/dead-letters).",
    )
    retention_interval_s: float = Field(
        300.0, ge=1, le=_DAY_S, description="Seconds between two retention sweeps."
    )
    retention_batch_size: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Rows one DELETE of the retention sweep removes (one short transaction).",
    )

    @field_validator("inbox_retention_s", mode="before")
    @classmethod
    def _empty_inbox_retention_is_default(cls, value: object) -> object:
        return None if value == "" else value  # `INBOX_RETENTION_S=` (compose) = the default

    @field_validator("inbox_retention_s")
    @classmethod
    def _inbox_outlives_the_stream(cls, v: float | None, info: ValidationInfo) -> float | None:
        age = info.data.get("stream_max_age_s")  # absent when itself invalid
        if v is not None and age is not None and v < age:
            raise ValueError(
                f"must be at least STREAM_MAX_AGE_S ({age:.0f} s): the projection's dedup needs "
                "an event's id for as long as the stream can redeliver or replay the event"
            )
        return v

    @field_validator("event_history_retention_s", "dead_letter_retention_s")
    @classmethod
    def _history_outlives_the_dedup_window(cls, v: float) -> float:
        from shared.bus.topology import DUPLICATE_WINDOW_S

        if v < DUPLICATE_WINDOW_S:
            raise ValueError(
                f"must be at least the stream's duplicate window ({DUPLICATE_WINDOW_S:g} s)"
            )
        return v

    @property
    def inbox_retention(self) -> float:
        """Seconds an applied event id is kept: INBOX_RETENTION_S, or the stream's age + a day."""
        if self.inbox_retention_s is not None:
            return self.inbox_retention_s
        return self.stream_max_age_s + _DAY_S


class ChartSettings(BaseServiceSettings):
    chart_ops_port: int = Field(9101, ge=1, le=65535)
    chart_batch_size: int = Field(64, ge=1, le=1024)


class ReaderSettings(BaseServiceSettings):
    reader_ops_port: int = Field(9102, ge=1, le=65535)
    reader_concurrency: int = Field(200, ge=1, le=5000)
    reader_prefetch: int | None = Field(
        None, ge=0, le=5000,
        description="Charts a replica holds ready beyond READER_CONCURRENCY, so a finished "
        "call is followed at once by the next; default: a quarter of READER_CONCURRENCY.",
    )  # fmt: skip
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_s: float = Field(120.0, gt=0, le=3600)
    reader_provider: Literal["auto", "openai", "offline"] = Field(
        "auto", description="`auto`: openai when OPENAI_API_KEY is set, else offline."
    )
    reader_rpm: int = Field(
        0, ge=0, description="LLM calls allowed per window across all replicas; 0 = no limit."
    )
    reader_tpm: int = Field(
        0, ge=0, description="LLM tokens allowed per window across all replicas; 0 = no limit."
    )
    reader_limit_window_s: float = Field(
        60.0, gt=0, le=3600, description="Length of the shared limit window."
    )
    reader_rate_limit_wait_s: float = Field(
        300.0, ge=0, le=3600,
        description="How long one reading waits out the provider's 429s (Retry-After, every "
        "replica held back) and tries again within the same delivery, before the event goes "
        "back to JetStream (a delivery attempt used); 0 = give it back at once.",
    )  # fmt: skip

    @field_validator("reader_prefetch", mode="before")
    @classmethod
    def _empty_prefetch_is_default(cls, value: object) -> object:
        return None if value == "" else value  # `READER_PREFETCH=` (compose) = the default

    @property
    def reader_held(self) -> int:
        """Charts one replica holds at once: its calls plus those waiting for a call slot."""
        prefetch = self.reader_prefetch
        if prefetch is None:
            prefetch = self.reader_concurrency // 4
        return self.reader_concurrency + prefetch


class GatewaySettings(BaseSettings):
    """`make run`'s dev gateway (shared/gateway.py): one origin for the public API."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    gateway_port: int = Field(8000, ge=1, le=65535)
    http_host: str = "0.0.0.0"  # noqa: S104 - like the services it fronts
    intake_port: int = Field(8080, ge=1, le=65535, description="Intake, on 127.0.0.1.")
    status_port: int = Field(8081, ge=1, le=65535, description="Status, on 127.0.0.1.")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"


SERVICE_NAMES = ("intake", "chart", "reader", "status")
CLUSTER_REPLICAS = "intake=2,chart=2,reader=2,status=2"  # `make cluster`'s default


def parse_service_replicas(text: str) -> dict[str, int]:
    """`intake=2,chart=3` -> {"intake": 2, "chart": 3}; a service left out is not in it."""
    counts: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in SERVICE_NAMES:
            known = ", ".join(SERVICE_NAMES)
            raise ValueError(f"{item!r}: use name=count, the name one of {known}")
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"{item!r}: the count must be a whole number") from None
        if not 1 <= count <= 32:
            raise ValueError(f"{item!r}: the count must be between 1 and 32")
        counts[name] = count
    return counts


class LauncherSettings(BaseSettings):
    """What `make run` / `make cluster` read: where the embedded broker and database live,
    and how many processes of each service run."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    data_dir: Path = Path(".data")
    nats_url: str | None = None
    database_url: SecretStr | None = None
    intake_port: int = Field(8080, ge=1, le=65535)
    status_port: int = Field(8081, ge=1, le=65535)
    chart_ops_port: int = Field(9101, ge=1, le=65535)
    reader_ops_port: int = Field(9102, ge=1, le=65535)
    gateway_port: int = Field(
        8000, ge=1, le=65535,
        description="The dev gateway: the public API of both services on one origin.",
    )  # fmt: skip
    embedded_nats_port: int = Field(
        4222, ge=1, le=65535, description="Client port; a cluster's nodes take it and the next."
    )
    embedded_nats_route_port: int = Field(
        6222, ge=1, le=65535, description="`make cluster`: route port of n1 (n2, n3: the next)."
    )
    embedded_nats_monitor_port: int = Field(
        8222, ge=1, le=65535, description="`make cluster`: monitoring port of n1 (n2, n3: next)."
    )
    embedded_nats_auth: bool = Field(
        False,
        description="The embedded NATS with the production accounts and one user per service "
        "(shared/bus/permissions.py), passwords generated at each start.",
    )
    embedded_pg_port: int = Field(5433, ge=1, le=65535)
    service_replicas: str = Field(
        "",
        description="Processes per service, e.g. `intake=2,chart=2,reader=2,status=2`; a "
        f"service left out runs once (`make cluster`: {CLUSTER_REPLICAS} unless set).",
    )
    ops_port_base: int = Field(
        9200,
        ge=0,
        le=65000,
        description="Replicas beyond one per service get ops ports from base+1 up "
        "(0: any free port).",
    )

    @field_validator("service_replicas")
    @classmethod
    def _check_service_replicas(cls, v: str) -> str:
        parse_service_replicas(v)
        return v

    def replica_counts(self, *, cluster: bool) -> dict[str, int]:
        """Processes per service: SERVICE_REPLICAS over the mode's default (1, or 2 each)."""
        default = parse_service_replicas(CLUSTER_REPLICAS) if cluster else {}
        counts = {**default, **parse_service_replicas(self.service_replicas)}
        return {name: counts.get(name, 1) for name in SERVICE_NAMES}


S = TypeVar("S", bound=BaseSettings)


def describe_error(exc: ValidationError) -> str:
    """One line per bad variable: `INTAKE_PORT: Input should be ... (got 'abc')`."""
    lines = []
    for err in exc.errors():
        name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {err['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S]) -> S:
    """Read settings from the environment, or exit 2 naming each bad variable."""
    try:
        return cls()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        raise SystemExit(2) from None
