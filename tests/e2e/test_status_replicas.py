"""Status under the conditions of a real deployment: two replicas, many SSE clients,
the poll race, and a replay of the whole stream into an empty database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from nats.js import JetStreamContext

from services.status.store.migrate import migrate
from services.status.store.projection import apply_batch
from shared import names
from shared.bus.consumer import Delivered
from shared.bus.publish import Publisher
from shared.embedded.process import free_port
from shared.events.registry import decode
from shared.launcher import ServiceProcess, Stack
from tests import factories as f
from tests.e2e.helpers import post_reading, read_sse, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.cluster]


@pytest.fixture
async def second_status(stack: Stack) -> AsyncIterator[str]:
    port = free_port()
    env = {**stack.services["status"].env, "STATUS_PORT": str(port)}
    svc = ServiceProcess("status", env, port)
    svc.start()
    try:
        assert await asyncio.to_thread(lambda: _wait(svc)), "second status replica not ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(svc.stop, 10)


def _wait(svc: ServiceProcess) -> bool:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if svc.ready():
            return True
        time.sleep(0.1)
    return False


async def test_two_replicas_project_together_and_both_serve_live_sse(
    stack: Stack, second_status: str, http: aiohttp.ClientSession, intake_url, status_url,
    database_url,
) -> None:  # fmt: skip
    ids = await asyncio.gather(*(post_reading(http, intake_url) for _ in range(40)))
    # Clients on both replicas, connected while the readings are in flight.
    streams = await asyncio.gather(*(
        _follow(http, (status_url, second_status)[i % 2], rid) for i, rid in enumerate(ids)
    ))  # fmt: skip
    for events in streams:
        assert events[-1] == "reading.generated"
    for rid in ids:
        for url in (status_url, second_status):
            body = await wait_status(http, url, rid, {"completed"})
            assert body["reading"]["version"] == 1
    conn = await asyncpg.connect(database_url)
    try:
        dupes = await conn.fetchval(
            "SELECT count(*) FROM (SELECT reading_id FROM reading_versions"
            " WHERE reading_id = ANY($1) GROUP BY reading_id HAVING count(*) > 1) d",
            ids,
        )
    finally:
        await conn.close()
    assert dupes == 0


async def _follow(http: aiohttp.ClientSession, base: str, rid: str) -> list[str]:
    async with http.get(f"{base}/v1/readings/{rid}/events") as resp:
        assert resp.status == 200
        return [e.event for e in await asyncio.wait_for(read_sse(resp), 60) if e.event != "hello"]


async def test_many_sse_clients_each_get_the_whole_story(
    stack: Stack, intake_url, status_url
) -> None:
    stack.services["chart"].kill()  # hold the reading at "queued" while clients connect
    # As many as one key may hold open (SSE_MAX_STREAMS_PER_KEY), all connected while it
    # is queued: none may come after the end and be served only the stored history.
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=90)
    ) as http:
        rid = await post_reading(http, intake_url)
        clients = [asyncio.create_task(_follow(http, status_url, rid)) for _ in range(100)]
        await _until_sse_clients(http, status_url, 100)
        stack.services["chart"].start()
        results = await asyncio.gather(*clients)
    expected = ["reading.requested", "chart.calculated", "reading.started", "reading.delta",
                "reading.generated"]  # fmt: skip
    assert all(r == expected for r in results), {tuple(r) for r in results}


async def _until_sse_clients(http: aiohttp.ClientSession, base: str, n: int) -> None:
    """Wait until status counts `n` open SSE streams (its own gauge, not a clock)."""
    pattern = re.compile(r'^hd_sse_clients\{[^}]*service="status"[^}]*\} (\S+)$', re.M)
    for _ in range(600):
        async with http.get(f"{base}/metrics") as resp:
            match = pattern.search(await resp.text())
        if match is not None and float(match[1]) >= n:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"status never counted {n} SSE clients")


async def test_a_poll_that_races_the_projection_is_never_404(
    stack: Stack, http: aiohttp.ClientSession, status_url, js: JetStreamContext
) -> None:
    stack.services["status"].kill()
    # Accepted (stored in JetStream) while the projection is down:
    rid = f.new_id()
    await Publisher(js, service="test").publish(f.requested(rid, user_id="racer"))
    stack.services["status"].start()
    deadline = asyncio.get_running_loop().time() + 60
    while not stack.services["status"].ready():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    async with http.get(f"{status_url}/v1/readings/{rid}") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["id"] == rid and body["status"] in {"queued", "chart_ready", "generating",
                                                    "completed"}  # fmt: skip
    async with http.get(f"{status_url}/v1/readings/{f.new_id()}") as resp:
        assert resp.status == 404  # an id nobody accepted is still unknown


async def test_replaying_the_stream_into_an_empty_database_rebuilds_identical_rows(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url, database_url,
    postgres_url, js: JetStreamContext,
) -> None:  # fmt: skip
    ids = [await post_reading(http, intake_url) for _ in range(5)]
    ids.append(
        await post_reading(
            http,
            intake_url,
            {"birth": {"date": "1990-01-01", "time": "12:00", "place": {"name": "Nowhere Atall"}}},
        )
    )
    for rid in ids:
        await wait_status(http, status_url, rid, {"completed", "failed"})
    await asyncio.sleep(0.5)

    replay_db = database_url.rsplit("/", 1)[0] + "/replay_" + ids[0][:8]
    admin = await asyncpg.connect(postgres_url)
    await admin.execute(f'CREATE DATABASE "{replay_db.rsplit("/", 1)[1]}"')
    await admin.close()
    pool = await asyncpg.create_pool(replay_db, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        info = await js.stream_info(names.STREAM)
        sub = await js.subscribe(names.STREAM_SUBJECTS[0], ordered_consumer=True)
        batch: list[Delivered] = []
        for _ in range(info.state.messages):
            msg = await sub.next_msg(timeout=10)
            batch.append(Delivered(decode(msg.data), msg.metadata.sequence.stream, 1))
        await sub.unsubscribe()
        for i in range(0, len(batch), 7):  # other batch boundaries than the live run
            await apply_batch(pool, batch[i : i + 7])
        live = await asyncpg.connect(database_url)
        try:
            for query in _SNAPSHOTS:
                async with pool.acquire() as conn:
                    assert await _rows(conn, query) == await _rows(live, query), query
        finally:
            await live.close()
    finally:
        await pool.close()


_SNAPSHOTS = [
    "SELECT id, user_id, agent, language, status, status_rank, current_version, birth, error,"
    " requested_at, chart_at, started_at, completed_at, failed_at, created_at, last_seq"
    " FROM readings ORDER BY id",
    "SELECT * FROM charts ORDER BY reading_id",
    "SELECT * FROM reading_versions ORDER BY reading_id, version",
    "SELECT * FROM reading_events ORDER BY seq",
    "SELECT stream_seq, subject, reading_id, stage, code, message FROM dead_letters"
    " ORDER BY stream_seq",
]


async def _rows(conn: asyncpg.Connection, query: str) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(query)]
