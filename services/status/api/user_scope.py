"""A signed-in user's view of the status API: their own readings, nothing else.

A sign-in JWT (`shared.auth`: tenant `AUTH_TENANT`, user = the token's `sub`) is held
here to readings whose `user_id` is that `sub`, on top of the tenant check every route
makes itself:

- a route of one reading (`/v1/readings/{id}`, its events, bodygraph, regenerate, cancel):
  another user's reading is 404, as another tenant's is (never 403);
- `GET /v1/readings`: without `user_id` it lists the user's own; naming another user is
  403 (naming `user_id`);
- `DELETE /v1/users/{user_id}/readings`: the user's own id only (403 otherwise);
- any other `/v1/` route (`/v1/pipeline`, `/v1/dead-letters`: operators'): 403.

API keys (a whole tenant) are not limited here; nor is a stream token issued to one.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from nats.js import JetStreamContext

from services.status.store import readings as store
from services.status.store.pool import Pool
from shared.auth import GUARDED_PREFIX, user_of
from shared.auth.principal import not_yourself
from shared.bus.lookup import last_event, plausible_id
from shared.events import reading_requested
from shared.problem import problem, reading_not_found

READING_ROUTES = "/v1/readings/{id}"  # and every route under it
LIST_ROUTE = "/v1/readings"
USER_ROUTE = "/v1/users/{user_id}/readings"


async def reading_user(pool: Pool, js: JetStreamContext, reading_id: str) -> str | None:
    """The reading's `user_id` (None: unknown, or no user): PostgreSQL, else the bus."""
    if not plausible_id(reading_id):
        return None
    known, user = await store.projected_user(pool, reading_id)
    if known:
        return user
    stored = await last_event(js, reading_requested.TYPE, reading_id)
    return stored.event.data.user_id if stored is not None else None


def user_scope(pool: Pool, js: JetStreamContext) -> Middleware:
    @web.middleware
    async def scope(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = user_of(request)
        matched = request.match_info.route
        resource = matched.resource if matched is not None else None
        if user is None or resource is None or not request.path.startswith(GUARDED_PREFIX):
            return await handler(request)  # a key, auth off, or no such route (404/405)
        route = resource.canonical
        if route.startswith(READING_ROUTES):
            reading_id = request.match_info["id"]
            if await reading_user(pool, js, reading_id) != user:
                return reading_not_found(reading_id)
            return await handler(request)
        if route == USER_ROUTE:
            if request.match_info["user_id"] != user:
                return not_yourself()
            return await handler(request)
        if route == LIST_ROUTE:
            named = request.query.get("user_id")
            if named is None:  # the user's own list
                own = request.rel_url.update_query(user_id=user)
                return await handler(request.clone(rel_url=own))
            if named != user:
                return not_yourself()
            return await handler(request)
        return problem(403, "Forbidden", "this route is for API keys (operators), not for "
                       "signed-in users", kind="forbidden")  # fmt: skip

    return scope
