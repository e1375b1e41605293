"""Readings outlive the stream: with `STREAM_MAX_AGE_S` short, a reading whose events have
aged out is still read, followed, drawn and regenerated, from PostgreSQL, and still only
by its own tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from nats.js import JetStreamContext

from shared.bus.lookup import last_event
from shared.events.registry import CONTRACTS
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import read_sse, running

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

A = {"X-API-Key": "key-of-tenant-a"}
B = {"Authorization": "Bearer key-of-tenant-b"}
USER = "user-after-the-stream"
BODY = {
    "birth": {"date": "1990-01-01", "time": "12:00",
              "place": {"latitude": 52.52, "longitude": 13.405}},
    "user_id": USER,
}  # fmt: skip
# Short, yet long enough for a whole (offline) pipeline run to pass through the stream.
STREAM_MAX_AGE_S = "5"


@pytest.fixture
async def api(
    nats_url: str, database_url: str, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    settings = on_free_ports(tmp_path, nats_url, database_url)
    st = Stack(settings, extra_env={
        "LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "5", "READER_PROVIDER": "offline",
        "API_KEYS": "a=key-of-tenant-a,b=key-of-tenant-b", "STREAM_MAX_AGE_S": STREAM_MAX_AGE_S,
    })  # fmt: skip
    async with running(st):
        yield (f"http://127.0.0.1:{settings.intake_port}",
               f"http://127.0.0.1:{settings.status_port}")  # fmt: skip


async def wait_for(
    http: aiohttp.ClientSession, status: str, rid: str, version: int = 1
) -> dict[str, Any]:
    """The reading once `version` of it has completed."""
    async with asyncio.timeout(60):
        while True:
            async with http.get(f"{status}/v1/readings/{rid}", headers=A) as resp:
                if resp.status == 200:
                    body: dict[str, Any] = await resp.json()
                    if body["status"] == "completed" and body["version"] >= version:
                        return body
            await asyncio.sleep(0.1)


async def aged_out(js: JetStreamContext, rid: str) -> None:
    """Until the stream has no event of the reading left, of any type (JetStream expires
    by age on its own schedule: this asks it, it does not guess)."""
    async with asyncio.timeout(60):
        while any([await last_event(js, t, rid) is not None for t in CONTRACTS]):
            await asyncio.sleep(0.2)


async def test_a_reading_outlives_its_events_in_the_stream(
    api: tuple[str, str], http: aiohttp.ClientSession, js: JetStreamContext, database_url: str
) -> None:
    intake, status = api
    async with http.post(f"{intake}/v1/readings", json=BODY, headers=A) as resp:
        assert resp.status == 202, await resp.text()
        rid = (await resp.json())["id"]
    first = await wait_for(http, status, rid)
    await aged_out(js, rid)
    base = f"{status}/v1/readings/{rid}"

    async with http.get(base, headers=A) as resp:
        assert resp.status == 200
        assert await resp.json() == first  # the same reading, text and all
    async with http.get(f"{status}/v1/readings", params={"user_id": USER}, headers=A) as resp:
        assert resp.status == 200
        assert [i["id"] for i in (await resp.json())["items"]] == [rid]
    async with http.get(f"{base}/events", headers=A) as resp:
        assert resp.status == 200
        events = await read_sse(resp)
    assert [e.event for e in events] == [
        "reading.requested",
        "chart.calculated",
        "reading.started",
        "reading.generated",
    ]
    assert events[-1].json()["text"] == first["reading"]["text"]
    async with http.get(f"{base}/bodygraph.svg", headers=A) as resp:
        assert resp.status == 200 and resp.content_type == "image/svg+xml"
        assert "<svg" in await resp.text()

    # Another tenant's key: as if the reading did not exist, on every route.
    for method, url in (("GET", base), ("GET", f"{base}/events"), ("GET", f"{base}/bodygraph.svg"),
                        ("POST", f"{base}/regenerate"), ("DELETE", base)):  # fmt: skip
        async with http.request(method, url, headers=B) as resp:
            assert resp.status == 404, (method, url, resp.status)
    async with http.get(f"{status}/v1/readings", params={"user_id": USER}, headers=B) as resp:
        assert (await resp.json())["items"] == []
    async with http.delete(base, headers=A) as resp:
        assert resp.status == 409  # finished: nothing to cancel, decided from PostgreSQL

    async with http.post(f"{base}/regenerate", json={"language": "de"}, headers=A) as resp:
        assert resp.status == 202, await resp.text()
        assert (await resp.json())["version"] == 2
    second = await wait_for(http, status, rid, version=2)
    assert (second["version"], second["language"], second["user_id"]) == (2, "de", USER)
    assert second["reading"]["version"] == 2 and second["reading"]["language"] == "de"
    assert second["reading"]["text"]
    assert second["birth"] == first["birth"]
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT version, is_current FROM reading_versions WHERE reading_id = $1 "
            "ORDER BY version", rid)  # fmt: skip
    finally:
        await conn.close()
    assert [(r["version"], r["is_current"]) for r in rows] == [(1, False), (2, True)]
