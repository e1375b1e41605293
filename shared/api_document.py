"""The one public API document: OpenAPI 3.1 of intake's and status's `/v1` operations.

Both services serve this same document at `GET /openapi.json`, and it is committed as
`docs/openapi.json` (`make openapi` rewrites it: `python -m shared.api_document`; a
test fails when the committed file is out of date). Its schemas are generated from
the pydantic models and parameter types the handlers check with (`shared/api_models.py`,
`shared/reading_request.py`, `shared/api_views.py`).

- `servers` is the API's one origin, `{origin}` (default `DEV_ORIGIN`, `make run`'s dev
  gateway): it routes each path to its service (`shared/routes.py`, as the Kubernetes
  HTTPRoute does). Not `/`: a client that read the document from one service would
  then call that service for the other's paths.
- Each operation names the service that serves it (`x-service`: `intake` or `status`);
  `SERVICES` is that routing table, by (method, path).
- The `202` of `POST /v1/readings` and of `regenerate` link to what a client does with
  the reading next: read it, follow its events, draw its bodygraph, regenerate, cancel
  (OpenAPI `links`, which client generators and stateful testers follow).
- Not public, so not in it: each process's ops endpoints (`/healthz`, `/readyz`,
  `/metrics`), `/openapi.json` and `/docs` (no key), and status's operator endpoints
  (`OPERATOR_PATHS`: `/v1/pipeline`, `/v1/dead-letters`, behind the key), which the
  edge does not route.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from shared.api_models import (
    Cursor,
    IdempotencyKey,
    ListLimit,
    ReadingAccepted,
    ReadingCancelledAnswer,
    ReadingId,
    RegenerateRequest,
    UserId,
)
from shared.api_views import ReadingPage, ReadingView, SseEvent, UserReadingsErased
from shared.events.birth import EPHEMERIS, FIRST_SUPPORTED_DATE, LAST_SUPPORTED_DATE
from shared.openapi import (
    ACCEPTED_HEADERS,
    RETRY_AFTER,
    Answer,
    Header,
    Link,
    Operation,
    Param,
    api_errors,
    build_document,
    problem_answer,
)
from shared.reading_request import ReadingRequest

INTAKE: Final = "intake"
STATUS: Final = "status"
COMMITTED: Final = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
"""Where the document is committed (`make openapi` writes it)."""

TITLE: Final = "hd-pipeline API"
DESCRIPTION: Final = """\
Birth data in, a Human Design chart and an AI-written reading out.

Submit a reading (`POST /v1/readings`): the answer is `202 Accepted` as soon as the
request is durable on the event bus. Then follow it: poll it (`ETag` /
`If-None-Match`), stream its progress and text over Server-Sent Events, draw its
bodygraph, regenerate it as a new version, or cancel it; the `202`'s links name each of
these. List a user's readings, and erase a user's readings on request.

Every operation needs an API key when `API_KEYS` is configured (`X-API-Key: <key>` or
`Authorization: Bearer <key>`); a key sees only the readings it created (another key's
reading is a 404). Errors are `application/problem+json` (RFC 9457); a `422` names
each invalid field.

One origin serves every path (`x-service` names the service behind each operation:
`intake` or `status`); intake and status each serve this same document at
`/openapi.json`.
"""

TAGS: Final = {
    "readings": "Submit, read and follow readings.",
    "commands": "Regenerate or cancel a reading.",
    "users": "A user's data: erasure on request.",
}
DEV_ORIGIN: Final = "http://127.0.0.1:8000"
"""`make run`'s dev gateway (`GATEWAY_PORT`), the default of the `origin` variable."""
SERVERS: Final = (
    {
        "url": "{origin}",
        "description": "The API's one origin, which routes each path to its service: the "
        "HTTPRoute's host in production, the dev gateway of `make run` here.",
        "variables": {"origin": {"default": DEV_ORIGIN, "description": "scheme://host[:port]"}},
    },
)

READING_ID: Final = Param("id", "path", ReadingId, "The reading id from the 202 answer.")
IDEMPOTENCY_KEY: Final = Param(
    "Idempotency-Key",
    "header",
    IdempotencyKey,
    "Makes a retry safe: the same key and body answer the same 202 while the event stream "
    "keeps the request (7 days).",
)
IF_NONE_MATCH: Final = Param("If-None-Match", "header", str, "The `ETag` of a copy you hold.")
ETAG: Final = Header(str, "Entity tag of this representation; send it as `If-None-Match`.")
NOT_FOUND: Final = problem_answer("No such reading (or not this key's).")
LAST_EVENT_ID_NOTE: Final = (
    "`<seq>` (an event of the stream) or `<seq>.<attempt>.<chars>` (live text) as this "
    "API sent it; anything else starts from the beginning."
)

FOLLOW_UP: Final[Mapping[str, Link]] = {
    "GetReading": Link("getReading", {"id": "$response.body#/id"}, "Poll the reading."),
    "StreamReadingEvents": Link(
        "streamReadingEvents", {"id": "$response.body#/id"}, "Follow it live (SSE)."
    ),
    "GetBodygraph": Link(
        "getBodygraph", {"id": "$response.body#/id"}, "Its chart as a bodygraph, once computed."
    ),
    "RegenerateReading": Link(
        "regenerateReading", {"id": "$response.body#/id"}, "A new version, once it finished."
    ),
    "CancelReading": Link("cancelReading", {"id": "$response.body#/id"}, "Cancel it."),
}
"""Where the `202` of a command that started a reading (or its version) leads."""


def accepted(description: str) -> Answer:
    return Answer(description, ReadingAccepted, headers=ACCEPTED_HEADERS, links=FOLLOW_UP)


def operations() -> list[Operation]:
    reading = ("readings",)
    return [
        Operation(
            "POST", "/v1/readings", "createReading", "Request a chart and a reading.",
            {202: accepted("Accepted: durable on the bus."),
             403: problem_answer("`priority: high` is not allowed for this tenant "
                                 "(`PRIORITY_TENANTS`), or a signed-in user named another "
                                 "`user_id`; `errors` names the field."),
             409: problem_answer("The `Idempotency-Key` was used before, for another body."),
             **api_errors(body=True, validation=True)},
            reading,
            description="`birth.place` is coordinates or a name (resolved offline); "
            f"`birth.date` from {FIRST_SUPPORTED_DATE} to {LAST_SUPPORTED_DATE} (the range "
            f"supported with the {EPHEMERIS} ephemeris). A 422 names each invalid field. "
            "A signed-in user's `user_id` is their `sub` (omit it). `priority: high` "
            "(tenants in `PRIORITY_TENANTS` only) overtakes normal readings at every stage.",
            params=(IDEMPOTENCY_KEY,),
            body=ReadingRequest,
            service=INTAKE,
        ),
        Operation(
            "GET", "/v1/readings/{id}", "getReading", "A reading: status, progress, chart, text.",
            {200: Answer("The reading.", ReadingView,
                         headers={"ETag": ETAG, "Cache-Control": Header(str, required=False)}),
             304: Answer("Not modified since the `If-None-Match` tag.",
                         headers={"ETag": ETAG}),
             404: NOT_FOUND, **api_errors()},
            reading,
            params=(READING_ID, IF_NONE_MATCH),
            service=STATUS,
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
                Param("Last-Event-ID", "header", str,
                      f"Resume after this event id: {LAST_EVENT_ID_NOTE}"),
                Param("last_event_id", "query", str,
                      f"The same, for clients that cannot set headers: {LAST_EVENT_ID_NOTE}"),
            ),
            service=STATUS,
            extra_security=("StreamToken",),
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
            params=(READING_ID, IF_NONE_MATCH),
            service=STATUS,
        ),
        Operation(
            "GET", "/v1/readings", "listReadings", "A user's readings, newest first.",
            {200: Answer("One page; pass `next_cursor` as `cursor` for the next.", ReadingPage),
             403: problem_answer("A signed-in user named another `user_id`."),
             **api_errors(validation=True)},
            reading,
            params=(
                Param("user_id", "query", UserId, "The `user_id` given at intake.", True),
                Param("limit", "query", ListLimit, "Page size (default 20)."),
                Param("cursor", "query", Cursor, "`next_cursor` of the previous page."),
            ),
            service=STATUS,
        ),
        Operation(
            "POST", "/v1/readings/{id}/regenerate", "regenerateReading",
            "Write the reading again as a new version (same birth and chart input).",
            {202: accepted("Accepted: the new version."),
             403: problem_answer("`priority: high` is not allowed for this tenant "
                                 "(`PRIORITY_TENANTS`); `errors` names `priority`."),
             404: NOT_FOUND,
             409: problem_answer("The current version has not finished yet (or another "
                                 "regeneration won the race), or the `Idempotency-Key` was "
                                 "used before, for another body.",
                                 {"Retry-After": Header(RETRY_AFTER.schema, required=False)}),
             **api_errors(body=True, validation=True)},
            ("commands",),
            description="An empty body keeps the agent and language; `priority` is the new "
            "version's (`normal` when omitted).",
            params=(READING_ID, IDEMPOTENCY_KEY),
            body=RegenerateRequest,
            body_required=False,
            service=STATUS,
        ),
        Operation(
            "DELETE", "/v1/readings/{id}", "cancelReading",
            "Cancel the reading's current version.",
            {202: Answer("Cancelled (or already cancelled).", ReadingCancelledAnswer),
             404: NOT_FOUND,
             409: problem_answer("The current version has already finished."),
             **api_errors()},
            ("commands",),
            description="The reading stays readable (status `cancelled`, every version kept); "
            "`regenerate` starts a new version of it.",
            params=(READING_ID,),
            service=STATUS,
        ),
        Operation(
            "DELETE", "/v1/users/{user_id}/readings", "eraseUserReadings",
            "Erase a user's readings of this key's tenant: readings, charts, versions, "
            "events and dead letters.",
            {200: Answer("Erased: the rows removed of each kind (zeros for an unknown user).",
                         UserReadingsErased),
             403: problem_answer("A signed-in user named another user."),
             **api_errors(validation=True)},
            ("users",),
            description="Only this key's tenant's readings of the user. Erased readings "
            "answer `404` on every route from then on, even while the event stream still "
            "holds their events.",
            params=(Param("user_id", "path", UserId, "The `user_id` given at intake.", True),),
            service=STATUS,
        ),
    ]  # fmt: skip


OPERATOR_PATHS: Final = ("/v1/pipeline", "/v1/dead-letters")
"""Status's operator endpoints: served under `/v1` with a key, but not public."""

SERVICES: Final[Mapping[tuple[str, str], str]] = {
    (op.method, op.path): op.service for op in operations()
}
"""(method, path template) -> the service that serves it: the routing table of one origin."""


_TEMPLATES: Final = tuple(
    (re.compile("/".join("[^/]+" if seg.startswith("{") else re.escape(seg)
                         for seg in path.split("/"))), path)
    for path in dict.fromkeys(path for _, path in SERVICES)
)  # fmt: skip


def allowed_methods(path: str) -> str | None:
    """The `Allow` of a public path at the one origin: the methods of its operations on
    either service (and `HEAD` with `GET`), or None when the path is not in the document.

    A service answering 405 sends this, not its own routes' methods: `/v1/readings` is
    `GET` at status and `POST` at intake, one resource to a client."""
    for regex, template in _TEMPLATES:
        if regex.fullmatch(path):
            methods = [m for (m, p) in SERVICES if p == template]
            if "GET" in methods:
                methods.append("HEAD")
            return ",".join(sorted(methods))
    return None


@functools.cache
def document() -> dict[str, Any]:
    """The document (built once; callers must not change it)."""
    return build_document(
        title=TITLE,
        description=DESCRIPTION,
        operations=operations(),
        tags=TAGS,
        servers=SERVERS,
    )


def encoded() -> str:
    """The document as committed: sorted keys, 2-space indent, a trailing newline."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.api_document",
        description="Write the OpenAPI document to docs/openapi.json (or check it).",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=COMMITTED)
    args = parser.parse_args(argv)
    text = encoded()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run make openapi", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
