"""Connect to NATS with unbounded reconnects and the connection state in a metric.

With `NatsCredentials` the connection logs in as the service's user (see
`shared.bus.permissions`) and checks the server's certificate against
`NATS_TLS_CA_FILE` (`tls://` URLs). Replies come to the service's own inbox
prefix, the only one its user may subscribe to.
"""

from __future__ import annotations

import ssl
from typing import Any

import nats
from nats.aio.client import Client as NATS

from shared.bus.permissions import inbox_prefix
from shared.logging import get_logger
from shared.metrics import BUS_CONNECTED
from shared.settings import NatsCredentials

log = get_logger(__name__)


def server_list(url: str) -> list[str]:
    """`NATS_URL` (one URL, or several comma-separated: a cluster) as nats-py takes it."""
    return [u.strip() for u in url.split(",") if u.strip()]


def auth_options(credentials: NatsCredentials | None) -> dict[str, Any]:
    """nats-py `connect` keywords for a user, a password and a private CA (none: empty)."""
    if credentials is None:
        return {}
    options: dict[str, Any] = {}
    if credentials.user:
        options["user"] = credentials.user
        options["password"] = credentials.password.get_secret_value()
    if credentials.tls_ca_file is not None:
        options["tls"] = ssl.create_default_context(cafile=str(credentials.tls_ca_file))
    return options


async def connect(
    url: str,
    *,
    service: str,
    connect_timeout_s: float = 2.0,
    credentials: NatsCredentials | None = None,
) -> NATS:
    """Open a connection that keeps reconnecting for as long as the process lives."""
    gauge = BUS_CONNECTED.labels(service)

    async def disconnected() -> None:
        gauge.set(0)
        log.warning("bus disconnected")

    async def reconnected() -> None:
        gauge.set(1)
        log.info("bus reconnected")

    async def error(exc: Exception) -> None:
        log.warning("bus error", error=str(exc))

    nc = await nats.connect(
        servers=server_list(url),
        name=service,
        connect_timeout=connect_timeout_s,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        error_cb=error,
        inbox_prefix=inbox_prefix(service),
        **auth_options(credentials),
    )
    gauge.set(1)
    if credentials is not None and credentials.user:
        log.info("bus connected", user=credentials.user)
    return nc
