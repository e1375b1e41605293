"""The public API on the real services with keys on: tenants, regenerate, cancel, limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from shared.bus.lookup import last_event
from shared.events import reading_requested
from shared.launcher import Stack
from tests.e2e.helpers import read_sse
from tests.e2e.test_reader_llm import llm_stack
from tests.reader.fake_openai import Script

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.cluster]

A = {"X-API-Key": "key-of-tenant-a"}
B = {"Authorization": "Bearer key-of-tenant-b"}
BODY = {
    "birth": {"date": "1990-01-01", "time": "12:00",
              "place": {"latitude": 52.52, "longitude": 13.405}},
    "user_id": "user-7",
}  # fmt: skip
# About 2.5 s of streaming per reading: long enough to act on one in flight.
SLOW = Script(text="Slow words arrive one by one. " * 4, chunk_size=12, first_token_delay_s=0.3,
              chunk_delay_s=0.2)  # fmt: skip


@pytest.fixture
async def api(nats_url, database_url, tmp_path: Path, js) -> AsyncIterator[tuple[str, str]]:
    env = {"API_KEYS": "a=key-of-tenant-a,b=key-of-tenant-b", "SSE_MAX_STREAMS_PER_KEY": "2"}
    st: Stack
    async with llm_stack(nats_url, database_url, tmp_path, SLOW, **env) as st:
        yield (f"http://127.0.0.1:{st.settings.intake_port}",
               f"http://127.0.0.1:{st.settings.status_port}")  # fmt: skip


async def post(http: aiohttp.ClientSession, intake: str, headers: dict[str, str]) -> str:
    async with http.post(f"{intake}/v1/readings", json=BODY, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
        return str((await resp.json())["id"])


async def wait_for(
    http: aiohttp.ClientSession, status: str, rid: str, want: set[str], version: int = 1
) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            async with http.get(f"{status}/v1/readings/{rid}", headers=A) as resp:
                if resp.status == 200:
                    body: dict[str, Any] = await resp.json()
                    if body["status"] in want and body["version"] >= version:
                        return body
            await asyncio.sleep(0.1)


async def test_a_key_cannot_touch_another_keys_reading(api, http) -> None:
    intake, status = api
    rid = await post(http, intake, A)
    base = f"{status}/v1/readings/{rid}"
    others = (("GET", base), ("GET", f"{base}/events"), ("DELETE", base),
              ("POST", f"{base}/regenerate"), ("GET", f"{base}/bodygraph.svg"))  # fmt: skip
    for method, url in others:
        async with http.request(method, url, headers=B) as resp:
            assert resp.status == 404, (method, url, resp.status)
            assert resp.content_type == "application/problem+json"
    async with http.get(base) as resp:  # no key at all
        assert resp.status == 401
    assert (await wait_for(http, status, rid, {"completed"}))["reading"]["text"]
    for method, url in others:  # projected now: the database answers, the same way
        async with http.request(method, url, headers=B) as resp:
            assert resp.status == 404, (method, url, resp.status)
    async with http.get(f"{status}/v1/readings", params={"user_id": "user-7"}, headers=B) as r:
        assert rid not in {i["id"] for i in (await r.json())["items"]}
    async with http.get(f"{status}/v1/readings", params={"user_id": "user-7"}, headers=A) as r:
        assert rid in {i["id"] for i in (await r.json())["items"]}


async def test_cancel_stops_a_reading_in_flight(api, http, database_url) -> None:
    intake, status = api
    rid = await post(http, intake, A)
    await wait_for(http, status, rid, {"generating"})
    async with http.delete(f"{status}/v1/readings/{rid}", headers=A) as resp:
        assert resp.status == 202, await resp.text()
        assert await resp.json() == {"id": rid, "version": 1, "status": "cancelled"}
    body = await wait_for(http, status, rid, {"cancelled", "completed"})
    assert body["status"] == "cancelled"
    assert body["stages"]["cancelled_at"] is not None
    async with http.get(f"{status}/v1/readings/{rid}/events", headers=A) as resp:
        events = await read_sse(resp)
    assert events[-1].event == "reading.cancelled"
    await asyncio.sleep(3)  # longer than the LLM would have taken: nothing more comes
    again = await wait_for(http, status, rid, {"cancelled", "completed"})
    assert again["status"] == "cancelled" and again["reading"] is None
    async with http.delete(f"{status}/v1/readings/{rid}", headers=A) as resp:
        assert resp.status == 202  # DELETE is idempotent


async def test_regenerate_makes_a_new_version_and_keeps_the_old(api, http, database_url) -> None:
    intake, status = api
    rid = await post(http, intake, A)
    async with http.post(f"{status}/v1/readings/{rid}/regenerate", headers=A) as resp:
        assert resp.status == 409  # version 1 is still being written
        assert "Retry-After" in resp.headers
    first = await wait_for(http, status, rid, {"completed"})
    async with http.delete(f"{status}/v1/readings/{rid}", headers=A) as resp:
        assert resp.status == 409  # finished: nothing to cancel
    headers = {**A, "Idempotency-Key": "regen-1"}
    url = f"{status}/v1/readings/{rid}/regenerate"
    answers = await asyncio.gather(*(
        http.post(url, json={"agent": "business", "language": "de"}, headers=headers)
        for _ in range(5)
    ))  # fmt: skip
    assert {r.status for r in answers} == {202}
    assert {(await r.json())["version"] for r in answers} == {2}
    async with http.post(url, json={"agent": "crisis"}, headers=headers) as resp:
        assert resp.status == 409  # the same key for another body
    second = await wait_for(http, status, rid, {"completed"}, version=2)
    assert (second["version"], second["agent"], second["language"]) == (2, "business", "de")
    assert second["reading"]["version"] == 2 and second["reading"]["language"] == "de"
    assert second["reading"]["text"] != first["reading"]["text"] or second["agent"] != "personality"
    async with http.get(f"{status}/v1/readings/{rid}/events", headers=A) as resp:
        events = await read_sse(resp)
    # A fresh stream follows the current version: from its request to its end.
    assert (events[0].event, events[0].json()["version"]) == ("reading.requested", 2)
    assert (events[-1].event, events[-1].json()["version"]) == ("reading.generated", 2)
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT version, is_current FROM reading_versions WHERE reading_id = $1 "
            "ORDER BY version", rid)  # fmt: skip
    finally:
        await conn.close()
    assert [(r["version"], r["is_current"]) for r in rows] == [(1, False), (2, True)]


async def test_two_regenerations_at_once_make_one_version(api, http, js) -> None:
    """Without keys, two regenerations decided on the same version race for N+1: one wins
    (202), the other is told (409); the loser's body is never silently dropped."""
    intake, status = api
    rid = await post(http, intake, A)
    await wait_for(http, status, rid, {"completed"})
    url = f"{status}/v1/readings/{rid}/regenerate"
    agents = ("business", "crisis")
    answers = await asyncio.gather(*(http.post(url, json={"agent": a}, headers=A) for a in agents))
    assert sorted(r.status for r in answers) == [202, 409]
    (winner,) = [a for a, r in zip(agents, answers, strict=True) if r.status == 202]
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None
    assert (stored.event.data.version, stored.event.data.agent) == (2, winner)
    second = await wait_for(http, status, rid, {"completed"}, version=2)
    assert (second["version"], second["agent"]) == (2, winner)


async def test_open_event_streams_are_capped_per_key(api, http) -> None:
    intake, status = api
    rid = await post(http, intake, A)
    url = f"{status}/v1/readings/{rid}/events"
    first = await http.get(url, headers=A)
    second = await http.get(url, headers=A)
    try:
        assert (first.status, second.status) == (200, 200)
        async with http.get(url, headers=A) as third:
            assert third.status == 429
            assert third.content_type == "application/problem+json"
            assert int(third.headers["Retry-After"]) >= 1
        other = await post(http, intake, B)
        async with http.get(f"{status}/v1/readings/{other}/events", headers=B) as resp:
            assert resp.status == 200  # another key has its own budget
    finally:
        first.close()
        second.close()
    await asyncio.sleep(0.3)
    async with http.get(url, headers=A) as resp:
        assert resp.status in (200, 204)  # the slots were given back
