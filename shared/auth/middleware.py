"""Who may call `/v1/*`: API keys (servers), sign-in JWTs (browsers), stream tokens
(`events_url`). Everything else (`/healthz`, `/readyz`, `/metrics`, the OpenAPI
document, the docs and demo pages) stays open, so probes and Prometheus need nothing.

- `?access_token=` (a stream token, `shared.auth.stream_token`): accepted on
  `GET /v1/readings/{its reading}/events` only; on any other path, or expired or
  tampered, 401. It is checked before any header, so a URL carrying it means one thing.
- `X-API-Key: <key>`, or `Authorization: Bearer <key>`: the key's tenant.
- `Authorization: Bearer <JWT>` with `AUTH_JWKS_URL` set: verified
  (`shared.auth.signin`); tenant `AUTH_TENANT`, user the token's `sub`. The issuer's key
  set unreachable: 503.

With neither keys nor a key set configured the API is open (development only, a warning
at start-up): every request is tenant None. Every refusal is problem+json naming the
credential (`errors[].field`) and what is wrong with it; no token reaches a log line.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from shared.auth.keys import ApiKeys
from shared.auth.principal import PRINCIPAL, Principal
from shared.auth.signin import SignIn, SignInUnavailable, TokenRefused, looks_like_jwt
from shared.auth.stream_token import PARAM, StreamTokenRefused, StreamTokens
from shared.logging import get_logger
from shared.problem import problem

log = get_logger(__name__)

GUARDED_PREFIX = "/v1/"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hd"'}


def presented_key(request: web.Request) -> str | None:
    """The key from `X-API-Key`, or from `Authorization: Bearer <key>`."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    return _bearer(request)


def _bearer(request: web.Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def unauthorized(field: str, message: str) -> web.Response:
    """401 problem+json naming the credential and what is wrong with it."""
    return problem(401, "Unauthorized", message, kind="unauthorized",
                   errors=[{"field": field, "message": message}], headers=_CHALLENGE)  # fmt: skip


def auth_middleware(
    keys: ApiKeys, signin: SignIn | None = None, streams: StreamTokens | None = None
) -> Middleware:
    """Sets `request[PRINCIPAL]` on `/v1/*`, or answers 401 (503: key set unreachable)."""
    is_open = keys.open and signin is None
    if is_open:
        log.warning("neither API_KEYS nor AUTH_JWKS_URL is set: the API is open to anyone "
                    "(development only)")  # fmt: skip

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_open or not request.path.startswith(GUARDED_PREFIX):
            return await handler(request)
        token = request.query.get(PARAM)
        if token is not None:
            return await _with_stream_token(request, handler, token, streams)
        key = request.headers.get("X-API-Key")
        bearer = _bearer(request)
        if key is None and bearer is not None and signin is not None and looks_like_jwt(bearer):
            try:
                user = await signin.verify(bearer)
            except TokenRefused as exc:
                return unauthorized("Authorization", str(exc))
            except SignInUnavailable as exc:
                return problem(503, "Service Unavailable", str(exc), kind="signin-unavailable",
                               headers={"Retry-After": "5"})  # fmt: skip
            request[PRINCIPAL] = Principal(tenant=signin.tenant, user=user)
            return await handler(request)
        presented = key.strip() if key else bearer
        tenant = keys.tenant_for(presented) if presented else None
        if tenant is None:  # (as before sign-in existed: a detail, no `errors`)
            if presented is None:
                what = "send a valid API key in X-API-Key or Authorization: Bearer" + (
                    ", or a sign-in token (JWT) as Authorization: Bearer" if signin else ""
                )
            else:
                what = "the API key is not valid"
            return problem(401, "Unauthorized", what, kind="unauthorized", headers=_CHALLENGE)
        request[PRINCIPAL] = Principal(tenant=tenant)
        return await handler(request)

    return authenticate


async def _with_stream_token(
    request: web.Request, handler: Handler, token: str, streams: StreamTokens | None
) -> web.StreamResponse:
    if streams is None:
        return unauthorized(PARAM, "this service issues no stream tokens (STREAM_TOKEN_SECRET)")
    try:
        grant = streams.verify(token)
    except StreamTokenRefused as exc:
        return unauthorized(PARAM, str(exc))
    if request.method not in ("GET", "HEAD") or (
        request.path != f"{GUARDED_PREFIX}readings/{grant.reading}/events"
    ):
        return unauthorized(PARAM, "a stream token opens only the events of its own reading")
    request[PRINCIPAL] = Principal(tenant=grant.tenant, user=grant.user, reading=grant.reading)
    return await handler(request)
