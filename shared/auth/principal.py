"""Who a request is: its tenant, the signed-in user (if any), the one reading a stream
token opens (if any). Set by the auth middleware, read by the handlers.

- An API key (a server): its tenant, every user of it (`user` None).
- A sign-in JWT (a browser): tenant `AUTH_TENANT`, `user` = the token's `sub`; it sees and
  names only that user's readings.
- A stream token (`events_url`): the tenant and user it was issued for, and `reading`:
  it opens that reading's events and nothing else.
- Auth off (development): tenant None, no user.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from shared.problem import problem


@dataclass(frozen=True)
class Principal:
    tenant: str | None = None
    user: str | None = None  # set: this user's readings only
    reading: str | None = None  # set: this reading's events only (a stream token)

    @property
    def limit_key(self) -> str:
        """What rate limits and stream caps count by: the tenant, or the signed-in user."""
        return f"{self.tenant}/user:{self.user}" if self.user is not None else f"{self.tenant}"


PRINCIPAL = web.RequestKey("principal", Principal)
_NOBODY = Principal()


def principal_of(request: web.Request) -> Principal:
    """The request's principal (tenant None, no user when auth is off)."""
    found: Principal = request.get(PRINCIPAL, _NOBODY)
    return found


def tenant_of(request: web.Request) -> str | None:
    """The tenant the auth middleware found for this request (None when auth is off)."""
    return principal_of(request).tenant


def user_of(request: web.Request) -> str | None:
    """The signed-in user (a JWT's `sub`) the request is limited to; None: any user."""
    return principal_of(request).user


def own_user_id(request: web.Request, named: str | None) -> tuple[str | None, web.Response | None]:
    """The `user_id` a command may use: a signed-in user's own `sub` (absent = the `sub`;
    another user -> 403 naming `user_id`); for a key, what it named."""
    user = user_of(request)
    if user is None or named in (None, user):
        return (named if user is None else user), None
    return None, not_yourself()


def not_yourself() -> web.Response:
    """403: a signed-in user named another user."""
    return problem(
        403, "Forbidden", "a signed-in user can only name themselves",
        kind="forbidden",
        errors=[{"field": "user_id",
                 "message": "must be the signed-in user (the token's sub) or left out"}],
    )  # fmt: skip
