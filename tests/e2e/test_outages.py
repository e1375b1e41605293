"""Infrastructure outages: a stopped broker or database is said loudly, never hangs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import aiohttp
import asyncpg
import pytest

from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import post_reading, read_sse, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
async def own_stack(request, tmp_path, pg_dir):
    """A stack on its own broker and database, so the test may stop them.

    Indirect parametrization may give `env` (more variables for the services) and
    `durable` (PostgreSQL keeps every commit through a kill; slower).
    """
    options = getattr(request, "param", {})
    nats = EmbeddedNats(tmp_path / "nats", free_port())
    pg = EmbeddedPostgres(pg_dir / "pg", free_port(), durable=options.get("durable", False))
    await asyncio.to_thread(nats.start)
    await asyncio.to_thread(pg.start)
    settings = on_free_ports(tmp_path, nats.url, pg.url)
    env = {"LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3", **options.get("env", {})}
    st = Stack(settings, extra_env=env)
    try:
        async with running(st, stop_timeout_s=10):
            yield st, nats, pg
    finally:
        await asyncio.to_thread(nats.stop)
        await asyncio.to_thread(pg.stop)


async def ready(http: aiohttp.ClientSession, port: int) -> int:
    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
        return resp.status


async def test_broker_outage_is_a_quick_503_and_everything_resumes(own_stack) -> None:
    st, nats, _ = own_stack
    s = st.settings
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    async with aiohttp.ClientSession() as http:
        await asyncio.to_thread(nats.stop)
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        async with http.post(f"{intake}/v1/readings", json={"birth": {
                "date": "1990-01-01", "time": "12:00",
                "place": {"latitude": 52.5, "longitude": 13.4}}}) as resp:  # fmt: skip
            assert resp.status == 503
            assert resp.headers["Retry-After"]
            assert resp.headers["Content-Type"].startswith("application/problem+json")
        assert time.monotonic() - t0 < 2.0
        for port in (s.intake_port, s.status_port, s.chart_ops_port, s.reader_ops_port):
            assert await ready(http, port) == 503

        await asyncio.to_thread(nats.start)  # same port, same store
        deadline = time.monotonic() + 30
        while not all([await ready(http, p) == 200 for p in (s.intake_port, s.status_port,
                                                               s.chart_ops_port,
                                                               s.reader_ops_port)]):  # fmt: skip
            assert time.monotonic() < deadline, "services did not reconnect by themselves"
            await asyncio.sleep(0.2)
        rid = await post_reading(http, intake)
        await wait_status(http, status, rid, {"completed"}, timeout_s=30)


async def test_a_short_database_outage_is_503_per_read_while_status_stays_ready_and_live(
    own_stack,
) -> None:
    """A failover-sized outage: reads answer 503, but the replica stays in its Service
    (/readyz 200, DATABASE_OUTAGE_GRACE_S) and an SSE client connected before it sees its
    reading written meanwhile (live events come from NATS); then the projection catches up."""
    st, _, pg = own_stack
    s = st.settings
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    async with aiohttp.ClientSession() as http:
        first = await post_reading(http, intake)
        await wait_status(http, status, first, {"completed"})
        st.services["chart"].kill()  # the next reading waits, queued, until the outage
        held = await post_reading(http, intake)
        await wait_status(http, status, held, {"queued"})
        async with http.get(f"{status}/v1/readings/{held}/events") as sse:
            assert sse.status == 200
            await asyncio.to_thread(pg.stop)
            async with http.get(f"{status}/v1/readings/{first}") as resp:
                assert resp.status == 503 and resp.headers["Retry-After"]
            assert await ready(http, s.status_port) == 200
            during = [await post_reading(http, intake) for _ in range(5)]  # intake accepts
            st.services["chart"].start()
            events = [e.event for e in await asyncio.wait_for(read_sse(sse), 60)]
        assert events[-1] == "reading.generated" and "chart.calculated" in events
        assert await ready(http, s.status_port) == 200  # all through the outage
        await asyncio.to_thread(pg.start)
        for rid in [held, *during]:
            await wait_status(http, status, rid, {"completed"}, timeout_s=60)


@pytest.mark.parametrize("own_stack", [{"env": {"DATABASE_OUTAGE_GRACE_S": "1"}}],
                         indirect=True)  # fmt: skip
async def test_a_database_away_longer_than_the_grace_makes_status_unready(own_stack) -> None:
    st, _, pg = own_stack
    port = st.settings.status_port
    async with aiohttp.ClientSession() as http:
        assert await ready(http, port) == 200
        await asyncio.to_thread(pg.stop)
        deadline = time.monotonic() + 20
        while await ready(http, port) != 503:
            assert time.monotonic() < deadline, "status stayed ready with the database gone"
            await asyncio.sleep(0.3)
        await asyncio.to_thread(pg.start)
        while await ready(http, port) != 200:
            assert time.monotonic() < deadline + 30, "status did not come back"
            await asyncio.sleep(0.3)


TENANT, KEY = "acme", "k-acme-outage-3f9a27c1"
READINGS = 60
USERS = 4
OUTAGES = 8  # one after every OUTAGE_EVERY accepted readings
OUTAGE_EVERY = 7
KEYS = {"API_KEYS": f"{TENANT}={KEY}"}


@pytest.mark.parametrize(
    ("own_stack", "how"),
    [
        ({"env": KEYS}, "fast shutdown"),
        # Durable: a non-durable test server confirms a commit before its WAL is written
        # (synchronous_commit=off), so a kill could lose a projection already acked.
        ({"env": KEYS, "durable": True}, "kill"),
    ],
    ids=["fast-shutdown", "kill"],
    indirect=["own_stack"],
)
async def test_database_restarts_mid_stream_lose_no_event(own_stack, how: str) -> None:
    """PostgreSQL stopped while readings stream in (fast shutdown: a switchover, a rolling
    update; kill: a crash) and started again at once: every accepted reading is projected
    from its own request and completes once, and the status service dead-letters nothing.
    AdminShutdownError, "the database system is starting up" and a refused connection
    are an outage to wait out, never a refused event."""
    st, _, pg = own_stack
    s = st.settings
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    accepted: dict[str, tuple[str, str]] = {}  # reading id -> (user id, birth date)
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as http:

        async def post_stream() -> None:
            for i in range(READINGS):
                user, born = f"user-{i % USERS}", f"19{30 + i}-03-04"
                body = {"birth": {"date": born, "time": "06:45",
                                  "place": {"latitude": 59.33, "longitude": 18.07}},
                        "agent": "personality", "language": "en", "user_id": user}  # fmt: skip
                accepted[await post_reading(http, intake, body)] = (user, born)
                await asyncio.sleep(0.08)  # a steady stream over about five seconds

        poster = asyncio.create_task(post_stream())
        try:
            for n in range(OUTAGES):
                # While readings are in flight: more accepted, and the projection has work.
                async with asyncio.timeout(30):
                    while not (len(accepted) > n * OUTAGE_EVERY
                               and await _status_busy(http, status)):  # fmt: skip
                        assert not poster.done(), f"the stream ended before outage {n + 1}"
                        await asyncio.sleep(0.01)
                await asyncio.to_thread(pg.stop if how == "fast shutdown" else lambda: _crash(pg))
                await asyncio.to_thread(pg.start)  # at once, same port and data directory
            await poster
        finally:
            poster.cancel()
        assert len(accepted) == READINGS
        conn = await asyncpg.connect(pg.url)
        try:
            # Until every reading is complete with all its parts (an event retried after
            # the outage may land after the reading's last one), or until an event is
            # dead-lettered: then it never will be.
            unfinished, dead = set(accepted), list[dict[str, Any]]()
            async with asyncio.timeout(120):  # a bound on waiting, not a measurement
                while unfinished and not dead:
                    for rid in list(unfinished):
                        async with http.get(f"{status}/v1/readings/{rid}") as resp:
                            if resp.status == 200 and _complete(await resp.json()):
                                unfinished.discard(rid)
                    dead = [dict(r) for r in await conn.fetch(
                        "SELECT subject, stage, code, message FROM dead_letters")]  # fmt: skip
                    await asyncio.sleep(0.2)
            rows = await conn.fetch(
                """SELECT r.id, r.tenant, r.user_id, r.birth::text AS birth, r.status,
                          (SELECT count(*) FROM reading_versions v WHERE v.reading_id = r.id)
                              AS versions,
                          EXISTS (SELECT 1 FROM charts c WHERE c.reading_id = r.id) AS charted
                   FROM readings r WHERE r.id = ANY($1)""",
                list(accepted),
            )  # fmt: skip
        finally:
            await conn.close()
        assert dead == [], dead
        assert not unfinished
        listed: set[str] = set()
        for u in range(USERS):
            query = {"user_id": f"user-{u}", "limit": "100"}
            async with http.get(f"{status}/v1/readings", params=query) as resp:
                assert resp.status == 200
                listed |= {item["id"] for item in (await resp.json())["items"]}
        async with http.get(f"{status}/v1/dead-letters") as resp:  # the tenant's view;
            assert resp.status == 200  # `dead` above is every dead letter of any reading
            assert (await resp.json())["items"] == []
    assert {r["id"] for r in rows} == set(accepted)
    for r in rows:
        assert r["status"] == "completed"
        assert r["charted"] and r["versions"] == 1, dict(r)
        # Projected from its reading.requested, not only from the later events.
        user, born = accepted[r["id"]]
        birth: dict[str, Any] = json.loads(r["birth"] or "{}")
        assert (r["tenant"], r["user_id"], birth.get("date")) == (TENANT, user, born), dict(r)
    assert listed == set(accepted)  # every user finds every reading of theirs


def _complete(body: dict[str, Any]) -> bool:
    """A completed reading as its user sees it: chart, text, and the request's data."""
    parts = (body.get("chart"), body.get("reading"), body.get("birth"), body.get("user_id"))
    return body["status"] == "completed" and all(parts)


def _crash(pg: EmbeddedPostgres) -> None:
    """SIGKILL the server and all its backends at once, as when its node or pod is lost
    (`pg.kill()` signals the postmaster alone and leaves its backends to notice)."""
    assert pg.proc is not None
    os.killpg(pg.proc.pid, signal.SIGKILL)  # started in its own session: pgid == pid
    pg.proc.wait(10)


async def _status_busy(http: aiohttp.ClientSession, status: str) -> bool:
    """Whether the status consumer has events waiting or being projected right now."""
    async with http.get(f"{status}/v1/pipeline") as resp:
        if resp.status != 200:
            return False
        stage = (await resp.json())["stages"]["status"]
    return bool((stage.get("pending") or 0) + (stage.get("in_flight") or 0))
