"""`reading.cancelled` in the status service: projection, read views and SSE, on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext

from services.status.api.live import LiveHub
from services.status.api.readings import StatusApi
from services.status.store.projection import apply_batch
from services.status.store.readings import ended_at_or_before
from shared.api_views import ReadingView
from shared.settings import StatusSettings
from tests import factories as f

pytestmark = pytest.mark.integration


class AllProjected(LiveHub):
    """A hub whose projection is complete: SSE history comes from PostgreSQL only."""

    async def projected_floor(self) -> int:
        return 2**62


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app.add_routes(StatusApi(StatusSettings(), pool, js, AllProjected()).routes())
    async with TestClient(TestServer(app)) as c:
        yield c


async def view_of(client: TestClient[Any, Any], rid: str) -> ReadingView:
    """The reading as `GET /v1/readings/{id}` serves it (the JSON PostgreSQL builds)."""
    resp = await client.get(f"/v1/readings/{rid}")
    assert resp.status == 200
    return ReadingView.model_validate_json(await resp.text())


async def test_a_cancel_is_terminal_for_its_version(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    cancel = f.cancelled(rid)
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), cancel))
    view = await view_of(client, rid)
    assert (view.status, view.progress, view.version) == ("cancelled", 100, 1)
    assert view.stages.cancelled_at == cancel.time and view.error is None


async def test_late_events_of_the_cancelled_version_do_not_undo_it(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.cancelled(rid)))
    # Work that was already in flight when the cancel came, in later batches.
    await apply_batch(pool, s(f.calculated(rid)))
    await apply_batch(pool, s(f.started(rid), f.delta(rid, 0, "Hel")))
    await apply_batch(pool, s(f.generated(rid, "Hello")))
    await apply_batch(pool, s(f.failed(rid, code="retries_exhausted")))
    view = await view_of(client, rid)
    assert (view.status, view.progress, view.version) == ("cancelled", 100, 1)
    assert view.stages.cancelled_at is not None and view.error is None


async def test_a_regeneration_runs_after_a_cancel_and_an_old_cancel_cannot_stop_it(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), f.cancelled(rid)))
    await apply_batch(pool, s(f.requested(rid, version=2)))
    view = await view_of(client, rid)
    assert (view.status, view.progress, view.version) == ("queued", 10, 2)
    await apply_batch(pool, s(f.calculated(rid, version=2), f.started(rid, version=2)))
    await apply_batch(pool, s(f.cancelled(rid, version=1)))  # a repeated cancel of version 1
    assert (await view_of(client, rid)).status == "generating"
    await apply_batch(pool, s(f.generated(rid, "second", version=2)))
    view = await view_of(client, rid)
    assert (view.status, view.progress, view.version) == ("completed", 100, 2)
    assert view.reading is not None and view.reading.text == "second"


async def test_a_cancel_before_its_request_lands_and_stays(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.cancelled(rid)))
    await apply_batch(pool, s(f.requested(rid, user_id="u1")))
    view = await view_of(client, rid)
    assert (view.status, view.user_id) == ("cancelled", "u1")
    assert view.birth is not None and view.stages.requested_at is not None


async def test_a_cancel_after_completion_changes_nothing(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(f.requested(rid), f.calculated(rid), f.generated(rid, "done")))
    await apply_batch(pool, s(f.cancelled(rid)))
    view = await view_of(client, rid)
    assert (view.status, view.progress) == ("completed", 100)
    assert view.reading is not None and view.reading.text == "done"


def event_types(body: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in body.splitlines()
            if line.startswith("event:")]  # fmt: skip


async def test_sse_ends_at_the_cancel(pool: asyncpg.Pool, client: TestClient[Any, Any]) -> None:
    rid, s = f.new_id(), f.Stream()
    batch = s(f.requested(rid), f.calculated(rid), f.started(rid), f.delta(rid, 0, "Hel"),
              f.cancelled(rid), f.delta(rid, 1, "lo"), f.generated(rid, "Hello"))  # fmt: skip
    await apply_batch(pool, batch)
    cancel_seq = batch[4].stream_seq
    resp = await client.get(f"/v1/readings/{rid}/events")
    assert resp.status == 200
    # Deltas are live text, never projected: the history has none.
    assert event_types(await resp.text()) == [
        "reading.requested", "chart.calculated", "reading.started", "reading.cancelled",
    ]  # fmt: skip
    # A client resuming after the cancel is told the stream is over.
    again = await client.get(f"/v1/readings/{rid}/events",
                             headers={"Last-Event-ID": str(cancel_seq)})  # fmt: skip
    assert again.status == 204
    async with pool.acquire() as conn:
        assert await ended_at_or_before(conn, rid, cancel_seq)
        assert not await ended_at_or_before(conn, rid, cancel_seq - 1)
