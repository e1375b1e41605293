"""Erasure on request: `DELETE /v1/users/{user_id}/readings`.

The caller's tenant's readings of that user go, with everything of them, in one
transaction, and each leaves a tombstone (`store.erasure`, where the rules are); the
answer counts the rows removed of each kind. An unknown user is no error: `200` with
zeros.
"""

from __future__ import annotations

from aiohttp import web

from services.status.api.params import user_id_problem
from services.status.store.erasure import erase_user, tombstone_ttl_s
from services.status.store.pool import Pool
from shared.api_views import UserReadingsErased
from shared.auth import tenant_of
from shared.logging import get_logger
from shared.problem import invalid

log = get_logger(__name__)


class ErasureApi:
    def __init__(self, pool: Pool, *, stream_max_age_s: float) -> None:
        self._pool = pool
        self._keep_tombstones_s = tombstone_ttl_s(stream_max_age_s)

    def routes(self) -> list[web.RouteDef]:
        return [web.delete("/v1/users/{user_id}/readings", self.erase)]

    async def erase(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if (refused := user_id_problem(user_id)) is not None:
            return invalid([refused], detail=None)
        removed = await erase_user(self._pool, tenant_of(request), user_id,
                                   self._keep_tombstones_s)  # fmt: skip
        # The user id is what was erased: it is not logged.
        log.info("user's readings erased", **removed.model_dump())
        answer = UserReadingsErased(user_id=user_id, removed=removed)
        return web.Response(text=answer.model_dump_json(), content_type="application/json")
