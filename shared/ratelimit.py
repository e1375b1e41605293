"""Per-key request rate limits on `/v1/*`: `429` problem+json with `Retry-After`.

The limits come from `API_RATE_LIMIT` in the notation of the `limits` library
(`200/second`, `100/second;5000/minute`) and are counted per tenant (per
signed-in user for sign-in JWTs, per client address when auth is off) with a
sliding-window counter in this replica's memory: N replicas behind a load
balancer allow up to N times the limit in all. That is the usual trade for a
limit that costs no network hop; the operations guide says how to size it.
"""

from __future__ import annotations

import math
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from shared.auth import GUARDED_PREFIX, principal_of
from shared.metrics import RATE_LIMITED
from shared.problem import problem


def parse_limits(spec: str) -> list[RateLimitItem]:
    """`API_RATE_LIMIT` -> limit items; empty = no limit; ValueError when malformed."""
    return parse_many(spec) if spec.strip() else []


def rate_limit_middleware(service: str, items: list[RateLimitItem]) -> Middleware:
    limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
    counter = RATE_LIMITED.labels(service)

    @web.middleware
    async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(GUARDED_PREFIX):
            return await handler(request)
        principal = principal_of(request)
        who = (
            f"tenant:{principal.limit_key}"  # a signed-in user: their own budget
            if principal.tenant is not None
            else f"addr:{request.remote}"
        )
        for item in items:
            if not limiter.hit(item, who):
                counter.inc()
                reset_at = limiter.get_window_stats(item, who).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                return problem(
                    429,
                    "Too Many Requests",
                    f"more than {item} for this key; try again in {retry_after} s",
                    kind="rate-limited",
                    headers={"Retry-After": str(retry_after)},
                )
        return await handler(request)

    return rate_limit
