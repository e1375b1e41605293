"""HTTP pieces every service shares: ops endpoints, request metrics, problem+json errors.

`/healthz` answers while the process runs; `/readyz` runs the service's
readiness checks (bus connected, database reachable); `/metrics` is the
Prometheus text format. Intake and status serve them on their API port;
chart and reader on a small ops port.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from shared.api_document import allowed_methods
from shared.auth import ApiKeys, auth_middleware
from shared.auth.signin import Jwks, SignIn, parse_algorithms
from shared.auth.stream_token import STREAM_TOKENS, StreamTokens
from shared.cors import cors_middleware, cors_on_prepare
from shared.logging import get_logger
from shared.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS
from shared.problem import problem
from shared.ratelimit import parse_limits, rate_limit_middleware
from shared.settings import HttpSettings

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[str | None]]  # None = ready, else the reason
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class Health(BaseModel):
    """Body of `GET /healthz`."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Body of `GET /readyz`: 200 when ready, 503 with the reasons when not."""

    status: Literal["ready", "not ready"]
    reasons: list[str] | None = Field(None, description="Why it is not ready.")


def add_ops_routes(app: web.Application, checks: list[ReadinessCheck]) -> None:
    healthy = Health().model_dump_json()
    ready = Readiness(status="ready").model_dump_json(exclude_none=True)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text=healthy, content_type="application/json")

    async def readyz(_: web.Request) -> web.Response:
        reasons = [r for r in [await c() for c in checks] if r]
        if reasons:
            body = Readiness(status="not ready", reasons=reasons).model_dump_json()
            return web.Response(text=body, content_type="application/json", status=503)
        return web.Response(text=ready, content_type="application/json")

    async def metrics(_: web.Request) -> web.Response:
        resp = web.Response(body=generate_latest())
        resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return resp

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


# What a browser frontend may send and read (CORS), for every API service.
CORS_METHODS = ("GET", "HEAD", "POST", "DELETE")
CORS_HEADERS = ("Content-Type", "X-API-Key", "Authorization", "Idempotency-Key",
                "Last-Event-ID", "If-None-Match")  # fmt: skip
CORS_EXPOSE = ("Location", "Retry-After", "ETag", "Idempotent-Replayed", "X-Request-Id")


def api_app(service: str, settings: HttpSettings) -> web.Application:
    """The application of an API service, with its guard rails; routes are added after."""
    tokens = stream_tokens(settings)
    app = web.Application(
        middlewares=api_middlewares(service, settings, tokens),
        client_max_size=settings.api_max_body_bytes,
    )
    app.on_response_prepare.append(cors_on_prepare)  # SSE answers carry CORS headers too
    if tokens is not None:
        app[STREAM_TOKENS] = tokens  # `shared.auth.stream_token.events_url` issues them
    return app


def sign_in(settings: HttpSettings) -> SignIn | None:
    """The JWT verifier of `AUTH_JWKS_URL` (None: no browser sign-in)."""
    if not settings.auth_jwks_url:
        return None
    if settings.auth_jwks_url.startswith("http://"):
        log.warning("AUTH_JWKS_URL is not https: anyone on the way could swap the keys "
                    "(tests and local identity providers only)")  # fmt: skip
    jwks = Jwks(settings.auth_jwks_url, cache_s=settings.auth_jwks_cache_s,
                timeout_s=settings.auth_jwks_timeout_s)  # fmt: skip
    return SignIn(jwks, settings.auth_issuer, settings.auth_audience,
                  parse_algorithms(settings.auth_algorithms), settings.auth_leeway_s,
                  settings.auth_tenant)  # fmt: skip


def stream_tokens(settings: HttpSettings) -> StreamTokens | None:
    """Stream tokens for `events_url`: with a secret and the API closed (open, a token
    would open nothing a bare URL does not)."""
    secret = settings.stream_token_secret.get_secret_value()
    closed = bool(settings.api_keys.get_secret_value().strip() or settings.auth_jwks_url)
    if not closed:
        return None
    if not secret:
        log.warning("STREAM_TOKEN_SECRET is not set: events_url carries no token, so a "
                    "browser's EventSource cannot open it")  # fmt: skip
        return None
    return StreamTokens(secret, settings.stream_token_ttl_s)


def api_middlewares(
    service: str, settings: HttpSettings, streams: StreamTokens | None = None
) -> list[Middleware]:
    """The public API's guard rails, in order: CORS, observation, body cap, key, rate."""
    cors = (
        [cors_middleware(settings.cors_origin_list, methods=CORS_METHODS,
                         headers=CORS_HEADERS, expose=CORS_EXPOSE)]
        if settings.cors_origin_list else []
    )  # fmt: skip
    limits = parse_limits(settings.api_rate_limit)
    return [
        *cors,  # outermost: error answers carry the CORS headers too
        *middlewares(service),
        body_limit(settings.api_max_body_bytes),
        auth_middleware(
            ApiKeys.parse(settings.api_keys.get_secret_value()), sign_in(settings), streams
        ),
        *([rate_limit_middleware(service, limits)] if limits else []),  # none: no layer
    ]


def body_limit(max_bytes: int) -> Middleware:
    """413 problem+json at once for a declared body over the cap (aiohttp caps the rest)."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > max_bytes:
            detail = f"the body may be at most {max_bytes} bytes"
            return problem(413, "Content Too Large", detail, kind="too-large")
        return await handler(request)

    return limit


def middlewares(service: str) -> list[Middleware]:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = _route_of(request)
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        status = 500
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                resp = await handler(request)
                status = resp.status
            except web.HTTPException as exc:
                status = exc.status
                resp = _problem_from_http(exc, request.path)
            except Exception:
                log.exception("unhandled error", route=route)
                resp = problem(500, "Internal Server Error", "the error was logged")
            finally:
                if route not in OPS_PATHS:
                    HTTP_REQUESTS.labels(service, route, request.method, str(status)).inc()
                    HTTP_REQUEST_SECONDS.labels(service, route).observe(
                        time.perf_counter() - started
                    )
        if not resp.prepared:
            resp.headers["X-Request-Id"] = request_id
        return resp

    return [observe]


def _route_of(request: web.Request) -> str:
    """The route template (`/v1/readings/{id}`), bounded for metric labels."""
    info = request.match_info
    resource = info.route.resource if info.route is not None else None
    return resource.canonical if resource is not None else "unmatched"


def _problem_from_http(exc: web.HTTPException, path: str) -> web.Response:
    if exc.status < 400:
        raise exc
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    if exc.status == 405 and (public := allowed_methods(path)) is not None:
        headers = {"Allow": public}  # the resource at the one origin, both services' methods
    kind = "too-large" if exc.status == 413 else None
    return problem(exc.status, exc.reason, exc.text if exc.status == 413 else None, kind=kind,
                   headers=headers or None)  # fmt: skip
