"""Connect to NATS with unbounded reconnects and the connection state in a metric."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NATS

from shared.logging import get_logger
from shared.metrics import BUS_CONNECTED

log = get_logger(__name__)


def server_list(url: str) -> list[str]:
    """`NATS_URL` (one URL, or several comma-separated: a cluster) as nats-py takes it."""
    return [u.strip() for u in url.split(",") if u.strip()]


async def connect(url: str, *, service: str, connect_timeout_s: float = 2.0) -> NATS:
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
    )
    gauge.set(1)
    return nc
