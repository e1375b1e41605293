"""RFC 9457 problem details (`application/problem+json`) for every HTTP error."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

PROBLEM_TYPE_BASE = "https://hd-pipeline.dev/problems/"
CONTENT_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the input (`birth.place.latitude`).")
    message: str


class ProblemDetails(BaseModel):
    """The body of every error answer (RFC 9457); the OpenAPI documents use this model."""

    type: str = Field(description="A URI naming the kind of problem, or `about:blank`.")
    title: str
    status: int = Field(ge=100, le=599)
    detail: str | None = None
    errors: list[FieldError] | None = Field(None, description="Each invalid input (422).")


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
    body = ProblemDetails(
        type=PROBLEM_TYPE_BASE + kind if kind else "about:blank",
        title=title,
        status=status,
        detail=detail or None,
        errors=[FieldError(**e) for e in errors] if errors else None,
    )
    return web.Response(
        status=status,
        text=body.model_dump_json(exclude_none=True),
        content_type=CONTENT_TYPE,
        headers=headers,
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


def invalid(
    errors: list[dict[str, str]], detail: str | None = "see errors for each field"
) -> web.Response:
    """422: the request is not valid; `errors` name each field and why."""
    return problem(422, "Invalid request", detail, kind="validation", errors=errors)


def reading_not_found(reading_id: str) -> web.Response:
    """404 for an unknown reading, and for another tenant's (never 403)."""
    return problem(404, "Not Found", f"no reading with id {reading_id!r}", kind="not-found")


def bus_unavailable(detail: str) -> web.Response:
    """503 with Retry-After: the event bus could not confirm; safe to retry."""
    return problem(503, "Service Unavailable", f"{detail}; try again", kind="bus-unavailable",
                   headers={"Retry-After": "1"})  # fmt: skip
