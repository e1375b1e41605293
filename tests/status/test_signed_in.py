"""The status API for signed-in users (sign-in JWTs): each user's own readings only, on
every route; their events_url opens with no header. Readings projected into PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext
from pydantic import SecretStr

from services.status.api.commands import CommandsApi
from services.status.api.erasure import ErasureApi
from services.status.api.operations import OperationsApi
from services.status.api.readings import StatusApi
from services.status.api.user_scope import user_scope
from services.status.store.projection import apply_batch
from services.status.web.pages import DemoPages
from shared.bus.publish import Publisher
from shared.http import api_app
from shared.settings import StatusSettings
from tests import factories as f
from tests.signin import AUDIENCE, ISSUER, SigningKey, provider
from tests.status.tenant_app import AllProjected, finished, sse_types

pytestmark = pytest.mark.integration

KEY = SigningKey.ec("ec-1")
BACKEND = {"X-API-Key": "key-of-the-backend"}


def bearer(sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY.token(sub)}"}


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> AsyncIterator[TestClient[Any, Any]]:
    async with provider(KEY) as idp:
        settings = StatusSettings(
            api_keys=SecretStr("users=key-of-the-backend,other=key-of-another-tenant"),
            api_rate_limit="", auth_jwks_url=idp.url, auth_issuer=ISSUER,
            auth_audience=AUDIENCE, stream_token_secret=SecretStr("z" * 40),
        )  # fmt: skip
        app = api_app("status", settings)
        app.middlewares.append(user_scope(pool, js))
        app.add_routes(StatusApi(settings, pool, js, AllProjected()).routes())
        app.add_routes(CommandsApi(pool, js, Publisher(js, service="test")).routes())
        app.add_routes(ErasureApi(pool, stream_max_age_s=settings.stream_max_age_s).routes())
        app.add_routes(OperationsApi(pool, js).routes())
        app.add_routes(DemoPages(pool, js=js).routes())
        async with TestClient(TestServer(app)) as c:
            yield c


async def test_each_user_sees_lists_and_follows_only_their_own(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    mine, hers, s = f.new_id(), f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(mine, "users", "carol"), *finished(hers, "users", "dana")))

    resp = await client.get(f"/v1/readings/{mine}", headers=bearer("carol"))
    assert resp.status == 200
    link = (await resp.json())["events_url"]
    assert urlsplit(link).path == f"/v1/readings/{mine}/events"
    assert "access_token=" in urlsplit(link).query
    resp = await client.get(link)  # no header: the token is enough
    assert resp.status == 200
    assert sse_types(await resp.text())[-1] == "reading.generated"
    resp = await client.get(link.replace(mine, hers))  # the token names its own reading only
    assert resp.status == 401

    resp = await client.get("/v1/readings", headers=bearer("carol"))  # no user_id: hers
    assert [i["id"] for i in (await resp.json())["items"]] == [mine]
    resp = await client.get("/v1/readings", params={"user_id": "carol"}, headers=bearer("carol"))
    assert [i["id"] for i in (await resp.json())["items"]] == [mine]
    resp = await client.get("/v1/readings", params={"user_id": "dana"}, headers=bearer("carol"))
    assert resp.status == 403
    assert (await resp.json())["errors"][0]["field"] == "user_id"

    for method, path in (("GET", ""), ("GET", "/events"), ("GET", "/bodygraph.svg"),
                         ("POST", "/regenerate"), ("DELETE", "")):  # fmt: skip
        resp = await client.request(method, f"/v1/readings/{hers}{path}", headers=bearer("carol"))
        assert resp.status == 404, (method, path)
    resp = await client.get("/v1/readings/no-such-reading", headers=bearer("carol"))
    assert resp.status == 404

    # The backend's key (tenant `users`) sees every user's readings.
    resp = await client.get(f"/v1/readings/{hers}", headers=BACKEND)
    assert resp.status == 200
    assert (await resp.json())["events_url"].startswith(f"/v1/readings/{hers}/events?")


async def test_a_user_regenerates_and_erases_their_own_only(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(rid, "users", "erin")))
    resp = await client.post(f"/v1/readings/{rid}/regenerate", headers=bearer("erin"))
    assert resp.status == 202, await resp.text()
    assert "access_token=" in (await resp.json())["events_url"]

    resp = await client.delete("/v1/users/frank/readings", headers=bearer("erin"))
    assert resp.status == 403
    resp = await client.delete("/v1/users/erin/readings", headers=bearer("erin"))
    assert resp.status == 200
    assert (await resp.json())["removed"]["readings"] == 1


async def test_operator_routes_need_a_key(client: TestClient[Any, Any]) -> None:
    for path in ("/v1/pipeline", "/v1/dead-letters"):
        resp = await client.get(path, headers=bearer("gina"))
        assert resp.status == 403, path
        assert resp.content_type == "application/problem+json"
        resp = await client.get(path, headers=BACKEND)
        assert resp.status == 200, path
