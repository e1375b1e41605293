"""The projection: a batch of events -> PostgreSQL rows, in one transaction.

Idempotent (the inbox keeps every applied event id), monotonic (see
`shared.states`), and order-tolerant: each event upserts what it knows, so a chart
that arrives before its request still lands.

`reading.delta` events (live text) are not projected at all: the text is kept
once, whole, from `reading.generated`, so a reading's rows do not grow with
the number of pieces it was written in. Events of an erased reading
(`services.status.store.erasure`) are recorded in the inbox and project nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.status.store.erasure import hold_off_erasures, tombstoned
from shared import names
from shared.bus.consumer import Delivered, Poison
from shared.events import reading_delta
from shared.states import BY_EVENT

# Which stage timestamp an event sets.
STAGE_COLUMN: dict[str, str] = {
    "reading.requested": "requested_at",
    "chart.calculated": "chart_at",
    "reading.started": "started_at",
    "reading.generated": "completed_at",
    "reading.failed": "failed_at",
    "reading.cancelled": "cancelled_at",
}

_UPSERT_READING = """
INSERT INTO readings AS r (id, user_id, agent, language, status, status_rank, current_version,
    birth, error, requested_at, chart_at, started_at, completed_at, failed_at,
    created_at, updated_at, last_seq, tenant, cancelled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15, now(), $16,
    $17, $18)
ON CONFLICT (id) DO UPDATE SET
    tenant = COALESCE(r.tenant, EXCLUDED.tenant),
    user_id = COALESCE(r.user_id, EXCLUDED.user_id),
    -- A regeneration (a higher version) may change the agent and the language.
    agent = CASE WHEN EXCLUDED.current_version > r.current_version
                 THEN COALESCE(EXCLUDED.agent, r.agent) ELSE COALESCE(r.agent, EXCLUDED.agent) END,
    language = CASE WHEN EXCLUDED.current_version > r.current_version
                    THEN COALESCE(EXCLUDED.language, r.language)
                    ELSE COALESCE(r.language, EXCLUDED.language) END,
    birth = COALESCE(r.birth, EXCLUDED.birth),
    status = CASE WHEN (EXCLUDED.current_version, EXCLUDED.status_rank)
                     > (r.current_version, r.status_rank) THEN EXCLUDED.status ELSE r.status END,
    error = CASE WHEN (EXCLUDED.current_version, EXCLUDED.status_rank)
                     > (r.current_version, r.status_rank) THEN EXCLUDED.error ELSE r.error END,
    status_rank = CASE WHEN (EXCLUDED.current_version, EXCLUDED.status_rank)
                     > (r.current_version, r.status_rank)
                  THEN EXCLUDED.status_rank ELSE r.status_rank END,
    current_version = GREATEST(r.current_version, EXCLUDED.current_version),
    requested_at = COALESCE(r.requested_at, EXCLUDED.requested_at),
    chart_at = COALESCE(r.chart_at, EXCLUDED.chart_at),
    started_at = COALESCE(r.started_at, EXCLUDED.started_at),
    completed_at = COALESCE(r.completed_at, EXCLUDED.completed_at),
    failed_at = COALESCE(r.failed_at, EXCLUDED.failed_at),
    cancelled_at = COALESCE(r.cancelled_at, EXCLUDED.cancelled_at),
    created_at = LEAST(r.created_at, EXCLUDED.created_at),
    updated_at = now(),
    last_seq = GREATEST(r.last_seq, EXCLUDED.last_seq)
"""

# History for SSE, every event as it stood in the stream (but deltas). An event that
# comes after the reading's terminal event is stored too (batches may commit out of
# order, and a replay must rebuild the same rows) but never served: SSE ends there.
_INSERT_EVENT = """
INSERT INTO reading_events (seq, reading_id, type, time, data)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (seq) DO NOTHING
"""

_INSERT_CHART = """
INSERT INTO charts (reading_id, chart, duration_s, computed_at) VALUES ($1, $2::jsonb, $3, $4)
ON CONFLICT (reading_id) DO NOTHING
"""

_RETIRE_VERSIONS = """
UPDATE reading_versions SET is_current = false
WHERE reading_id = $1 AND version < $2 AND is_current
"""

_INSERT_VERSION = """
INSERT INTO reading_versions (reading_id, version, is_current, text, provider, model,
    composed_offline, agent, language, prompt_version, usage, latency_s, created_at)
SELECT $1, $2, NOT EXISTS (SELECT 1 FROM reading_versions WHERE reading_id = $1 AND version > $2),
       $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12
ON CONFLICT (reading_id, version) DO NOTHING
"""

_INSERT_DEAD = """
INSERT INTO dead_letters (stream_seq, subject, reading_id, stage, code, message, raw_excerpt)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (stream_seq) DO NOTHING
"""

RAW_EXCERPT_BYTES = 512


async def apply_batch(pool: asyncpg.Pool, batch: Sequence[Delivered]) -> None:
    """Apply every event of `batch` not applied before, in one transaction.

    Rows are written in reading-id order (stream order within a reading), so two
    batches applied at once by two replicas or two slots lock rows in the same
    order and cannot deadlock.
    """
    batch = sorted(
        (d for d in batch if d.event.type != reading_delta.TYPE),
        key=lambda d: (d.event.subject, d.stream_seq),
    )
    if not batch:
        return
    async with pool.acquire() as conn, conn.transaction():
        # First, before any row is touched: an erasure waits for this batch, and this
        # batch for an erasure under way, so no tombstone is added until it commits.
        await hold_off_erasures(conn)
        fresh_ids = {
            r["event_id"]
            for r in await conn.fetch(
                """INSERT INTO inbox (event_id, stream_seq)
                   SELECT * FROM unnest($1::text[], $2::bigint[])
                   ON CONFLICT DO NOTHING RETURNING event_id""",
                [d.event.id for d in batch],
                [d.stream_seq for d in batch],
            )
        }
        fresh = [d for d in batch if d.event.id in fresh_ids]
        if fresh:
            erased = await tombstoned(conn, {d.event.subject for d in fresh})
            fresh = [d for d in fresh if d.event.subject not in erased]
        if not fresh:
            return
        await conn.executemany(
            _INSERT_EVENT,
            [
                (d.stream_seq, d.event.subject, d.event.type, d.event.time,
                 d.event.data.model_dump_json())
                for d in fresh
            ],
        )  # fmt: skip
        await conn.executemany(
            _UPSERT_READING, [_reading_row(d) for d in fresh if d.event.type in BY_EVENT]
        )
        charts = [d for d in fresh if d.event.type == "chart.calculated"]
        if charts:
            await conn.executemany(
                _INSERT_CHART,
                [
                    (d.event.subject, d.event.data.chart.model_dump_json(),
                     d.event.data.duration_s, d.event.time)
                    for d in charts
                ],
            )  # fmt: skip
        versions = [d for d in fresh if d.event.type == "reading.generated"]
        if versions:
            await conn.executemany(
                _RETIRE_VERSIONS, [(d.event.subject, d.event.data.version) for d in versions]
            )
            await conn.executemany(_INSERT_VERSION, [_version_row(d) for d in versions])
        failures = [d for d in fresh if d.event.type == "reading.failed"]
        if failures:
            await conn.executemany(
                _INSERT_DEAD,
                [
                    (d.stream_seq, f"hd.reading.failed.{d.event.subject}", d.event.subject,
                     d.event.data.stage, d.event.data.code, d.event.data.message, None)
                    for d in failures
                ],
            )  # fmt: skip


async def record_poison(pool: asyncpg.Pool, poison: Poison) -> None:
    """Keep an event nobody can read, with the reason and the start of its bytes (not for
    an erased reading: its bytes may hold what was erased)."""
    parsed = names.parse_subject(poison.subject)
    reading_id = parsed[1] if parsed is not None else None
    excerpt = poison.raw[:RAW_EXCERPT_BYTES].decode("utf-8", errors="replace")
    async with pool.acquire() as conn, conn.transaction():
        await hold_off_erasures(conn)
        if reading_id is not None and await tombstoned(conn, [reading_id]):
            return
        await conn.execute(
            _INSERT_DEAD, poison.stream_seq, poison.subject, reading_id, "bus", poison.code,
            poison.reason, excerpt.replace("\x00", "\\x00"),
        )  # fmt: skip


def _version(d: Delivered) -> int:
    version: int = d.event.data.version
    return version


def _reading_row(d: Delivered) -> tuple[Any, ...]:
    e = d.event
    state = BY_EVENT[e.type]
    stamps: dict[str, datetime | None] = dict.fromkeys(STAGE_COLUMN.values())
    stamps[STAGE_COLUMN[e.type]] = e.time
    data = e.data
    birth = data.birth.model_dump_json() if e.type == "reading.requested" else None
    error = (
        json.dumps({"code": data.code, "message": data.message, "stage": data.stage})
        if e.type == "reading.failed"
        else None
    )
    return (
        e.subject, getattr(data, "user_id", None), getattr(data, "agent", None),
        getattr(data, "language", None), state.status, state.rank, _version(d), birth, error,
        stamps["requested_at"], stamps["chart_at"], stamps["started_at"],
        stamps["completed_at"], stamps["failed_at"], e.time, d.stream_seq,
        getattr(data, "tenant", None) if e.type == "reading.requested" else None,
        stamps["cancelled_at"],
    )  # fmt: skip


def _version_row(d: Delivered) -> tuple[Any, ...]:
    g = d.event.data
    return (
        g.reading_id, g.version, g.text, g.provider, g.model, g.composed_offline, g.agent,
        g.language, g.prompt_version, g.usage.model_dump_json(), g.latency_s, d.event.time,
    )  # fmt: skip
