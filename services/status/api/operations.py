"""Operator endpoints: the pipeline at a glance, and the dead letters.

`GET /v1/pipeline`: per stage, the JetStream consumer's pending, in-flight
(ack pending), redelivered and dead counts, summed over its priorities, and
under `priorities` each priority's own consumer (chart and reader); readings by status; stage
durations (p50/p95) over a recent window. `GET /v1/dead-letters`: failed and
unreadable events with their reason, newest first.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from nats.js import JetStreamContext
from pydantic import BaseModel, Field

from services.status.api.params import int_param
from services.status.store.operations import dead_letter_rows, pipeline_counts
from services.status.store.pool import Pool
from shared import names
from shared.auth import tenant_of
from shared.bus.topology import CHART, READER, STATUS, ConsumerSpec
from shared.problem import invalid

STAGES: dict[str, ConsumerSpec] = {"chart": CHART, "reader": READER, "status": STATUS}
WINDOW_MINUTES = 15


class LaneView(BaseModel):
    """One priority's durable consumer of a stage; counts absent when JetStream did not answer."""

    consumer: str
    available: bool
    pending: int | None = Field(None, description="In the stream, not yet delivered.")
    in_flight: int | None = Field(None, description="Delivered, not yet acked.")
    redelivered: int | None = None
    waiting_pulls: int | None = None


class StageView(BaseModel):
    """One stage: its counts summed over its priorities (absent when JetStream did not answer
    for one of them), and each priority's consumer."""

    consumer: str = Field(description="The stage's normal-priority consumer.")
    available: bool
    pending: int | None = None
    in_flight: int | None = None
    redelivered: int | None = None
    waiting_pulls: int | None = None
    dead: int = Field(description="Readings this stage dead-lettered.")
    priorities: dict[str, LaneView] | None = Field(
        None,
        description="`high` and `normal`: each priority's queue (chart, reader); absent for "
        "a stage that reads every event whatever its priority (status).",
    )


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
    def __init__(self, pool: Pool, js: JetStreamContext) -> None:
        self._pool = pool
        self._js = js

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/pipeline", self.pipeline),
            web.get("/v1/dead-letters", self.dead_letters),
        ]

    async def pipeline(self, _: web.Request) -> web.Response:
        by_status, dead, d = await pipeline_counts(self._pool, WINDOW_MINUTES)
        stages: dict[str, StageView] = {}
        for stage, spec in STAGES.items():
            lanes = {
                priority: await self._lane(lane)
                for priority, lane in zip(_priorities(spec), spec.lanes, strict=True)
            }
            answered = all(lane.available for lane in lanes.values())

            def total(field: str, lanes: dict[str, LaneView] = lanes) -> int | None:
                values = [getattr(lane, field) for lane in lanes.values()]
                return None if None in values else sum(values)

            stages[stage] = StageView(
                consumer=spec.durable,
                available=answered,
                pending=total("pending"),
                in_flight=total("in_flight"),
                redelivered=total("redelivered"),
                waiting_pulls=total("waiting_pulls"),
                dead=dead.get(stage, 0),
                priorities=lanes if spec.high is not None else None,
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

    async def _lane(self, spec: ConsumerSpec) -> LaneView:
        try:
            info = await self._js.consumer_info(names.STREAM, spec.durable)
        except Exception:
            return LaneView(consumer=spec.durable, available=False)
        return LaneView(
            consumer=spec.durable,
            available=True,
            pending=info.num_pending,
            in_flight=info.num_ack_pending,
            redelivered=info.num_redelivered,
            waiting_pulls=info.num_waiting,
        )

    async def dead_letters(self, request: web.Request) -> web.Response:
        errors: list[dict[str, str]] = []
        limit = int_param(request, "limit", 1, 500, errors) or 50
        before = int_param(request, "before", 1, 2**63 - 1, errors)
        if errors:
            return invalid(errors)
        rows = await dead_letter_rows(self._pool, tenant_of(request), before=before,
                                      limit=limit + 1)  # fmt: skip
        page = DeadLetterPage(
            items=[DeadLetter(**dict(r)) for r in rows[:limit]],
            next_before=rows[limit - 1]["id"] if len(rows) > limit else None,
        )
        return web.Response(text=page.model_dump_json(), content_type="application/json")


def _priorities(spec: ConsumerSpec) -> tuple[str, ...]:
    """The priority of each of `spec.lanes` (high first); `normal` for a single lane."""
    return names.PRIORITIES if spec.high is not None else (names.NORMAL,)


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
