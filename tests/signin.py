"""A local identity provider for tests: signing keys made here, their JWKS served over
HTTP by aiohttp, and JWTs signed with them (PyJWT)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://id.example.test/"
AUDIENCE = "hd-readings"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    @classmethod
    def rsa(cls, kid: str) -> SigningKey:
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> SigningKey:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg.startswith("RS") else ECAlgorithm
        public = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": self.alg}

    def token(self, sub: str | None = "user-a", **overrides: Any) -> str:
        """A JWT of this key; `overrides` replace claims (None removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now,
            "exp": now + 300, "email": "secret@example.test",
        }  # fmt: skip
        for name, value in {"sub": sub, **overrides}.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


@dataclass
class Provider:
    """The JWKS endpoint: serves `keys`; `fetches` counts requests; `down` answers 503."""

    keys: list[SigningKey]
    fetches: int = 0
    down: bool = False
    url: str = ""
    _extra: list[dict[str, Any]] = field(default_factory=list)

    async def jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        if self.down:
            return web.Response(status=503)
        return web.json_response({"keys": [k.jwk() for k in self.keys] + self._extra})


@asynccontextmanager
async def provider(*keys: SigningKey) -> AsyncIterator[Provider]:
    """A JWKS endpoint on 127.0.0.1 (a free port) serving `keys`."""
    p = Provider(list(keys))
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", p.jwks)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    p.url = str(server.make_url("/.well-known/jwks.json"))
    try:
        yield p
    finally:
        await server.close()
