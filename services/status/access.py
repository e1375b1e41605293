"""Which readings a tenant may see: its own, and nobody else's (404, never 403).

The tenant is fixed by the reading's `reading.requested`. Once the projection
has that event, PostgreSQL answers; before (a poll racing the projection, or a
chart projected ahead of its request) the request is looked up on the bus.
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
    """The reading's latest `reading.requested` if it belongs to `tenant`."""
    stored = await last_event(js, reading_requested.TYPE, reading_id)
    if stored is None or stored.event.data.tenant != tenant:
        return None
    return stored


# The columns `owns` decides from; a route that reads the reading anyway selects them too.
OWNER_COLUMNS = "r.tenant, r.requested_at IS NOT NULL AS known"


async def may_see(
    pool: asyncpg.Pool, js: JetStreamContext, reading_id: str, tenant: str | None
) -> bool:
    """Whether `reading_id` exists and belongs to `tenant`."""
    if not plausible_id(reading_id):
        return False
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"SELECT {OWNER_COLUMNS} FROM readings r WHERE id = $1", reading_id
        )
    return await owns(js, reading_id, tenant, row)


async def owns(
    js: JetStreamContext, reading_id: str, tenant: str | None, row: Mapping[str, Any] | None
) -> bool:
    """Whether `tenant` owns the reading, given its projected `OWNER_COLUMNS` (or None)."""
    if row is not None and row["known"]:
        return bool(row["tenant"] == tenant)
    return await owned_request(js, reading_id, tenant) is not None
