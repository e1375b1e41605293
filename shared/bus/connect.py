"""Connect to NATS with unbounded reconnects and the connection state in a metric.

With `NatsCredentials` the connection logs in as the service's user (see
`shared.bus.permissions`) and checks the server's certificate against
`NATS_TLS_CA_FILE` (`tls://` URLs). Replies come to the service's own inbox
prefix, the only one its user may subscribe to.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

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


def auth_options(url: str, credentials: NatsCredentials | None) -> dict[str, Any]:
    """nats-py `connect` keywords for a user, a password and a private CA (none: empty).

    With a CA, every server's certificate is checked against the host name of the first
    URL: servers the cluster announces later are IP addresses, which certificates
    for `nats` or `*.nats-headless` do not name.
    """
    if credentials is None:
        return {}
    options: dict[str, Any] = {}
    if credentials.user:
        options["user"] = credentials.user
        options["password"] = credentials.password.get_secret_value()
    if credentials.tls_ca_file is not None:
        options["tls"] = ssl.create_default_context(cafile=str(credentials.tls_ca_file))
        servers = server_list(url)
        host = urlsplit(servers[0] if "://" in servers[0] else f"nats://{servers[0]}").hostname
        if host:
            options["tls_hostname"] = host
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
        **auth_options(url, credentials),
    )
    gauge.set(1)
    if credentials is not None and credentials.user:
        log.info("bus connected", user=credentials.user)
    return nc
