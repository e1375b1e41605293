"""Live text reaches a client only after the reading's `reading.started`, even when its
piece (core NATS) overtakes the stream's delivery of the announcement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from services.status.api.live import LiveEvent
from services.status.api.readings import StatusApi
from services.status.store.projection import apply_batch
from shared.bus.live import send_piece
from shared.events.reading_delta import ReadingDelta
from shared.events.registry import encode
from shared.settings import StatusSettings
from tests import factories as f
from tests.status.test_cancellation import AllProjected, event_types

pytestmark = pytest.mark.integration


@pytest.fixture
async def hub(js: JetStreamContext, nc: NATS) -> AsyncIterator[AllProjected]:
    h = AllProjected()
    await h.start(js, nc)  # hears live text on the real bus
    yield h
    await h.stop()


@pytest.fixture
async def client(
    pool: asyncpg.Pool, js: JetStreamContext, hub: AllProjected
) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app.add_routes(StatusApi(StatusSettings(), pool, js, hub).routes())
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_a_piece_that_overtakes_the_announcement_is_sent_after_it(
    pool: asyncpg.Pool, nc: NATS, hub: AllProjected, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid)))
    watching = asyncio.ensure_future(client.get(f"/v1/readings/{rid}/events"))
    for _ in range(200):  # until the client is subscribed
        if rid in hub._subscribers:
            break
        await asyncio.sleep(0.02)
    piece = ReadingDelta(reading_id=rid, version=1, index=0, text="Your chart", attempt="a1",
                         offset=0)  # fmt: skip
    await send_piece(nc, piece)
    for _ in range(200):  # until this replica has heard it
        if hub.texts.get(rid) is not None:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # the client has had its chance to (wrongly) send it
    hub.publish(rid, LiveEvent(3, "reading.started", encode(f.started(rid))))
    hub.publish(rid, LiveEvent(4, "reading.generated", encode(f.generated(rid, "Your chart"))))
    resp = await asyncio.wait_for(watching, 10)
    body = await asyncio.wait_for(resp.text(), 10)
    assert event_types(body) == ["reading.requested", "chart.calculated", "reading.started",
                                 "reading.delta", "reading.generated"]  # fmt: skip
    assert '"text":"Your chart"' in body
