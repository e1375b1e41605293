"""Who calls the API: API keys (servers), sign-in JWTs (browsers), stream tokens
(`events_url`); and what each may see (`principal`).

- `keys`: `API_KEYS`, tenants, constant-time comparison.
- `signin`: JWTs verified against an issuer's JWKS (`AUTH_JWKS_URL`).
- `stream_token`: the short-lived token in `events_url`.
- `principal`: the request's tenant, user and reading scope; `own_user_id`.
- `middleware`: the one middleware that checks all three on `/v1/*`.
"""

from shared.auth.keys import ApiKeys, digest
from shared.auth.middleware import GUARDED_PREFIX, auth_middleware, presented_key
from shared.auth.principal import Principal, own_user_id, principal_of, tenant_of, user_of

__all__ = [
    "GUARDED_PREFIX",
    "ApiKeys",
    "Principal",
    "auth_middleware",
    "digest",
    "own_user_id",
    "presented_key",
    "principal_of",
    "tenant_of",
    "user_of",
]
