"""The API's auth middleware with keys, sign-in JWTs and stream tokens together."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from shared.auth import principal_of
from shared.auth.stream_token import events_url
from shared.http import api_app
from shared.logging import _ScrubTokens, scrub
from shared.settings import HttpSettings
from tests.signin import AUDIENCE, ISSUER, Provider, SigningKey, provider

KEY = {"X-API-Key": "key-of-tenant-a"}
SECRET = "stream-secret-" + "x" * 30
RSA = SigningKey.rsa("k1")


async def whoami(request: web.Request) -> web.Response:
    p = principal_of(request)
    rid = request.match_info.get("id", "r1")
    return web.json_response({"tenant": p.tenant, "user": p.user, "reading": p.reading,
                              "events_url": events_url(request, rid)})  # fmt: skip


def settings(jwks_url: str) -> HttpSettings:
    return HttpSettings(
        api_keys=SecretStr("a=key-of-tenant-a"), api_rate_limit="", auth_jwks_url=jwks_url,
        auth_issuer=ISSUER, auth_audience=AUDIENCE, stream_token_secret=SecretStr(SECRET),
    )  # fmt: skip


@pytest.fixture
async def idp() -> AsyncIterator[Provider]:
    async with provider(RSA) as p:
        yield p


@pytest.fixture
async def client(idp: Provider) -> AsyncIterator[TestClient[Any, Any]]:
    app = api_app("test", settings(idp.url))
    app.router.add_get("/v1/readings/{id}", whoami)
    app.router.add_get("/v1/readings/{id}/events", whoami)
    app.router.add_get("/healthz", whoami)
    server = TestServer(app)
    await server.start_server(access_log=None)  # as shared.runner serves the API
    async with TestClient(server) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refused(resp: Any, status: int = 401) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    return body


async def test_keys_and_jwts_each_give_their_principal(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/v1/readings/r1", headers=KEY)
    assert (await resp.json())["tenant"] == "a"
    resp = await client.get("/v1/readings/r1", headers=bearer("key-of-tenant-a"))
    assert (await resp.json())["user"] is None
    resp = await client.get("/v1/readings/r1", headers=bearer(RSA.token("alice")))
    assert resp.status == 200
    body = await resp.json()
    assert (body["tenant"], body["user"]) == ("users", "alice")
    assert (await client.get("/healthz")).status == 200  # ops routes stay open


async def test_bad_credentials_are_401_naming_the_credential(
    client: TestClient[Any, Any],
) -> None:
    body = await refused(await client.get("/v1/readings/r1"))
    assert "sign-in token" in body["detail"]
    body = await refused(await client.get("/v1/readings/r1", headers={"X-API-Key": "nope-nope"}))
    assert body["detail"] == "the API key is not valid"
    expired = RSA.token(exp=int(time.time()) - 120)
    body = await refused(await client.get("/v1/readings/r1", headers=bearer(expired)))
    assert body["errors"][0] == {"field": "Authorization",
                                 "message": "the token has expired (exp)"}  # fmt: skip
    forged = SigningKey.rsa("k1").token()
    body = await refused(await client.get("/v1/readings/r1", headers=bearer(forged)))
    assert "signature" in body["detail"]
    body = await refused(await client.get("/v1/readings/r1", headers=bearer("x.y.z")))
    assert "well-formed" in body["detail"]


async def test_an_unreachable_key_set_is_503(idp: Provider, client: TestClient[Any, Any]) -> None:
    idp.down = True
    body = await refused(
        await client.get("/v1/readings/r1", headers=bearer(RSA.token())), status=503
    )
    assert "AUTH_JWKS_URL" in body["detail"]


async def test_a_stream_token_opens_its_readings_events_and_nothing_else(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/v1/readings/r1", headers=bearer(RSA.token("alice")))
    url = (await resp.json())["events_url"]
    assert url.startswith("/v1/readings/r1/events?access_token=")
    resp = await client.get(url)  # no header at all
    assert resp.status == 200
    assert await resp.json() | {"events_url": None} == {
        "tenant": "users", "user": "alice", "reading": "r1", "events_url": None}  # fmt: skip
    token = url.split("=", 1)[1]
    for other in ("/v1/readings/r1", "/v1/readings/r2/events"):
        body = await refused(await client.get(f"{other}?access_token={token}"))
        assert body["errors"][0]["field"] == "access_token"
        assert "only the events of its own reading" in body["detail"]
    # With a valid key as well: the token still opens nothing else.
    await refused(await client.get(f"/v1/readings/r2/events?access_token={token}", headers=KEY))


async def test_expired_and_tampered_stream_tokens_are_401_naming_the_problem(
    client: TestClient[Any, Any],
) -> None:
    now = int(time.time())
    expired = jwt.encode(
        {"iss": "hd-pipeline", "aud": "hd-pipeline/events", "rid": "r1", "ten": "a",
         "scope": "events", "iat": now - 7200, "exp": now - 3600},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    body = await refused(await client.get(f"/v1/readings/r1/events?access_token={expired}"))
    message = "the stream token has expired: get events_url again"
    assert body["errors"] == [{"field": "access_token", "message": message}]
    tampered = expired[:-4] + ("AAAA" if not expired.endswith("AAAA") else "BBBB")
    body = await refused(await client.get(f"/v1/readings/r1/events?access_token={tampered}"))
    assert "signature" in body["detail"] or "not one this API issued" in body["detail"]


async def test_no_token_and_no_claim_reaches_a_log_line(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every stdlib record (aiohttp's included)
    with structlog.testing.capture_logs() as ours:  # every structlog line, before rendering
        jwt_ = RSA.token("alice")
        resp = await client.get("/v1/readings/r1", headers=bearer(jwt_))
        url = (await resp.json())["events_url"]
        assert (await client.get(url)).status == 200
        await client.get("/v1/readings/r1", headers=bearer(RSA.token(exp=1)))
        await client.get(url.replace("/r1/", "/r2/"))
        structlog.get_logger("probe").info("probe line")
    text = json.dumps(ours, default=str) + caplog.text
    assert "probe line" in text  # the output was captured
    token = url.split("=", 1)[1]
    for secret in (jwt_, token, "secret@example.test"):
        assert secret not in text


def test_a_stream_token_in_a_third_party_log_line_is_masked() -> None:
    """aiohttp's access log is off (shared.runner); were it on, the handler masks tokens."""
    url = "/v1/readings/r1/events?access_token=abc.def.ghi&x=1"
    record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1,
                               '%s "GET %s HTTP/1.1" 200', ("127.0.0.1", url), None)  # fmt: skip
    assert _ScrubTokens().filter(record)
    assert record.getMessage() == (
        '127.0.0.1 "GET /v1/readings/r1/events?access_token=***&x=1 HTTP/1.1" 200'
    )
    assert scrub("no token here") == "no token here"
