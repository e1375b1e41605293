"""Read side: the JSON a client sees for a reading (the queries are `store.readings`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.events.envelope import Envelope
from shared.states import BY_EVENT


class Stages(BaseModel):
    requested_at: datetime | None = None
    chart_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    cancelled_at: datetime | None = None


class ReadingText(BaseModel):
    version: int
    text: str
    provider: str
    model: str
    composed_offline: bool
    agent: str
    language: str
    prompt_version: str
    usage: dict[str, int]
    latency_s: float
    created_at: datetime


class ReadingView(BaseModel):
    id: str
    status: str
    progress: int
    version: int
    user_id: str | None
    agent: str | None
    language: str | None
    created_at: datetime
    updated_at: datetime
    stages: Stages
    birth: dict[str, Any] | None = None
    chart: dict[str, Any] | None = None
    reading: ReadingText | None = None
    error: dict[str, Any] | None = None


class ReadingSummary(BaseModel):
    """One reading in a list (`GET /v1/readings?user_id=`)."""

    id: str
    status: str
    progress: int
    agent: str | None
    language: str | None
    created_at: datetime


class ReadingPage(BaseModel):
    """Body of `GET /v1/readings`: newest first; `next_cursor` is the `cursor` of the next
    page, null on the last."""

    items: list[ReadingSummary]
    next_cursor: str | None


def view_from_request(event: Envelope[Any]) -> ReadingView:
    """What a reading looks like when only its `reading.requested` is known (poll race)."""
    data = event.data
    state = BY_EVENT[event.type]
    return ReadingView(
        id=event.subject, status=state.status, progress=state.rank, version=data.version,
        user_id=data.user_id, agent=data.agent, language=data.language,
        created_at=event.time, updated_at=event.time, stages=Stages(requested_at=event.time),
        birth=data.birth.model_dump(mode="json"),
    )  # fmt: skip
