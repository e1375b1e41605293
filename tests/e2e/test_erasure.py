"""A user's data on request: `DELETE /v1/users/{user_id}/readings` on the real services.

The stream keeps its default age here, so every event of the erased readings is still
on the bus, and one of them is still being written: neither brings them back.
"""

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
from shared.events import reading_generated, reading_requested
from shared.events.registry import event_id
from shared.launcher import Stack
from tests.e2e.test_reader_llm import llm_stack
from tests.reader.fake_openai import Script

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

A = {"X-API-Key": "key-of-tenant-a"}
B = {"Authorization": "Bearer key-of-tenant-b"}
BIRTH = {"date": "1990-01-01", "time": "12:00", "place": {"latitude": 52.52, "longitude": 13.405}}
# About 3 s of streaming per reading: long enough to erase one while it is written.
SLOW = Script(text="Slow words arrive one by one. " * 4, chunk_size=12, first_token_delay_s=0.3,
              chunk_delay_s=0.3)  # fmt: skip
ZERO = {"readings": 0, "charts": 0, "versions": 0, "events": 0, "dead_letters": 0}
# What the answer counts, and where PostgreSQL keeps it.
KINDS = {"readings": ("readings", "id"), "charts": ("charts", "reading_id"),
         "versions": ("reading_versions", "reading_id"),
         "events": ("reading_events", "reading_id"),
         "dead_letters": ("dead_letters", "reading_id")}  # fmt: skip


@pytest.fixture
async def api(
    nats_url: str, database_url: str, tmp_path: Path, js: JetStreamContext
) -> AsyncIterator[tuple[str, str]]:
    st: Stack
    async with llm_stack(nats_url, database_url, tmp_path, SLOW,
                         API_KEYS="a=key-of-tenant-a,b=key-of-tenant-b") as st:  # fmt: skip
        yield (f"http://127.0.0.1:{st.settings.intake_port}",
               f"http://127.0.0.1:{st.settings.status_port}")  # fmt: skip


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def post(http: aiohttp.ClientSession, intake: str, user: str, key: dict[str, str]) -> str:
    body = {"birth": BIRTH, "user_id": user}
    async with http.post(f"{intake}/v1/readings", json=body, headers=key) as resp:
        assert resp.status == 202, await resp.text()
        return str((await resp.json())["id"])


async def wait_for(
    http: aiohttp.ClientSession, status: str, rid: str, want: str, key: dict[str, str]
) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            async with http.get(f"{status}/v1/readings/{rid}", headers=key) as resp:
                if resp.status == 200:
                    body: dict[str, Any] = await resp.json()
                    if body["status"] == want:
                        return body
            await asyncio.sleep(0.05)


async def rows_of(db: asyncpg.Connection, ids: list[str]) -> dict[str, int]:
    return {kind: await db.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = ANY($1)", ids)
            for kind, (table, column) in KINDS.items()}  # fmt: skip


async def listed(http: aiohttp.ClientSession, status: str, user: str, key: dict[str, str]) -> Any:
    async with http.get(f"{status}/v1/readings", params={"user_id": user}, headers=key) as resp:
        assert resp.status == 200
        return [i["id"] for i in (await resp.json())["items"]]


async def gone(http: aiohttp.ClientSession, status: str, rid: str) -> None:
    base = f"{status}/v1/readings/{rid}"
    for method, url in (("GET", base), ("GET", f"{base}/events"), ("GET", f"{base}/bodygraph.svg"),
                        ("POST", f"{base}/regenerate"), ("DELETE", base)):  # fmt: skip
        async with http.request(method, url, headers=A) as resp:
            assert resp.status == 404, (method, url, resp.status, await resp.text())


async def test_a_users_readings_are_erased_and_stay_erased(
    api: tuple[str, str], http: aiohttp.ClientSession, js: JetStreamContext,
    db: asyncpg.Connection,
) -> None:  # fmt: skip
    intake, status = api
    finished, other_user, other_tenant = await asyncio.gather(
        post(http, intake, "erase-me", A), post(http, intake, "keep-me", A),
        post(http, intake, "erase-me", B),
    )  # fmt: skip
    await wait_for(http, status, finished, "completed", A)
    await wait_for(http, status, other_user, "completed", A)
    await wait_for(http, status, other_tenant, "completed", B)

    # Another tenant's key cannot erase tenant A's user.
    async with http.delete(f"{status}/v1/users/keep-me/readings", headers=B) as resp:
        assert resp.status == 200
        assert await resp.json() == {"user_id": "keep-me", "removed": ZERO}
    assert await listed(http, status, "keep-me", A) == [other_user]

    in_flight = await post(http, intake, "erase-me", A)
    await wait_for(http, status, in_flight, "generating", A)
    erased = [finished, in_flight]
    before = await rows_of(db, erased)
    async with http.delete(f"{status}/v1/users/erase-me/readings", headers=A) as resp:
        assert resp.status == 200
        answer = await resp.json()
    # Both readings, both charts, the one text written so far, and their events.
    assert answer == {"user_id": "erase-me", "removed": before}
    assert (before["readings"], before["charts"], before["versions"]) == (2, 2, 1)
    assert await rows_of(db, erased) == ZERO

    for rid in erased:
        await gone(http, status, rid)
    assert await listed(http, status, "erase-me", A) == []

    # The reading being written ends after its erasure: its events reach the stream and
    # the projection (the inbox has them), and bring nothing back.
    async with asyncio.timeout(60):
        while await last_event(js, reading_generated.TYPE, in_flight) is None:
            await asyncio.sleep(0.1)
        done = event_id(reading_generated.TYPE, in_flight, 1)
        while not await db.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", done):
            await asyncio.sleep(0.1)
    assert await rows_of(db, erased) == ZERO
    await gone(http, status, in_flight)
    assert await listed(http, status, "erase-me", A) == []
    # ... although the stream still holds the requests the routes once fell back to.
    assert await last_event(js, reading_requested.TYPE, finished) is not None

    # The other user of the tenant, and the same user id in the other tenant: untouched.
    kept = await wait_for(http, status, other_user, "completed", A)
    assert kept["reading"]["text"] == SLOW.text
    assert await listed(http, status, "keep-me", A) == [other_user]
    assert await listed(http, status, "erase-me", B) == [other_tenant]
    async with http.get(f"{status}/v1/readings/{other_tenant}/bodygraph.svg", headers=B) as r:
        assert r.status == 200

    # An unknown user: nothing to erase, and no error.
    async with http.delete(f"{status}/v1/users/nobody-at-all/readings", headers=A) as resp:
        assert resp.status == 200
        assert await resp.json() == {"user_id": "nobody-at-all", "removed": ZERO}
