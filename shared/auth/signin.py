"""Sign-in tokens: a browser's `Authorization: Bearer <JWT>` from an identity provider.

With `AUTH_JWKS_URL` set, a JWT is verified with PyJWT against the issuer's JSON Web Key
Set: signature by the key its header names (`kid`), algorithm on the allow-list
(`AUTH_ALGORITHMS`, asymmetric only: never `none` or HS*), `exp` required and `nbf` /
`iat` checked with `AUTH_LEEWAY_S`, `iss` = `AUTH_ISSUER`, `aud` = `AUTH_AUDIENCE`, and a
`sub` usable as a user id. The token's `sub` is the user.

The key set is fetched with aiohttp (never blocking the event loop) and cached for
`AUTH_JWKS_CACHE_S`; a token naming a key the cache lacks (the issuer rotated its keys)
makes it fetch again at once, but at most once per `refresh_min_s`, so tokens with made-up
`kid`s cannot make us hammer the issuer. A fetch that fails keeps the keys we have; with
none at all the caller gets `SignInUnavailable` (503), never a 401 for a token that may be
good. Messages name what is wrong with a token, never its value or claims.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from shared.logging import get_logger

log = get_logger(__name__)

# Asymmetric algorithms only: a JWKS holds public keys, and an HS* "key" from it would let
# anyone who reads the key set sign tokens.
ALLOWED_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})  # fmt: skip
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_SUB_MAX = 200  # as a user id (shared.api_models.UserId)


class TokenRefused(Exception):
    """The token is not accepted; `str()` says why, without the token or its claims."""


class SignInUnavailable(Exception):
    """The issuer's key set could not be fetched and none is cached: try again later."""


def parse_algorithms(raw: str) -> tuple[str, ...]:
    """`AUTH_ALGORITHMS` -> names; ValueError for an empty list or one not allowed."""
    names = tuple(a.strip() for a in raw.split(",") if a.strip())
    if not names:
        raise ValueError("name at least one algorithm, e.g. RS256,ES256")
    for name in names:
        if name not in ALLOWED_ALGORITHMS:
            allowed = ", ".join(sorted(ALLOWED_ALGORITHMS))
            raise ValueError(f"{name!r} is not allowed; use asymmetric ones: {allowed}")
    return names


def looks_like_jwt(credential: str) -> bool:
    """Three dot-separated parts: a JWT, not an API key (keys are checked as keys)."""
    return credential.count(".") == 2


class Jwks:
    """The issuer's key set, fetched and cached; refetched when a token names a new key."""

    def __init__(
        self, url: str, *, cache_s: float = 300.0, timeout_s: float = 5.0,
        refresh_min_s: float = 10.0,
    ) -> None:  # fmt: skip
        self._url = url
        self._cache_s = cache_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._refresh_min_s = refresh_min_s
        self._keys: list[SigningKey] = []
        self._tried_at = -1e18  # monotonic time of the last fetch, whatever its outcome
        self._fetched_at = -1e18  # of the last successful one
        self._lock = asyncio.Lock()
        self.fetches = 0  # attempts, for tests and debugging

    async def keys(self, *, refresh: bool = False) -> list[SigningKey]:
        """The cached keys, fetched when stale (or, with `refresh`, when allowed again)."""
        if not self._due(refresh):
            return self._keys
        async with self._lock:
            if self._due(refresh):  # nobody fetched them while we waited
                await self._fetch()
        if not self._keys:
            raise SignInUnavailable("the issuer's key set (AUTH_JWKS_URL) is not reachable")
        return self._keys

    def _due(self, refresh: bool) -> bool:
        now = time.monotonic()
        since_try = now - self._tried_at
        if now - self._fetched_at > self._cache_s:  # stale (or never fetched)
            return since_try >= self._refresh_min_s or (not self._keys and since_try > 1.0)
        return refresh and since_try >= self._refresh_min_s

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        self.fetches += 1
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(self._url, headers={"Accept": "application/json"}) as resp,
            ):
                resp.raise_for_status()
                body = await resp.json(content_type=None)
            keys = _parse_jwks(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("sign-in key set not fetched; keeping the keys we have",
                        error=type(exc).__name__, keys=len(self._keys))  # fmt: skip
            return
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.info("sign-in key set fetched", keys=len(keys))


@dataclass(frozen=True)
class SigningKey:
    """One public key of the set: its id, type (`kty`), algorithm if it names one."""

    kid: str | None
    kty: str
    alg: str | None
    key: Any


def _parse_jwks(body: Any) -> list[SigningKey]:
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ValueError("not a JWKS document (no `keys` list)")
    keys = []
    for item in body["keys"]:
        if not isinstance(item, dict) or item.get("use", "sig") != "sig":
            continue
        if item.get("kty") not in _KEY_TYPE.values():
            continue  # e.g. a symmetric ("oct") key: never a signer here
        try:
            parsed = jwt.PyJWK(item)
        except jwt.PyJWTError:
            continue  # a curve or parameters PyJWT does not take
        kid, alg = item.get("kid"), item.get("alg")
        keys.append(SigningKey(kid if isinstance(kid, str) else None, str(item["kty"]),
                               alg if isinstance(alg, str) else None, parsed.key))  # fmt: skip
    return keys


@dataclass(frozen=True)
class SignIn:
    """Verifies sign-in JWTs; the user is the token's `sub`, the tenant `tenant`."""

    jwks: Jwks
    issuer: str
    audience: str
    algorithms: Sequence[str] = ("RS256", "ES256")
    leeway_s: float = 30.0
    tenant: str = "users"

    async def verify(self, token: str) -> str:
        """The token's `sub`; TokenRefused saying why not, SignInUnavailable (no keys)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("the token is not a well-formed JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self.algorithms:
            allowed = ", ".join(self.algorithms)
            raise TokenRefused(f"the token's algorithm is not allowed (AUTH_ALGORITHMS: {allowed})")
        key = _key_for(await self.jwks.keys(), kid, alg)
        if key is None and isinstance(kid, str):  # a key the cache lacks: rotated?
            key = _key_for(await self.jwks.keys(refresh=True), kid, alg)
        if key is None:
            raise TokenRefused("the token's signing key (kid) is not in the issuer's key set")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=self.leeway_s, options={"require": ["exp", "iss", "aud", "sub"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            raise TokenRefused(_why(exc)) from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not 0 < len(sub) <= _SUB_MAX or not sub.isprintable():
            raise TokenRefused(f"the token's sub is not a user id (1-{_SUB_MAX} characters)")
        return sub


def _key_for(keys: list[SigningKey], kid: object, alg: str) -> SigningKey | None:
    """The key a token's header names: by `kid`, of the algorithm's type; without a `kid`,
    the only key of that type."""
    kty = _KEY_TYPE.get(alg[:2])
    fit = [k for k in keys if k.kty == kty and k.alg in (None, alg)]
    if isinstance(kid, str):
        return next((k for k in fit if k.kid == kid), None)
    return fit[0] if len(fit) == 1 else None


def _why(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired (exp)"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet (nbf or iat in the future)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "the token is for another audience (aud is not AUTH_AUDIENCE)"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token comes from another issuer (iss is not AUTH_ISSUER)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no {exc.claim} claim"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature does not verify"
    if isinstance(exc, jwt.DecodeError):
        return "the token is not a well-formed JWT"
    return "the token is not valid"
