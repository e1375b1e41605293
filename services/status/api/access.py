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

from nats.js import JetStreamContext

from services.status.store.erasure import is_erased
from services.status.store.pool import Pool
from services.status.store.readings import owner_row
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


async def accepted_request(
    pool: Pool, js: JetStreamContext, reading_id: str, tenant: str | None
) -> StoredEvent | None:
    """The request of a reading PostgreSQL does not show: on the bus, `tenant`'s, not erased."""
    if await is_erased(pool, reading_id):
        return None
    return await owned_request(js, reading_id, tenant)


async def may_see(pool: Pool, js: JetStreamContext, reading_id: str, tenant: str | None) -> bool:
    """Whether `reading_id` exists and belongs to `tenant`."""
    if not plausible_id(reading_id):
        return False
    return await owns(js, reading_id, tenant, await owner_row(pool, reading_id))


async def owns(
    js: JetStreamContext, reading_id: str, tenant: str | None, row: Mapping[str, Any] | None
) -> bool:
    """Whether `tenant` owns the reading, given its `store.readings.OWNER_COLUMNS` (None:
    nothing projected)."""
    if row is not None and row["erased"]:
        return False
    if row is not None and row["known"]:
        return bool(row["tenant"] == tenant)
    return await owned_request(js, reading_id, tenant) is not None
