"""API keys: who is calling, and which tenant owns what they create.

`API_KEYS` is a comma-separated list; each entry is `[tenant=]key` or
`[tenant=]sha256:<hex digest of the key>`, so a deployment can keep only
digests in its secret. Keys are held as SHA-256 digests and a presented key is
compared with every configured digest in constant time (`hmac.compare_digest`,
no early exit), so neither the comparison nor the loop tells how close a guess
was. A key without a tenant name gets `key-<first 12 hex of its digest>`.

With no keys configured the API is open (development only): every request is
tenant `None`, and start-up logs a warning.

The middleware guards `/v1/*` only: ops endpoints (`/healthz`, `/readyz`,
`/metrics`), the OpenAPI document, the docs page and the demo page stay open,
so Kubernetes probes and Prometheus need no key. Every guarded request carries
its tenant in `request[TENANT]`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from shared.logging import get_logger
from shared.problem import problem

log = get_logger(__name__)

GUARDED_PREFIX = "/v1/"
_TENANT = web.RequestKey("tenant", str)  # where the tenant is kept on the request
_DIGEST_PREFIX = "sha256:"


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys, as (digest, tenant) pairs."""

    entries: tuple[tuple[bytes, str], ...] = ()

    @classmethod
    def parse(cls, raw: str) -> ApiKeys:
        """Parse `API_KEYS`; raise ValueError naming a malformed entry (never the key)."""
        entries: list[tuple[bytes, str]] = []
        for n, item in enumerate((p.strip() for p in raw.split(",")), start=1):
            if not item:
                continue
            tenant, sep, secret = item.partition("=")
            if not sep:
                tenant, secret = "", item
            tenant, secret = tenant.strip(), secret.strip()
            if secret.startswith(_DIGEST_PREFIX):
                try:
                    value = bytes.fromhex(secret.removeprefix(_DIGEST_PREFIX))
                except ValueError:
                    raise ValueError(f"entry {n}: sha256: must be followed by hex") from None
                if len(value) != hashlib.sha256().digest_size:
                    raise ValueError(f"entry {n}: a sha256 digest has 64 hex digits")
            elif len(secret) < 8:
                raise ValueError(f"entry {n}: a key needs at least 8 characters")
            else:
                value = digest(secret)
            entries.append((value, tenant or f"key-{value.hex()[:12]}"))
        return cls(tuple(entries))

    @property
    def open(self) -> bool:
        return not self.entries

    def tenant_for(self, presented: str) -> str | None:
        """The tenant of `presented`, or None; the same work whichever key matches."""
        candidate = digest(presented)
        found: str | None = None
        for value, tenant in self.entries:
            if hmac.compare_digest(candidate, value):
                found = tenant
        return found


def presented_key(request: web.Request) -> str | None:
    """The key from `X-API-Key`, or from `Authorization: Bearer <key>`."""
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def tenant_of(request: web.Request) -> str | None:
    """The tenant the auth middleware found for this request (None when auth is off)."""
    tenant: str | None = request.get(_TENANT)
    return tenant


def auth_middleware(keys: ApiKeys) -> Middleware:
    """401 problem+json for a missing or unknown key on `/v1/*`; else sets the tenant."""
    if keys.open:
        log.warning("API_KEYS is not set: the API is open to anyone (development only)")

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if keys.open or not request.path.startswith(GUARDED_PREFIX):
            return await handler(request)
        key = presented_key(request)
        tenant = keys.tenant_for(key) if key else None
        if tenant is None:
            return problem(
                401,
                "Unauthorized",
                "send a valid API key in X-API-Key or Authorization: Bearer"
                if key is None
                else "the API key is not valid",
                kind="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="hd"'},
            )
        request[_TENANT] = tenant
        return await handler(request)

    return authenticate
