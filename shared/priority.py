"""Who may ask for `"priority": "high"` (intake's submit, status's regenerate).

`PRIORITY_TENANTS` names the tenants allowed high priority; `*` allows every
caller, the open API (no `API_KEYS`, tenant None) included. Anyone else asking
for high gets `403` problem+json naming `priority`; `normal` is always allowed.
How high work overtakes normal work: `shared.bus.topology` (a consumer per
priority) and `shared.bus.consumer` (high first).
"""

from __future__ import annotations

from collections.abc import Set

from aiohttp import web

from shared.metrics import PRIORITY_REFUSED
from shared.problem import problem

ANY_TENANT = "*"


def allowed(priority: str, tenant: str | None, tenants: Set[str]) -> bool:
    """Whether `tenant` (None: the open API) may ask for `priority`."""
    if priority != "high":
        return True
    return ANY_TENANT in tenants or (tenant is not None and tenant in tenants)


def forbidden(priority: str, service: str) -> web.Response:
    """403 problem+json naming the field: this caller may not ask for `priority`."""
    PRIORITY_REFUSED.labels(service).inc()
    return problem(
        403,
        "Forbidden",
        f"priority {priority!r} is not allowed for this tenant",
        kind="priority-forbidden",
        errors=[{"field": "priority", "message": f"{priority!r} is not allowed for this tenant"}],
    )
