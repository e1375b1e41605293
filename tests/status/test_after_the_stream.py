"""Readings the stream no longer has: every route answers from PostgreSQL.

Each reading here is projected into PostgreSQL but never published: its subjects
are empty, as after `STREAM_MAX_AGE_S`. (`tests/e2e/test_after_the_stream.py` lets
real events age out of a real stream.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from nats.js import JetStreamContext

from services.status.store.projection import apply_batch
from shared.bus.lookup import last_event
from shared.events import reading_cancelled, reading_requested
from tests import factories as f
from tests.status.tenant_app import A, B, finished, requested, sse_types, tenant_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> Any:
    async with tenant_client(pool, js) as c:
        yield c


async def test_a_finished_reading_is_read_from_the_database(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(rid, "a", "u1")))
    assert await last_event(js, reading_requested.TYPE, rid) is None  # not on the bus

    resp = await client.get(f"/v1/readings/{rid}", headers=A)
    assert resp.status == 200
    body = await resp.json()
    assert (body["status"], body["version"]) == ("completed", 1)
    assert body["reading"]["text"] == f"the reading of {rid}"
    resp = await client.get("/v1/readings", params={"user_id": "u1"}, headers=A)
    assert [i["id"] for i in (await resp.json())["items"]] == [rid]
    resp = await client.get(f"/v1/readings/{rid}/events", headers=A)
    assert resp.status == 200
    assert sse_types(await resp.text()) == [
        "reading.requested",
        "chart.calculated",
        "reading.started",
        "reading.generated",
    ]
    resp = await client.get(f"/v1/readings/{rid}/bodygraph.svg", headers=A)
    assert resp.status == 200 and resp.content_type == "image/svg+xml"

    for method, path in (("GET", ""), ("GET", "/events"), ("GET", "/bodygraph.svg"),
                         ("POST", "/regenerate"), ("DELETE", "")):  # fmt: skip
        resp = await client.request(method, f"/v1/readings/{rid}{path}", headers=B)
        assert resp.status == 404, (method, path)
    resp = await client.get("/v1/readings", params={"user_id": "u1"}, headers=B)
    assert (await resp.json())["items"] == []


async def test_regenerate_rebuilds_the_request_from_the_database(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(rid, "a", "u1")))

    resp = await client.post(f"/v1/readings/{rid}/regenerate", json={"language": "de"},
                             headers=A)  # fmt: skip
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["version"] == 2
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None
    request = stored.event.data
    assert (request.version, request.tenant, request.user_id) == (2, "a", "u1")
    assert (request.agent, request.language) == ("personality", "de")
    assert request.birth == f.birth()  # the birth as posted, from the row

    # Version 2 is on the bus now, and has not finished: the bus decides again.
    resp = await client.post(f"/v1/readings/{rid}/regenerate", headers=A)
    assert resp.status == 409


async def test_two_regenerations_at_once_make_one_version(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(rid, "a", "u1")))
    answers = await asyncio.gather(
        *(client.post(f"/v1/readings/{rid}/regenerate", headers=A) for _ in range(2))
    )
    assert sorted(r.status for r in answers) == [202, 409]
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None and stored.event.data.version == 2


async def test_cancel_is_decided_from_the_database(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    done, stuck, s = f.new_id(), f.new_id(), f.Stream()
    await apply_batch(pool, s(*finished(done, "a", "u1")))
    await apply_batch(pool, s(requested(stuck, "a", "u1"), f.calculated(stuck)))

    resp = await client.delete(f"/v1/readings/{done}", headers=A)
    assert resp.status == 409  # finished
    resp = await client.delete(f"/v1/readings/{stuck}", headers=B)
    assert resp.status == 404
    resp = await client.delete(f"/v1/readings/{stuck}", headers=A)
    assert resp.status == 202
    assert await resp.json() == {"id": stuck, "version": 1, "status": "cancelled"}
    cancel = await last_event(js, reading_cancelled.TYPE, stuck)
    assert cancel is not None and cancel.event.data.version == 1

    await apply_batch(pool, s(f.cancelled(stuck)))
    resp = await client.delete(f"/v1/readings/{stuck}", headers=A)
    assert resp.status == 202  # already cancelled: idempotent
