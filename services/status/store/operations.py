"""Reads of the operator endpoints (`api.operations`): readings by status, dead letters
per stage, stage durations over a recent window, and the dead letters themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

_DURATIONS = """
WITH recent AS (
    SELECT EXTRACT(EPOCH FROM chart_at - requested_at) AS chart_s,
           EXTRACT(EPOCH FROM completed_at - chart_at) AS reader_s,
           EXTRACT(EPOCH FROM completed_at - requested_at) AS total_s
    FROM readings WHERE requested_at > now() - make_interval(mins => $1))
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY chart_s) AS chart_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY chart_s) AS chart_p95,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY reader_s) AS reader_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY reader_s) AS reader_p95,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY total_s) AS total_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_s) AS total_p95,
       count(*) AS readings
FROM recent
"""


async def pipeline_counts(
    pool: asyncpg.Pool, window_minutes: int
) -> tuple[dict[str, int], dict[str, int], Mapping[str, Any]]:
    """Readings by status, dead letters by stage, and the stage durations (seconds, p50
    and p95 of chart, reader and total, and `readings`) of the last `window_minutes`."""
    async with pool.acquire() as conn:
        by_status = {r["status"]: r["n"] for r in await conn.fetch(
            "SELECT status, count(*) AS n FROM readings GROUP BY status")}  # fmt: skip
        dead = {r["stage"]: r["n"] for r in await conn.fetch(
            "SELECT stage, count(*) AS n FROM dead_letters GROUP BY stage")}  # fmt: skip
        durations: Mapping[str, Any] = await conn.fetchrow(_DURATIONS, window_minutes)
    return by_status, dead, durations


async def dead_letter_rows(
    pool: asyncpg.Pool, tenant: str | None, *, before: int | None, limit: int
) -> list[Mapping[str, Any]]:
    """Dead letters newest first, at most `limit`, with an id below `before` when given;
    with keys (`tenant`), those of the tenant's own readings only."""
    async with pool.acquire() as conn:
        rows: list[Mapping[str, Any]] = await conn.fetch(
            """SELECT id, stream_seq, subject, reading_id, stage, code, message, raw_excerpt,
                      created_at FROM dead_letters d
               WHERE ($1::bigint IS NULL OR id < $1)
                 -- With keys, a tenant sees the dead letters of its own readings only.
                 AND ($3::text IS NULL OR EXISTS (
                     SELECT 1 FROM readings r WHERE r.id = d.reading_id AND r.tenant = $3))
               ORDER BY id DESC LIMIT $2""",
            before, limit, tenant,
        )  # fmt: skip
    return rows
