"""HTTP bodies and parameters both API services use, as the one OpenAPI document shows them.

`POST /v1/readings` (intake) and `POST /v1/readings/{id}/regenerate` (status)
both answer `202 Accepted` with `ReadingAccepted`. The parameter types here
(`ReadingId`, `UserId`, `IdempotencyKey`, `Cursor`, the page sizes) are what the
handlers check, and what `shared/api_document.py` documents.
"""

from __future__ import annotations

from typing import Annotated, Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from shared.auth.stream_token import events_url
from shared.bus.lookup import READING_ID_PATTERN
from shared.events.birth import TEXT_PATTERN
from shared.events.reading_requested import Agent, Language, Priority
from shared.idempotency import KEY_PATTERN, REPLAYED_HEADER

ReadingId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=READING_ID_PATTERN,
        description="A reading id; anything else is answered 404.",
    ),
]
UserId = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=TEXT_PATTERN, description="The caller's user id."),
]
IdempotencyKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=KEY_PATTERN,
        description="1-255 printable ASCII characters (no space at either end) naming one "
        "request of this API key: "
        "a retry with the same key and body answers the same 202 "
        "(`Idempotent-Replayed: true`); the same key with another body is a 409.",
    ),
]


CURSOR_PATTERN: Final = r"^[0-9]{1,17}\.[A-Za-z0-9_-]{1,64}$"
Cursor = Annotated[
    str,
    Field(
        pattern=CURSOR_PATTERN,
        description="A position in a list: `<created_at, microseconds since 1970>.<reading id>`; "
        "the page starts after it (`next_cursor` of the previous page).",
    ),
]
ListLimit = Annotated[int, Field(ge=1, le=100)]


class ReadingAccepted(BaseModel):
    id: str = Field(description="The reading id.")
    version: int = Field(1, ge=1, description="The version this request started.")
    status: str = Field("queued", description="Always `queued` when accepted.")
    status_url: str = Field(description="Poll this (GET) for the reading.")
    events_url: str = Field(
        description="Follow this (SSE) for live progress and text. With the API closed it "
        "carries a short-lived `access_token` for this reading's events alone, so a plain "
        "`EventSource(events_url)` needs no header."
    )


def accepted_response(
    reading_id: str, version: int, base_url: str = "", *, replayed: bool = False,
    request: web.Request | None = None,
) -> web.Response:  # fmt: skip
    """The `202` of a command that started a reading (or its version): where to follow it
    (`events_url` with the caller's stream token when `request` is given and tokens are on)."""
    status_url = f"{base_url}/v1/readings/{reading_id}"
    events = (
        f"{status_url}/events" if request is None else events_url(request, reading_id, base_url)
    )
    body = ReadingAccepted(id=reading_id, version=version, status_url=status_url, events_url=events)
    headers = {"Location": status_url, "Retry-After": "1"}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return web.Response(status=202, text=body.model_dump_json(),
                        content_type="application/json", headers=headers)  # fmt: skip


class RegenerateRequest(BaseModel):
    """Body of `POST /v1/readings/{id}/regenerate`; empty keeps the agent and language."""

    model_config = ConfigDict(extra="forbid")

    agent: Agent | None = None
    language: Language | None = None
    priority: Priority = Field(
        "normal",
        description="Of the new version (not inherited): `high` overtakes `normal` work; "
        "only tenants in PRIORITY_TENANTS may ask for it (else 403).",
    )


class ReadingCancelledAnswer(BaseModel):
    """Answer of `DELETE /v1/readings/{id}`."""

    id: str
    version: int = Field(ge=1, description="The version cancelled.")
    status: str = Field("cancelled")
