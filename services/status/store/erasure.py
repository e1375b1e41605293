"""Erasure's data: a user's readings removed in one transaction, and the tombstones that
keep erased readings erased. The route is `api.erasure` (`DELETE /v1/users/{user_id}/readings`).

The caller's tenant's readings of that user go, with their charts, versions, events
and dead letters, in one transaction; the answer counts the rows removed of each
kind. An unknown user is no error: zeros. Only readings PostgreSQL knows as that
user's are erased: one accepted but not projected yet is not (yet).

The stream keeps the readings' events for up to `STREAM_MAX_AGE_S`, and a reading in
flight may still add some. Both the projection (a late or replayed event upserts its
row again) and the routes' fallback to the bus ("never 404 an accepted reading") would
bring an erased reading back, so each one leaves a tombstone, its id only: the
projection skips its events (`apply_batch`) and no route asks the bus about it
(`api.access`). A tombstone is kept for `STREAM_MAX_AGE_S` plus a day, by then every
event of the reading is gone from the stream, work in flight included; each erasure
removes the older ones (a tombstone is a few bytes, so waiting for the next erasure is
fine).

An erasure and a projection batch exclude each other (a transaction-level advisory
lock: shared by batches, exclusive for an erasure), so a batch that checked the
tombstones before an erasure committed cannot write a row the erasure then misses.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import asyncpg

from shared.api_views import RemovedRows
from shared.bus.topology import DAY_S

ERASURE_LOCK: Final = 0x6864_6572  # "hder": the advisory lock an erasure holds alone


def tombstone_ttl_s(stream_max_age_s: float) -> float:
    """How long an erased reading's tombstone is kept: the stream's age plus a day."""
    return stream_max_age_s + DAY_S


async def hold_off_erasures(conn: asyncpg.Connection) -> None:
    """In a projection's transaction, before it reads tombstones: no erasure until it ends."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", ERASURE_LOCK)


async def tombstoned(conn: asyncpg.Connection, reading_ids: Collection[str]) -> set[str]:
    """Which of `reading_ids` were erased."""
    rows = await conn.fetch(
        "SELECT reading_id FROM erased_readings WHERE reading_id = ANY($1::text[])",
        list(reading_ids),
    )
    return {r["reading_id"] for r in rows}


async def is_erased(pool: asyncpg.Pool, reading_id: str) -> bool:
    """Whether the reading was erased (its tombstone is kept)."""
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "SELECT 1 FROM erased_readings WHERE reading_id = $1", reading_id
        )
    return found is not None


def _erase_sql(with_tenant: bool) -> str:
    # `tenant = $1` or `tenant IS NULL` (auth off), so the (tenant, user_id) index serves.
    tenant = "tenant = $1" if with_tenant else "tenant IS NULL AND $1::text IS NULL"
    return f"""
WITH gone AS (DELETE FROM readings WHERE {tenant} AND user_id = $2 RETURNING id),
tombstones AS (
    INSERT INTO erased_readings (reading_id) SELECT id FROM gone
    ON CONFLICT (reading_id) DO UPDATE SET erased_at = now()),
charts AS (DELETE FROM charts WHERE reading_id IN (SELECT id FROM gone) RETURNING 1),
versions AS (
    DELETE FROM reading_versions WHERE reading_id IN (SELECT id FROM gone) RETURNING 1),
events AS (DELETE FROM reading_events WHERE reading_id IN (SELECT id FROM gone) RETURNING 1),
dead AS (DELETE FROM dead_letters WHERE reading_id IN (SELECT id FROM gone) RETURNING 1)
SELECT (SELECT count(*) FROM gone) AS readings, (SELECT count(*) FROM charts) AS charts,
       (SELECT count(*) FROM versions) AS versions, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM dead) AS dead_letters
"""


_ERASE: Final = {True: _erase_sql(True), False: _erase_sql(False)}


async def erase_user(
    pool: asyncpg.Pool, tenant: str | None, user_id: str, keep_tombstones_s: float
) -> RemovedRows:
    """Remove `tenant`'s readings of `user_id` and everything of them; tombstone each."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)
        row = await conn.fetchrow(_ERASE[tenant is not None], tenant, user_id)
        await conn.execute(
            "DELETE FROM erased_readings WHERE erased_at < now() - make_interval(secs => $1)",
            keep_tombstones_s,
        )
    assert row is not None  # an aggregate query always yields its row
    return RemovedRows(**dict(row))
