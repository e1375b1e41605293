"""Reads of the status projection: a reading, its history, a user's readings, its owner.

Every query of a read route is here; the routes (`api`, `web`) shape the answers. A
function that takes a connection runs within the caller's (several reads on one); one
that takes the pool acquires its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from shared.api_views import ReadingText, ReadingView, Stages
from shared.events import reading_cancelled, reading_failed, reading_generated
from shared.events.reading_generated import ReadingGenerated, Usage
from shared.states import TERMINAL_EVENTS

# The columns `api.access.owns` decides from, where `$1` is the reading id and `r` the
# reading's row (NULLs when there is none); a query that reads the reading anyway
# selects them too.
OWNER_COLUMNS = (
    "r.tenant, r.requested_at IS NOT NULL AS known, "
    "EXISTS (SELECT 1 FROM erased_readings e WHERE e.reading_id = $1) AS erased"
)


async def get_reading(
    conn: asyncpg.Connection, reading_id: str, tenant: str | None
) -> ReadingView | None:
    """The reading if it exists and belongs to `tenant` (another tenant's is None too)."""
    row = await conn.fetchrow(
        """SELECT r.*, c.chart, v.version AS v_version, v.text, v.provider, v.model,
                  v.composed_offline, v.agent AS v_agent, v.language AS v_language,
                  v.prompt_version, v.usage, v.latency_s, v.created_at AS v_created_at
           FROM readings r
           LEFT JOIN charts c ON c.reading_id = r.id
           LEFT JOIN reading_versions v ON v.reading_id = r.id AND v.is_current
           WHERE r.id = $1 AND r.tenant IS NOT DISTINCT FROM $2""",
        reading_id,
        tenant,
    )
    if row is None:
        return None
    reading = None
    if row["v_version"] is not None:
        reading = ReadingText(
            version=row["v_version"], text=row["text"], provider=row["provider"],
            model=row["model"], composed_offline=row["composed_offline"], agent=row["v_agent"],
            language=row["v_language"], prompt_version=row["prompt_version"],
            usage=json.loads(row["usage"]), latency_s=row["latency_s"],
            created_at=row["v_created_at"],
        )  # fmt: skip
    return ReadingView(
        id=row["id"], status=row["status"], progress=row["status_rank"],
        version=row["current_version"], user_id=row["user_id"], agent=row["agent"],
        language=row["language"], created_at=row["created_at"], updated_at=row["updated_at"],
        stages=Stages(**{k: row[k] for k in Stages.model_fields}),
        birth=_json(row["birth"]), chart=_json(row["chart"]), reading=reading,
        error=_json(row["error"]),
    )  # fmt: skip


# The same document as `ReadingView`, built by PostgreSQL: a poll is one query and no
# JSON parsing or re-encoding in Python (the chart alone is ~10 kB).
_READING_JSON = """
SELECT json_build_object(
    'id', r.id, 'status', r.status, 'progress', r.status_rank, 'version', r.current_version,
    'user_id', r.user_id, 'agent', r.agent, 'language', r.language,
    'created_at', r.created_at, 'updated_at', r.updated_at,
    'stages', json_build_object(
        'requested_at', r.requested_at, 'chart_at', r.chart_at, 'started_at', r.started_at,
        'completed_at', r.completed_at, 'failed_at', r.failed_at,
        'cancelled_at', r.cancelled_at),
    'birth', r.birth, 'chart', c.chart,
    'reading', CASE WHEN v.version IS NULL THEN NULL ELSE json_build_object(
        'version', v.version, 'text', v.text, 'provider', v.provider, 'model', v.model,
        'composed_offline', v.composed_offline, 'agent', v.agent, 'language', v.language,
        'prompt_version', v.prompt_version, 'usage', v.usage, 'latency_s', v.latency_s,
        'created_at', v.created_at) END,
    'error', r.error)::text
FROM readings r
LEFT JOIN charts c ON c.reading_id = r.id
LEFT JOIN reading_versions v ON v.reading_id = r.id AND v.is_current
WHERE r.id = $1 AND r.tenant IS NOT DISTINCT FROM $2
"""


async def get_reading_json(
    conn: asyncpg.Connection, reading_id: str, tenant: str | None
) -> str | None:
    """The reading as the JSON document of `ReadingView`; None when unknown or not `tenant`'s."""
    body: str | None = await conn.fetchval(_READING_JSON, reading_id, tenant)
    return body


async def history(
    conn: asyncpg.Connection,
    reading_id: str,
    after_seq: int,
    upto_seq: int | None = None,
    *,
    current_version_only: bool = False,
) -> list[tuple[int, str, str]]:
    """(seq, type, data JSON) of the reading's events in (`after_seq`, `upto_seq`], in order.

    `current_version_only`: start at the latest `reading.requested`, so a client that
    connects after a regeneration follows the new version, not the end of the old one.
    """
    rows = await conn.fetch(
        """SELECT seq, type, data::text AS data FROM reading_events
           WHERE reading_id = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq <= $3)
             AND (NOT $4 OR seq >= COALESCE((
                 SELECT max(seq) FROM reading_events
                 WHERE reading_id = $1 AND type = 'reading.requested'
                   AND ($3::bigint IS NULL OR seq <= $3)), 0))
           ORDER BY seq""",
        reading_id,
        after_seq,
        upto_seq,
        current_version_only,
    )
    return [(r["seq"], r["type"], r["data"]) for r in rows]


async def ending_from_rows(
    conn: asyncpg.Connection, reading_id: str
) -> tuple[int, str, str] | None:
    """The terminal event of a finished reading, rebuilt from its rows as (seq, type, data
    JSON): for a client that follows a reading whose event history has expired
    (`EVENT_HISTORY_RETENTION_S`). None when it has not finished."""
    row = await conn.fetchrow(
        """SELECT r.status, r.current_version, r.last_seq, r.error::text AS error, v.text,
                  v.provider, v.model, v.composed_offline, v.agent, v.language,
                  v.prompt_version, v.usage::text AS usage, v.latency_s
           FROM readings r LEFT JOIN reading_versions v
             ON v.reading_id = r.id AND v.version = r.current_version
           WHERE r.id = $1""",
        reading_id,
    )
    if row is None:
        return None
    version, seq = row["current_version"], row["last_seq"]
    if row["status"] == "completed" and row["text"] is not None:
        generated = ReadingGenerated(
            reading_id=reading_id, version=version, text=row["text"], provider=row["provider"],
            model=row["model"], composed_offline=row["composed_offline"], agent=row["agent"],
            language=row["language"], prompt_version=row["prompt_version"],
            usage=Usage.model_validate_json(row["usage"]), latency_s=row["latency_s"],
        )  # fmt: skip
        return seq, reading_generated.TYPE, generated.model_dump_json()
    if row["status"] == "failed":  # as it was projected: stage, code, message
        failed = {"reading_id": reading_id, "version": version, **json.loads(row["error"] or "{}")}
        return seq, reading_failed.TYPE, json.dumps(failed)
    if row["status"] == "cancelled":
        cancelled = {"reading_id": reading_id, "version": version}
        return seq, reading_cancelled.TYPE, json.dumps(cancelled)
    return None


async def ended_at_or_before(conn: asyncpg.Connection, reading_id: str, seq: int) -> bool:
    """Whether the reading's terminal event is at or before `seq` (a finished stream)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM reading_events WHERE reading_id = $1 AND seq <= $2
                   AND type = ANY($3::text[]))""",
            reading_id,
            seq,
            sorted(TERMINAL_EVENTS),
        )
    )


def _json(value: str | None) -> dict[str, Any] | None:
    return json.loads(value) if value is not None else None


async def owner_row(pool: asyncpg.Pool, reading_id: str) -> Mapping[str, Any]:
    """The reading's `OWNER_COLUMNS` (one row even when the reading is unknown)."""
    async with pool.acquire() as conn:
        row: Mapping[str, Any] = await conn.fetchrow(
            f"SELECT {OWNER_COLUMNS} FROM (SELECT 1) one LEFT JOIN readings r ON r.id = $1",
            reading_id,
        )
    return row


# The reading as a command decides on it, with its tombstone (one row even when unknown).
_PROJECTED = f"""
SELECT {OWNER_COLUMNS}, r.user_id, r.agent, r.language, r.birth::text AS birth,
       r.current_version, r.status
FROM (SELECT 1) one LEFT JOIN readings r ON r.id = $1
"""


async def projected_row(pool: asyncpg.Pool, reading_id: str) -> Mapping[str, Any]:
    """The reading as PostgreSQL knows it, for a command: `OWNER_COLUMNS`, user, agent,
    language, birth (JSON text), current version and status; NULLs when unknown."""
    async with pool.acquire() as conn:
        row: Mapping[str, Any] = await conn.fetchrow(_PROJECTED, reading_id)
    return row


# Everything the bodygraph route needs, in one query: who owns the reading, its state,
# and its chart (a chart may be projected before its request, so neither row is assumed).
_BODYGRAPH = f"""
SELECT {OWNER_COLUMNS}, r.id IS NOT NULL AS projected, r.status, r.error::text AS error,
       (SELECT chart::text FROM charts WHERE reading_id = $1) AS chart
FROM (SELECT 1) one LEFT JOIN readings r ON r.id = $1
"""


async def bodygraph_row(pool: asyncpg.Pool, reading_id: str) -> Mapping[str, Any]:
    """`OWNER_COLUMNS`, whether the reading is projected, its status and error (JSON text)
    and its chart (JSON text, or None); one row even when the reading is unknown."""
    async with pool.acquire() as conn:
        row: Mapping[str, Any] = await conn.fetchrow(_BODYGRAPH, reading_id)
    return row


async def chart_json(pool: asyncpg.Pool, reading_id: str) -> str | None:
    """The chart of a reading as JSON text, or None when it is not (yet) projected."""
    async with pool.acquire() as conn:
        chart: str | None = await conn.fetchval(
            "SELECT chart::text FROM charts WHERE reading_id = $1", reading_id
        )
    return chart


async def user_readings(
    pool: asyncpg.Pool,
    tenant: str | None,
    user_id: str,
    *,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[Mapping[str, Any]]:
    """`tenant`'s readings of `user_id`, newest first, at most `limit`, older than `before`
    (created_at, id) when given: id, status, status_rank, agent, language, created_at."""
    async with pool.acquire() as conn:
        rows: list[Mapping[str, Any]] = await conn.fetch(
            """SELECT id, status, status_rank, agent, language, created_at FROM readings
               WHERE tenant IS NOT DISTINCT FROM $5 AND user_id = $1
                 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
               ORDER BY created_at DESC, id DESC LIMIT $4""",
            user_id, before[0] if before else None, before[1] if before else "", limit, tenant,
        )  # fmt: skip
    return rows


async def projected_user(pool: asyncpg.Pool, reading_id: str) -> tuple[bool, str | None]:
    """Whether the reading's request is projected, and its `user_id` if so."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT user_id, requested_at IS NOT NULL AS known FROM readings WHERE id = $1",
            reading_id,
        )
    if row is None or not row["known"]:
        return False, None
    user: str | None = row["user_id"]
    return True, user
