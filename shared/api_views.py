"""The bodies the status API answers with: a reading, a page of readings, an erasure, and
one Server-Sent Event.

They live in `shared/` because the one OpenAPI document (`shared/api_document.py`) is
generated from them; the status service builds its answers through the same models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


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
    events_url: str | None = Field(
        None,
        description="Follow this (SSE) for live progress and text; with the API closed it "
        "carries a short-lived `access_token` for this reading's events alone.",
    )


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


class RemovedRows(BaseModel):
    """Rows removed from PostgreSQL, per kind."""

    readings: int = Field(ge=0, description="Readings (status, birth, options).")
    charts: int = Field(ge=0, description="Charts.")
    versions: int = Field(ge=0, description="Reading versions (the texts).")
    events: int = Field(ge=0, description="Events of the readings' history (SSE).")
    dead_letters: int = Field(ge=0, description="Dead letters of the readings.")


class UserReadingsErased(BaseModel):
    """Answer of `DELETE /v1/users/{user_id}/readings`."""

    user_id: str
    removed: RemovedRows


class SseEvent(BaseModel):
    """One Server-Sent Event of `GET /v1/readings/{id}/events` (the OpenAPI 3.1 schema of a
    `text/event-stream` describes each event)."""

    event: str = Field(
        description="The event type: `reading.requested`, `chart.calculated`, "
        "`reading.started`, `reading.delta`, `reading.generated`, `reading.failed`, "
        "`reading.cancelled`; `hello` opens a stream that has no history yet. "
        "`reading.delta` is live text, not stored: place its `text` at its `offset` in the "
        "text so far, and start over when its `attempt` changes; a client that connects or "
        "resumes mid-reading is first sent the text so far."
    )
    data: str = Field(description='JSON: the event\'s data (`hello`: `{"retry_ms": …}`).')
    id: str | None = Field(
        None,
        pattern=r"^[0-9]+(\.[0-9a-f]+\.[0-9]+)?$",
        description="Resume after it (`Last-Event-ID`): the event's stream sequence, or for "
        "live text `<seq>.<attempt>.<chars>` (the text so far is resumed from there).",
    )
    retry: int | None = Field(None, ge=0, description="Reconnection delay hint, in ms.")
