"""Query parameters of the status API, checked the same way by every route."""

from __future__ import annotations

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from shared.api_models import UserId

_USER_ID: TypeAdapter[str] = TypeAdapter(UserId)


def user_id_problem(user_id: str) -> dict[str, str] | None:
    """The field error of a user id the API refuses (as the OpenAPI `UserId` says), or None."""
    try:
        _USER_ID.validate_python(user_id)
    except ValidationError:
        return {"field": "user_id", "message": "1-200 characters, no control characters"}
    return None


def int_param(
    request: web.Request, name: str, low: int, high: int, errors: list[dict[str, str]]
) -> int | None:
    """The integer query parameter `name` (None when absent); a bad one is added to `errors`."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors.append({"field": name, "message": f"must be an integer {low}-{high}"})
        return None
    return value
