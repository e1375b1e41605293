"""Infrastructure outages: a stopped broker or database is said loudly, never hangs."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import post_reading, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
async def own_stack(tmp_path):
    """A stack on its own broker and database, so the test may stop them."""
    nats = EmbeddedNats(tmp_path / "nats", free_port())
    pg = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=False)
    await asyncio.to_thread(nats.start)
    await asyncio.to_thread(pg.start)
    settings = on_free_ports(tmp_path, nats.url, pg.url)
    st = Stack(settings, extra_env={"LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3"})
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


async def test_database_outage_is_503_and_the_projection_catches_up(own_stack) -> None:
    st, _, pg = own_stack
    s = st.settings
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    async with aiohttp.ClientSession() as http:
        first = await post_reading(http, intake)
        await wait_status(http, status, first, {"completed"})
        await asyncio.to_thread(pg.stop)
        async with http.get(f"{status}/v1/readings/{first}") as resp:
            assert resp.status == 503 and resp.headers["Retry-After"]
        assert await ready(http, s.status_port) == 503
        during = [await post_reading(http, intake) for _ in range(5)]  # intake still accepts
        await asyncio.sleep(1.0)
        await asyncio.to_thread(pg.start)
        for rid in during:
            await wait_status(http, status, rid, {"completed"}, timeout_s=60)
