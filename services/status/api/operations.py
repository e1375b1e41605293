"""Operator endpoints: the pipeline at a glance, and the dead letters.

`GET /v1/pipeline`: per stage, the JetStream consumer's pending, in-flight
(ack pending), redelivered and dead counts; readings by status; stage
durations (p50/p95) over a recent window. `GET /v1/dead-letters`: failed and
unreadable events with their reason, newest first.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from aiohttp import web
from nats.js import JetStreamContext
from pydantic import BaseModel, Field

from services.status.api.params import int_param
from shared import names
from shared.auth import tenant_of
from shared.bus.topology import CHART, READER, STATUS
from shared.problem import invalid

STAGES = {"chart": CHART.durable, "reader": READER.durable, "status": STATUS.durable}
WINDOW_MINUTES = 15

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


class StageView(BaseModel):
    """One stage's durable consumer; the counts are absent when JetStream did not answer."""

    consumer: str
    available: bool
    pending: int | None = None
    in_flight: int | None = None
    redelivered: int | None = None
    waiting_pulls: int | None = None
    dead: int = Field(description="Readings this stage dead-lettered.")


class Durations(BaseModel):
    """Stage durations in seconds over the last `window_minutes` (null: no data)."""

    window_minutes: int
    readings: int
    chart_p50: float | None
    chart_p95: float | None
    reader_p50: float | None
    reader_p95: float | None
    total_p50: float | None
    total_p95: float | None


class PipelineView(BaseModel):
    """Body of `GET /v1/pipeline`."""

    stages: dict[str, StageView]
    readings_by_status: dict[str, int]
    dead_letters_unreadable: int
    durations_s: Durations


class DeadLetter(BaseModel):
    id: int
    stream_seq: int
    subject: str
    reading_id: str | None
    stage: str
    code: str
    message: str
    raw_excerpt: str | None
    created_at: datetime


class DeadLetterPage(BaseModel):
    """Body of `GET /v1/dead-letters`, newest first; `next_before` pages on."""

    items: list[DeadLetter]
    next_before: int | None


class OperationsApi:
    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext) -> None:
        self._pool = pool
        self._js = js

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/pipeline", self.pipeline),
            web.get("/v1/dead-letters", self.dead_letters),
        ]

    async def pipeline(self, _: web.Request) -> web.Response:
        async with self._pool.acquire() as conn:
            by_status = {r["status"]: r["n"] for r in await conn.fetch(
                "SELECT status, count(*) AS n FROM readings GROUP BY status")}  # fmt: skip
            dead = {r["stage"]: r["n"] for r in await conn.fetch(
                "SELECT stage, count(*) AS n FROM dead_letters GROUP BY stage")}  # fmt: skip
            d = await conn.fetchrow(_DURATIONS, WINDOW_MINUTES)
        stages: dict[str, StageView] = {}
        for stage, durable in STAGES.items():
            try:
                info = await self._js.consumer_info(names.STREAM, durable)
            except Exception:
                stages[stage] = StageView(consumer=durable, available=False,
                                          dead=dead.get(stage, 0))  # fmt: skip
                continue
            stages[stage] = StageView(
                consumer=durable,
                available=True,
                pending=info.num_pending,
                in_flight=info.num_ack_pending,
                redelivered=info.num_redelivered,
                waiting_pulls=info.num_waiting,
                dead=dead.get(stage, 0),
            )
        view = PipelineView(
            stages=stages,
            readings_by_status=by_status,
            dead_letters_unreadable=dead.get("bus", 0),
            durations_s=Durations(
                window_minutes=WINDOW_MINUTES,
                readings=d["readings"],
                **{k: _round(d[k]) for k in ("chart_p50", "chart_p95", "reader_p50",
                                              "reader_p95", "total_p50", "total_p95")},
            ),
        )  # fmt: skip
        return web.Response(text=view.model_dump_json(), content_type="application/json")

    async def dead_letters(self, request: web.Request) -> web.Response:
        errors: list[dict[str, str]] = []
        limit = int_param(request, "limit", 1, 500, errors) or 50
        before = int_param(request, "before", 1, 2**63 - 1, errors)
        if errors:
            return invalid(errors)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT id, stream_seq, subject, reading_id, stage, code, message, raw_excerpt,
                          created_at FROM dead_letters d
                   WHERE ($1::bigint IS NULL OR id < $1)
                     -- With keys, a tenant sees the dead letters of its own readings only.
                     AND ($3::text IS NULL OR EXISTS (
                         SELECT 1 FROM readings r WHERE r.id = d.reading_id AND r.tenant = $3))
                   ORDER BY id DESC LIMIT $2""",
                before, limit + 1, tenant_of(request),
            )  # fmt: skip
        page = DeadLetterPage(
            items=[DeadLetter(**dict(r)) for r in rows[:limit]],
            next_before=rows[limit - 1]["id"] if len(rows) > limit else None,
        )
        return web.Response(text=page.model_dump_json(), content_type="application/json")


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
