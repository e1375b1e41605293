"""`priority` at status: regenerate takes it (403 for tenants not allowed, 422 for an unknown
value), versions of one reading stay one sequence across priorities, and `/v1/pipeline`
shows each stage's queue per priority. Real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext

from services.status.api.commands import CommandsApi
from services.status.api.operations import OperationsApi
from shared import names
from shared.bus.lookup import last_event
from shared.bus.publish import Publisher
from shared.bus.topology import CHART, READER, ensure_consumer
from shared.events import reading_requested
from shared.http import api_app
from tests import factories as f
from tests.status.tenant_app import SETTINGS, A, B, requested

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> AsyncIterator[TestClient[Any, Any]]:
    app = api_app("status", SETTINGS)
    publisher = Publisher(js, service="test")
    app.add_routes(CommandsApi(pool, js, publisher, frozenset({"a"})).routes())
    app.add_routes(OperationsApi(pool, js).routes())
    async with TestClient(TestServer(app)) as c:
        yield c


async def finish(js: JetStreamContext, rid: str, version: int) -> None:
    await Publisher(js, service="test").publish(f.generated(rid, "text", version=version))


async def test_regenerate_at_high_priority_and_back(
    js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    pub = Publisher(js, service="test")
    rid = f.new_id()
    await pub.publish(requested(rid, "a", "u1"))
    await finish(js, rid, 1)

    url = f"/v1/readings/{rid}/regenerate"
    resp = await client.post(url, json={"priority": "urgent"}, headers=A)
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["priority"]
    resp = await client.post(url, json={"priority": "high"}, headers=B)  # b may not
    assert resp.status == 403 and resp.content_type == "application/problem+json"
    assert [e["field"] for e in (await resp.json())["errors"]] == ["priority"]

    resp = await client.post(url, json={"priority": "high"}, headers=A)
    assert resp.status == 202, await resp.text()
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None
    assert (stored.event.data.version, stored.event.data.priority) == (2, "high")
    high_subject = f"{names.HIGH_SUBJECT_PREFIX}.reading.requested.{rid}"
    assert (await js.get_last_msg(names.STREAM, high_subject)).seq == stored.seq

    # Version 2 (high) has not finished: a normal regeneration sees it and waits.
    resp = await client.post(url, headers=A)
    assert resp.status == 409
    await finish(js, rid, 2)
    resp = await client.post(url, headers=A)  # normal again: version 3, after the high 2
    assert resp.status == 202
    assert (await resp.json())["version"] == 3
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None
    assert (stored.event.data.version, stored.event.data.priority) == (3, "normal")


async def test_the_pipeline_shows_each_stage_queue_per_priority(
    js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    pub = Publisher(js, service="test")
    for consumer in (CHART, READER):
        await ensure_consumer(js, consumer)
    for _ in range(3):
        await pub.publish(f.requested(f.new_id()))
    for _ in range(2):
        await pub.publish(f.requested(f.new_id(), priority="high"))
    await pub.publish(f.calculated(f.new_id(), priority="high"))

    resp = await client.get("/v1/pipeline", headers=A)
    assert resp.status == 200
    stages = (await resp.json())["stages"]
    chart = stages["chart"]
    assert chart["priorities"]["high"] == {
        **chart["priorities"]["high"],
        "consumer": "chart-high",
        "available": True,
        "pending": 2,
        "in_flight": 0,
    }
    assert chart["priorities"]["normal"]["consumer"] == "chart"
    assert chart["priorities"]["normal"]["pending"] == 3
    assert (chart["consumer"], chart["available"], chart["pending"]) == ("chart", True, 5)
    reader = stages["reader"]
    assert (reader["priorities"]["high"]["pending"], reader["priorities"]["normal"]["pending"]) == (
        1,
        0,
    )
    assert "priorities" not in stages["status"] or stages["status"]["priorities"] is None
