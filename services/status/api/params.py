"""Query parameters of the status API, checked the same way by every route, as the OpenAPI
document's types (`shared.api_models`) say."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from shared.api_models import CURSOR_PATTERN, UserId

_USER_ID: TypeAdapter[str] = TypeAdapter(UserId)
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """The integer query parameter `name` (None when absent); a bad one is added to `errors`.

    Only decimal digits with an optional minus (no `+5`, ` 5`, `5_0`, as JSON Schema's
    `integer` has none of them)."""
    raw = request.query.get(name)
    if raw is None:
        return None
    value = int(raw) if _INTEGER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        errors.append({"field": name, "message": f"must be an integer {low}-{high}"})
        return None
    return value


def encode_cursor(created_at: datetime, reading_id: str) -> str:
    """The `cursor` after this row of a list: `<microseconds since 1970>.<reading id>`."""
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{reading_id}"


def decode_cursor(value: str) -> tuple[datetime, str] | None:
    """(created_at, reading id) of a cursor, or None when it is not one (`Cursor`)."""
    if not _CURSOR.fullmatch(value):
        return None
    micros, reading_id = value.split(".", 1)
    return _EPOCH + timedelta(microseconds=int(micros)), reading_id
