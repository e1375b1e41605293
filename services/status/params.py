"""Query parameters of the status API, checked the same way by every route."""

from __future__ import annotations

from aiohttp import web


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
