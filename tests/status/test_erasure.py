"""Erasure on request: `DELETE /v1/users/{user_id}/readings`, and the tombstones that keep
erased readings erased while the stream still holds their events."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from nats.js import JetStreamContext

from services.status.store.erasure import ERASURE_LOCK, erase_user, hold_off_erasures
from services.status.store.projection import apply_batch, record_poison
from shared.bus.consumer import Poison
from shared.bus.publish import Publisher
from tests import factories as f
from tests.status.tenant_app import A, B, finished, requested, tenant_client

pytestmark = pytest.mark.integration

TABLES = {"readings": "id", "charts": "reading_id", "versions": "reading_id",
          "events": "reading_id", "dead_letters": "reading_id"}  # fmt: skip
TABLE_OF = {"versions": "reading_versions", "events": "reading_events"}


@pytest.fixture
async def client(pool: asyncpg.Pool, js: JetStreamContext) -> Any:
    async with tenant_client(pool, js) as c:
        yield c


async def rows_of(pool: asyncpg.Pool, ids: list[str]) -> dict[str, int]:
    """Rows per kind (as the erasure answer names them) of these readings."""
    async with pool.acquire() as conn:
        return {
            kind: await conn.fetchval(
                f"SELECT count(*) FROM {TABLE_OF.get(kind, kind)} WHERE {column} = ANY($1)", ids
            )
            for kind, column in TABLES.items()
        }


async def test_erasure_removes_one_users_readings_of_one_tenant(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    done, failed, other_user, other_tenant = (f.new_id() for _ in range(4))
    s, publisher = f.Stream(), Publisher(js, service="test")
    events = [*finished(done, "a", "u1"), requested(failed, "a", "u1"), f.failed(failed),
              *finished(other_user, "a", "u2"), *finished(other_tenant, "b", "u1")]  # fmt: skip
    for event in events:  # on the bus, as for days after a reading was written
        await publisher.publish(event)
    await apply_batch(pool, s(*events))
    before = await rows_of(pool, [done, failed])
    assert before == {"readings": 2, "charts": 1, "versions": 1, "events": 6, "dead_letters": 1}
    kept = await rows_of(pool, [other_user, other_tenant])

    resp = await client.delete("/v1/users/u1/readings", headers=A)
    assert resp.status == 200
    assert await resp.json() == {"user_id": "u1", "removed": before}
    assert await rows_of(pool, [done, failed]) == dict.fromkeys(TABLES, 0)
    assert await rows_of(pool, [other_user, other_tenant]) == kept

    # Gone on every route, although the stream still holds every event of them.
    for rid in (done, failed):
        for method, path in (("GET", ""), ("GET", "/events"), ("GET", "/bodygraph.svg"),
                             ("POST", "/regenerate"), ("DELETE", "")):  # fmt: skip
            resp = await client.request(method, f"/v1/readings/{rid}{path}", headers=A)
            assert resp.status == 404, (rid, method, path, await resp.text())
    resp = await client.get("/v1/readings", params={"user_id": "u1"}, headers=A)
    assert (await resp.json())["items"] == []
    # The other user's reading and the other tenant's user are untouched.
    resp = await client.get(f"/v1/readings/{other_user}", headers=A)
    assert resp.status == 200
    resp = await client.get("/v1/readings", params={"user_id": "u1"}, headers=B)
    assert [i["id"] for i in (await resp.json())["items"]] == [other_tenant]

    # Erased again, or by a key of another tenant: nothing of tenant a's is left to remove.
    resp = await client.delete("/v1/users/u1/readings", headers=A)
    assert (await resp.json())["removed"] == dict.fromkeys(TABLES, 0)


async def test_events_that_come_after_the_erasure_project_nothing(
    pool: asyncpg.Pool, js: JetStreamContext, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(requested(rid, "a", "u1"), f.calculated(rid)))
    resp = await client.delete("/v1/users/u1/readings", headers=A)
    assert (await resp.json())["removed"]["readings"] == 1

    # The reading was in flight (or the projection behind): its next events come now.
    late = s(f.started(rid), f.delta(rid, 0, "Hel"), f.generated(rid, "written too late"))
    await apply_batch(pool, late)
    await apply_batch(pool, s(f.cancelled(rid)))
    await apply_batch(pool, s(f.failed(rid)))  # a dead letter, were it projected
    assert await rows_of(pool, [rid]) == dict.fromkeys(TABLES, 0)
    async with pool.acquire() as conn:
        inbox = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE event_id = ANY($1)", [d.event.id for d in late]
        )
    assert inbox == 2  # recorded as applied (the delta is not even that)
    resp = await client.get(f"/v1/readings/{rid}", headers=A)
    assert resp.status == 404


async def test_an_unknown_user_is_erased_with_nothing_removed(client: TestClient[Any, Any]) -> None:
    for user in ("nobody", "a name with spaces/and a slash", "ü" * 200):
        resp = await client.delete(f"/v1/users/{user.replace('/', '%2F')}/readings", headers=A)
        assert resp.status == 200, (user, await resp.text())
        assert await resp.json() == {"user_id": user, "removed": dict.fromkeys(TABLES, 0)}


async def test_an_invalid_user_id_is_422(client: TestClient[Any, Any]) -> None:
    for raw in ("%00", "a%0Ab", "x" * 201):
        resp = await client.delete(f"/v1/users/{raw}/readings", headers=A)
        assert resp.status == 422, raw
        assert resp.content_type == "application/problem+json"
    resp = await client.delete("/v1/users/u1/readings")
    assert resp.status == 401


async def waiting_for_the_erasure_lock(pool: asyncpg.Pool) -> None:
    """Until some session waits for the erasure lock (no timing: it is asked, then seen)."""
    async with pool.acquire() as conn:
        while not await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                   AND NOT granted AND objid = $1)""",
            ERASURE_LOCK,
        ):
            await asyncio.sleep(0.01)


async def test_an_erasure_waits_for_a_batch_in_flight_and_removes_what_it_wrote(
    pool: asyncpg.Pool,
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(requested(rid, "a", "u1")))
    async with pool.acquire() as conn, conn.transaction():
        await hold_off_erasures(conn)  # a batch that read no tombstone of `rid` ...
        erasure = asyncio.create_task(erase_user(pool, "a", "u1", 3600))
        await waiting_for_the_erasure_lock(pool)
        await conn.execute(  # ... and still writes a row of it
            "INSERT INTO charts (reading_id, chart, duration_s, computed_at)"
            " VALUES ($1, '{}', 0, now())", rid)  # fmt: skip
        assert not erasure.done()
    removed = await erasure
    assert (removed.readings, removed.charts) == (1, 1)
    assert await rows_of(pool, [rid]) == dict.fromkeys(TABLES, 0)


async def test_a_batch_waits_for_an_erasure_under_way_and_sees_its_tombstone(
    pool: asyncpg.Pool,
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(requested(rid, "a", "u1")))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ERASURE_LOCK)  # as an erasure
        for table, column in (("readings", "id"), ("reading_events", "reading_id")):
            await conn.execute(f"DELETE FROM {table} WHERE {column} = $1", rid)
        await conn.execute("INSERT INTO erased_readings (reading_id) VALUES ($1)", rid)
        batch = asyncio.create_task(apply_batch(pool, s(f.calculated(rid), f.started(rid))))
        await waiting_for_the_erasure_lock(pool)
        assert not batch.done()
    await batch
    assert await rows_of(pool, [rid]) == dict.fromkeys(TABLES, 0)


async def test_an_unreadable_event_of_an_erased_reading_is_not_kept(
    pool: asyncpg.Pool, client: TestClient[Any, Any]
) -> None:
    rid, s = f.new_id(), f.Stream()
    await apply_batch(pool, s(requested(rid, "a", "u1")))
    resp = await client.delete("/v1/users/u1/readings", headers=A)
    assert (await resp.json())["removed"]["readings"] == 1
    other = f.new_id()
    for seq, reading_id in ((100, rid), (101, other)):
        await record_poison(pool, Poison(f"hd.reading.generated.{reading_id}", seq,
                                         "undecodable", "not JSON", b"\xffbirth data"))  # fmt: skip
    async with pool.acquire() as conn:
        kept = await conn.fetch("SELECT reading_id FROM dead_letters")
    assert [r["reading_id"] for r in kept] == [other]
