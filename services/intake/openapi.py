"""The OpenAPI 3.1 document of the intake service, from the models `api.py` uses."""

from __future__ import annotations

import functools
from typing import Any, Final

from services.intake.models import ReadingRequest
from shared.api_models import IdempotencyKey, ReadingAccepted
from shared.events.birth import EPHEMERIS, FIRST_SUPPORTED_DATE, LAST_SUPPORTED_DATE
from shared.openapi import (
    ACCEPTED_HEADERS,
    Answer,
    Operation,
    Param,
    api_errors,
    build_document,
    ops_operations,
    problem_answer,
)

TITLE: Final = "hd-pipeline intake"
DESCRIPTION: Final = """\
Submit birth data for a Human Design chart and an AI-written reading.

The answer is `202 Accepted` as soon as the request is durable on the event bus;
follow the reading at the status service (`status_url`, `events_url`).
Every `/v1` endpoint needs an API key when `API_KEYS` is configured
(`X-API-Key: <key>` or `Authorization: Bearer <key>`); errors are
`application/problem+json` (RFC 9457).
"""

IDEMPOTENCY_KEY: Final = Param(
    "Idempotency-Key",
    "header",
    IdempotencyKey,
    "Makes a retry safe: the same key and body answer the same 202 for at least 24 h.",
)


def operations() -> list[Operation]:
    return [
        Operation(
            "POST",
            "/v1/readings",
            "createReading",
            "Request a chart and a reading.",
            {
                202: Answer(
                    "Accepted: durable on the bus.", ReadingAccepted, headers=ACCEPTED_HEADERS
                ),
                403: problem_answer(
                    "`priority: high` is not allowed for this tenant (`PRIORITY_TENANTS`); "
                    "`errors` names `priority`."
                ),
                **api_errors(body=True, validation=True),
            },
            ("readings",),
            description="`birth.place` is coordinates or a name (resolved offline); "
            f"`birth.date` from {FIRST_SUPPORTED_DATE} to {LAST_SUPPORTED_DATE} (the range "
            f"supported with the {EPHEMERIS} ephemeris). A 422 names each invalid field; it is "
            "also the answer to an `Idempotency-Key` used before with a different body. "
            "`priority: high` (tenants in `PRIORITY_TENANTS` only, else 403) overtakes "
            "normal readings at every stage.",
            params=(IDEMPOTENCY_KEY,),
            body=ReadingRequest,
        ),
        *ops_operations(),
    ]


@functools.cache
def document() -> dict[str, Any]:
    """The intake document (built once; callers must not change it)."""
    return build_document(
        title=TITLE,
        description=DESCRIPTION,
        operations=operations(),
        tags={"readings": "Request readings.", "ops": "Health, metrics, documentation."},
    )
