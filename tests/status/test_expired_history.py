"""A finished reading whose event history has expired (`EVENT_HISTORY_RETENTION_S`) still
ends on `/events` as it ended: the terminal event is rebuilt from its rows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext

from services.status.api.readings import StatusApi
from services.status.store.projection import apply_batch
from shared.settings import StatusSettings
from tests import factories as f
from tests.status.test_cancellation import AllProjected, event_types

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app.add_routes(StatusApi(StatusSettings(), pool, js, AllProjected()).routes())
    async with TestClient(TestServer(app)) as c:
        yield c


def last_data(body: str) -> dict[str, Any]:
    datas = [line.split(":", 1)[1] for line in body.splitlines() if line.startswith("data:")]
    return dict(json.loads(datas[-1]))


@pytest.mark.parametrize("ending", ["generated", "failed", "cancelled"])
async def test_the_ending_is_rebuilt_when_the_history_is_gone(
    pool: asyncpg.Pool, client: TestClient[Any, Any], ending: str
) -> None:
    rid, s = f.new_id(), f.Stream()
    last = {"generated": f.generated(rid, "The whole text."), "failed": f.failed(rid),
            "cancelled": f.cancelled(rid)}[ending]  # fmt: skip
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), f.started(rid), last))
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM reading_events WHERE reading_id = $1", rid)  # expired

    resp = await client.get(f"/v1/readings/{rid}/events")
    assert resp.status == 200
    body = await resp.text()  # the stream ends by itself after the terminal event
    assert event_types(body) == [f"reading.{ending}"]
    data = last_data(body)
    assert data["reading_id"] == rid and data["version"] == 1
    if ending == "generated":
        assert data["text"] == "The whole text."
    if ending == "failed":
        assert data["code"] == "place_not_found"
