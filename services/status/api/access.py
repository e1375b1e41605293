"""Which readings a tenant may see: its own, and nobody else's (404, never 403).

The tenant is fixed by the reading's `reading.requested`. Once the projection
has that event, PostgreSQL answers; before (a poll racing the projection, or a
chart projected ahead of its request) the request is looked up on the bus.

An erased reading (`services.status.store.erasure`) is nobody's: its tombstone is
checked before the bus is asked, since the stream may keep its events for days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from nats.js import JetStreamContext

from shared.bus.lookup import StoredEvent, last_event, plausible_id
from shared.events import reading_requested


async def owned_request(
    js: JetStreamContext, reading_id: str, tenant: str | None
) -> StoredEvent | None:
    """The reading's latest `reading.requested` if it belongs to `tenant` (the bus only)."""
    stored = await last_event(js, reading_requested.TYPE, reading_id)
    if stored is None or stored.event.data.tenant != tenant:
        return None
    return stored


async def is_erased(conn: asyncpg.Connection, reading_id: str) -> bool:
    """Whether the reading was erased (its tombstone is kept)."""
    found = await conn.fetchval("SELECT 1 FROM erased_readings WHERE reading_id = $1", reading_id)
    return found is not None


async def accepted_request(
    pool: asyncpg.Pool, js: JetStreamContext, reading_id: str, tenant: str | None
) -> StoredEvent | None:
    """The request of a reading PostgreSQL does not show: on the bus, `tenant`'s, not erased."""
    async with pool.acquire() as conn:
        if await is_erased(conn, reading_id):
            return None
    return await owned_request(js, reading_id, tenant)


# The columns `owns` decides from, where `$1` is the reading id and `r` the reading's row
# (NULLs when there is none); a route that reads the reading anyway selects them too.
OWNER_COLUMNS = (
    "r.tenant, r.requested_at IS NOT NULL AS known, "
    "EXISTS (SELECT 1 FROM erased_readings e WHERE e.reading_id = $1) AS erased"
)


async def may_see(
    pool: asyncpg.Pool, js: JetStreamContext, reading_id: str, tenant: str | None
) -> bool:
    """Whether `reading_id` exists and belongs to `tenant`."""
    if not plausible_id(reading_id):
        return False
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {OWNER_COLUMNS} FROM (SELECT 1) one LEFT JOIN readings r ON r.id = $1",
            reading_id,
        )
    return await owns(js, reading_id, tenant, row)


async def owns(
    js: JetStreamContext, reading_id: str, tenant: str | None, row: Mapping[str, Any] | None
) -> bool:
    """Whether `tenant` owns the reading, given its `OWNER_COLUMNS` (None: nothing projected)."""
    if row is not None and row["erased"]:
        return False
    if row is not None and row["known"]:
        return bool(row["tenant"] == tenant)
    return await owned_request(js, reading_id, tenant) is not None
