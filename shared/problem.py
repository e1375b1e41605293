"""RFC 9457 problem details (`application/problem+json`) for every HTTP error."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

PROBLEM_TYPE_BASE = "https://hd-pipeline.dev/problems/"
CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Build a problem+json response; `kind` names the problem type (`validation`, ...)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return web.Response(
        status=status, text=json.dumps(body), content_type=CONTENT_TYPE, headers=headers
    )


def validation_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """One `{field, message}` per error, the field as a dotted path (`birth.place.latitude`)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err["loc"]]
        # Drop pydantic's internal names for union members and validators.
        loc = [p for p in loc if not p.startswith(("function-", "union["))]
        field = ".".join(([prefix] if prefix else []) + loc) or prefix or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        out.append({"field": field, "message": message})
    return out
