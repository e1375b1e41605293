"""The OpenAPI 3.1 document of the status service, from the models its handlers answer with."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Final

from pydantic import BaseModel, Field

from services.status.api.erasure import UserReadingsErased
from services.status.api.operations import DeadLetterPage, PipelineView
from services.status.views import ReadingPage, ReadingView
from shared.api_models import (
    IdempotencyKey,
    ReadingAccepted,
    ReadingCancelledAnswer,
    ReadingId,
    RegenerateRequest,
    UserId,
)
from shared.openapi import (
    ACCEPTED_HEADERS,
    RETRY_AFTER,
    Answer,
    Header,
    Operation,
    Param,
    api_errors,
    build_document,
    ops_operations,
    problem_answer,
)

TITLE: Final = "hd-pipeline status"
DESCRIPTION: Final = """\
Follow readings: poll one (`ETag` / `If-None-Match`), stream its progress and text
over Server-Sent Events, list a user's readings, regenerate or cancel one, erase a
user's readings on request, and see the pipeline and its dead letters.

Every `/v1` endpoint needs an API key when `API_KEYS` is configured
(`X-API-Key: <key>` or `Authorization: Bearer <key>`); a key sees only the
readings it created (another key's reading is a 404). Errors are
`application/problem+json` (RFC 9457).
"""

READING_ID: Final = Param("id", "path", ReadingId, "The reading id from the 202 answer.")
IDEMPOTENCY_KEY: Final = Param(
    "Idempotency-Key", "header", IdempotencyKey, "Makes a retry of the command safe."
)
ETAG: Final = Header(str, "Entity tag of this representation; send it as `If-None-Match`.")
NOT_FOUND: Final = problem_answer("No such reading (or not this key's).")
EventId = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,19}(\.[0-9a-f]{1,32}\.[0-9]{1,9})?$",
        description="An SSE event id as this API sent it: `<seq>` for an event of the "
        "stream, `<seq>.<attempt>.<chars>` for live text.",
    ),
]


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


TAGS: Final = {
    "readings": "Read and follow readings.",
    "commands": "Regenerate or cancel a reading.",
    "users": "A user's data: erasure on request.",
    "operations": "The pipeline at a glance, dead letters.",
    "ops": "Health, metrics, documentation.",
}


def operations() -> list[Operation]:
    reading = ("readings",)
    return [
        Operation(
            "GET", "/v1/readings/{id}", "getReading", "A reading: status, progress, chart, text.",
            {200: Answer("The reading.", ReadingView,
                         headers={"ETag": ETAG, "Cache-Control": Header(str, required=False)}),
             304: Answer("Not modified since the `If-None-Match` tag.",
                         headers={"ETag": ETAG}),
             404: NOT_FOUND, **api_errors()},
            reading,
            params=(READING_ID,
                    Param("If-None-Match", "header", str, "The `ETag` of a copy you hold.")),
        ),
        Operation(
            "GET", "/v1/readings/{id}/events", "streamReadingEvents",
            "Live progress and text (Server-Sent Events) until the reading ends.",
            {200: Answer("The event stream: history after `Last-Event-ID`, then live events; "
                         "it closes after `reading.generated`, `reading.failed` or "
                         "`reading.cancelled`.", SseEvent, "text/event-stream"),
             204: Answer("The reading already ended at or before `Last-Event-ID`."),
             404: NOT_FOUND, **api_errors()},
            reading,
            description="`429` also when this key has `SSE_MAX_STREAMS_PER_KEY` streams open.",
            params=(
                READING_ID,
                Param("Last-Event-ID", "header", EventId, "Resume after this event id."),
                Param("last_event_id", "query", EventId,
                      "The same, for clients that cannot set headers."),
            ),
        ),
        Operation(
            "GET", "/v1/readings/{id}/bodygraph.svg", "getBodygraph",
            "The reading's chart drawn as a bodygraph (SVG).",
            {200: Answer("The picture.", str, "image/svg+xml", {"ETag": ETAG}),
             304: Answer("Not modified since the `If-None-Match` tag.",
                         headers={"ETag": ETAG}),
             404: NOT_FOUND,
             409: problem_answer(
                 "No chart yet (try again after `Retry-After`), or the reading failed "
                 "before it had one.", {"Retry-After": Header(RETRY_AFTER.schema,
                                                              required=False)}),
             **api_errors()},
            reading,
            params=(READING_ID,
                    Param("If-None-Match", "header", str, "The `ETag` of a copy you hold.")),
        ),
        Operation(
            "GET", "/v1/readings", "listReadings", "A user's readings, newest first.",
            {200: Answer("One page; pass `next_cursor` as `cursor` for the next.", ReadingPage),
             **api_errors(validation=True)},
            reading,
            params=(
                Param("user_id", "query", UserId, "The `user_id` given at intake.", True),
                Param("limit", "query", Annotated[int, Field(ge=1, le=100)],
                      "Page size (default 20)."),
                Param("cursor", "query", str, "`next_cursor` of the previous page."),
            ),
        ),
        Operation(
            "POST", "/v1/readings/{id}/regenerate", "regenerateReading",
            "Write the reading again as a new version (same birth and chart input).",
            {202: Answer("Accepted: the new version.", ReadingAccepted,
                         headers=ACCEPTED_HEADERS),
             403: problem_answer("`priority: high` is not allowed for this tenant "
                                 "(`PRIORITY_TENANTS`); `errors` names `priority`."),
             404: NOT_FOUND,
             409: problem_answer("The current version has not finished yet (or another "
                                 "regeneration won the race).",
                                 {"Retry-After": Header(RETRY_AFTER.schema, required=False)}),
             **api_errors(body=True, validation=True)},
            ("commands",),
            description="An empty body keeps the agent and language; `priority` is the new "
            "version's (`normal` when omitted).",
            params=(READING_ID, IDEMPOTENCY_KEY),
            body=RegenerateRequest,
            body_required=False,
        ),
        Operation(
            "DELETE", "/v1/readings/{id}", "cancelReading",
            "Cancel the reading's current version.",
            {202: Answer("Cancelled (or already cancelled).", ReadingCancelledAnswer),
             404: NOT_FOUND,
             409: problem_answer("The current version has already finished."),
             **api_errors()},
            ("commands",),
            params=(READING_ID,),
        ),
        Operation(
            "DELETE", "/v1/users/{user_id}/readings", "eraseUserReadings",
            "Erase a user's readings of this key's tenant: readings, charts, versions, "
            "events and dead letters.",
            {200: Answer("Erased: the rows removed of each kind (zeros for an unknown user).",
                         UserReadingsErased),
             **api_errors(validation=True)},
            ("users",),
            description="Only this key's tenant's readings of the user. Erased readings "
            "answer `404` on every route from then on, even while the event stream still "
            "holds their events.",
            params=(Param("user_id", "path", UserId, "The `user_id` given at intake.", True),),
        ),
        Operation(
            "GET", "/v1/pipeline", "getPipeline",
            "Per stage: consumer pending, in flight, redelivered, dead; readings by status; "
            "stage durations.",
            {200: Answer("The pipeline now.", PipelineView), **api_errors()},
            ("operations",),
        ),
        Operation(
            "GET", "/v1/dead-letters", "listDeadLetters",
            "Failed readings and unreadable events, newest first.",
            {200: Answer("One page; pass `next_before` as `before` for the next.",
                         DeadLetterPage),
             **api_errors(validation=True)},
            ("operations",),
            params=(
                Param("limit", "query", Annotated[int, Field(ge=1, le=500)],
                      "Page size (default 50)."),
                Param("before", "query", Annotated[int, Field(ge=1, le=2**63 - 1)],
                      "Only dead letters with a smaller id."),
            ),
        ),
        *ops_operations(),
    ]  # fmt: skip


@functools.cache
def document() -> dict[str, Any]:
    """The status document (built once; callers must not change it)."""
    return build_document(
        title=TITLE,
        description=DESCRIPTION,
        operations=operations(),
        tags=TAGS,
    )
