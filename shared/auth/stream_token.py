"""Stream tokens: `events_url` that a plain `EventSource(events_url)` can open.

A browser's EventSource sends no headers, so with the API closed `events_url` carries
`?access_token=<token>`: a JWT signed with HS256 (PyJWT) under `STREAM_TOKEN_SECRET`,
which intake and status share. Its claims: the reading (`rid`), its tenant (`ten`), the
signed-in user it was issued to (`usr`, when one was), `scope` `events` (read-only), and
`exp` (`STREAM_TOKEN_TTL_S`: enough to reconnect for as long as a reading takes). It opens
`GET /v1/readings/{rid}/events` and nothing else (`shared.auth.middleware`).

Tokens are issued on a time grid (a quarter of the TTL): the same reading asked twice
within a step gets the same token, so the reading's ETag does not change on every poll,
and a token always has at least three quarters of the TTL left.

Without a secret, or with the API open (a token would open nothing a bare URL does
not), `events_url` has no token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import jwt
from aiohttp import web

from shared.auth.principal import principal_of

PARAM = "access_token"  # the query parameter of `events_url`
SCOPE = "events"
_ALGORITHM = "HS256"
_ISSUER = "hd-pipeline"
_AUDIENCE = "hd-pipeline/events"
MIN_SECRET_CHARS = 32


class StreamTokenRefused(Exception):
    """The stream token is not accepted; `str()` says why, never the token."""


@dataclass(frozen=True)
class StreamGrant:
    """What a valid stream token allows: this reading's events, as this tenant and user."""

    reading: str
    tenant: str | None
    user: str | None


class StreamTokens:
    def __init__(self, secret: str, ttl_s: int = 3600) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"a stream token secret needs at least {MIN_SECRET_CHARS} characters")
        self._secret = secret
        self._ttl_s = int(ttl_s)
        self._step_s = max(1, self._ttl_s // 4)

    def issue(self, reading_id: str, tenant: str | None, user: str | None) -> str:
        now = int(time.time())
        start = now - now % self._step_s
        claims: dict[str, Any] = {
            "iss": _ISSUER, "aud": _AUDIENCE, "rid": reading_id, "ten": tenant,
            "scope": SCOPE, "iat": start, "exp": start + self._ttl_s,
        }  # fmt: skip
        if user is not None:
            claims["usr"] = user
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> StreamGrant:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], audience=_AUDIENCE,
                issuer=_ISSUER, leeway=5, options={"require": ["exp", "rid", "scope"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise StreamTokenRefused("the stream token has expired: get events_url again") from None
        except jwt.InvalidSignatureError:
            raise StreamTokenRefused("the stream token's signature does not verify") from None
        except jwt.PyJWTError:
            raise StreamTokenRefused("the stream token is not one this API issued") from None
        reading, tenant, user = claims["rid"], claims.get("ten"), claims.get("usr")
        if (
            claims["scope"] != SCOPE or not isinstance(reading, str)
            or not isinstance(tenant, str | None) or not isinstance(user, str | None)
        ):  # fmt: skip
            raise StreamTokenRefused("the stream token is not one this API issued")
        return StreamGrant(reading, tenant, user)


STREAM_TOKENS = web.AppKey("stream_tokens", StreamTokens)


def events_url(request: web.Request, reading_id: str, base_url: str = "") -> str:
    """The reading's `events_url` for the caller: with a stream token when the app issues
    them (a secret is set and the API is closed)."""
    url = f"{base_url}/v1/readings/{reading_id}/events"
    tokens = request.app.get(STREAM_TOKENS)
    if tokens is None:
        return url
    who = principal_of(request)
    token = tokens.issue(reading_id, who.tenant, who.user)
    return f"{url}?{PARAM}={quote(token, safe='')}"
