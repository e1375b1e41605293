"""Chaos: readings posted while chart, reader, status, the NATS server and PostgreSQL
are each SIGKILLed and brought back. Every reading that got a 202 completes with exactly
one version, and the only 5xx anyone saw is 503.

Short form in `make test`; `make chaos` runs 1,000 readings (CHAOS_READINGS).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import Stack, on_free_ports

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

READINGS = int(os.environ.get("CHAOS_READINGS", "150"))
BODY = {"birth": {"date": "1979-03-04", "time": "06:45",
                  "place": {"latitude": 59.33, "longitude": 18.07}}}  # fmt: skip


async def test_every_accepted_reading_completes_exactly_once_through_chaos(tmp_path: Path) -> None:
    nats = EmbeddedNats(tmp_path / "nats", free_port())
    pg = EmbeddedPostgres(tmp_path / "pg", free_port(), durable=False)
    await asyncio.to_thread(nats.start)
    await asyncio.to_thread(pg.start)
    settings = on_free_ports(tmp_path, nats.url, pg.url)
    stack = Stack(settings, log_dir=tmp_path, extra_env={
        "LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3",
        "API_RATE_LIMIT": "",  # one client posting as fast as it can: no per-client limit
    })  # fmt: skip
    stack.start_services()
    accepted: list[str] = []
    statuses: Counter[int] = Counter()
    done_posting = asyncio.Event()

    async def supervise() -> None:  # what `make run` does: restart what died
        while True:
            await asyncio.to_thread(stack.supervise_once)
            await asyncio.sleep(0.2)

    async def post_all(http: aiohttp.ClientSession) -> None:
        intake = f"http://127.0.0.1:{settings.intake_port}/v1/readings"
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            async with sem:
                for _ in range(200):  # a client retries 503s as told
                    try:
                        async with http.post(intake, json=BODY) as resp:
                            statuses[resp.status] += 1
                            if resp.status == 202:
                                accepted.append((await resp.json())["id"])
                                return
                            retry = float(resp.headers.get("Retry-After", "1"))
                    except aiohttp.ClientError:
                        retry = 0.5  # intake itself restarting
                    await asyncio.sleep(min(retry, 1.0))

        await asyncio.gather(*(one() for _ in range(READINGS)))
        done_posting.set()

    async def chaos() -> None:
        await asyncio.sleep(0.5)
        for name in ("chart", "reader", "status"):
            stack.services[name].kill()
            await asyncio.sleep(1.5)
        await asyncio.to_thread(nats.kill)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(nats.start)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.kill)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(pg.start)

    supervisor = asyncio.create_task(supervise())
    try:
        assert await asyncio.to_thread(stack.wait_ready, 60)
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(post_all(http), chaos())
        conn = await _connect(pg.url)
        try:
            async with asyncio.timeout(180):
                while await conn.fetchval(
                    "SELECT count(*) FROM readings WHERE id = ANY($1) AND status = 'completed'",
                    accepted,
                ) < len(accepted):
                    await asyncio.sleep(0.5)
            versions = await conn.fetch(
                "SELECT reading_id, count(*) AS n FROM reading_versions WHERE reading_id = ANY($1)"
                " GROUP BY reading_id", accepted)  # fmt: skip
        finally:
            await conn.close()
    finally:
        supervisor.cancel()
        await asyncio.to_thread(stack.stop, 10)
        await asyncio.to_thread(nats.stop)
        await asyncio.to_thread(pg.stop)
    assert len(accepted) == READINGS
    assert len(versions) == READINGS and all(r["n"] == 1 for r in versions)
    assert {s for s in statuses if s >= 500} <= {503}, statuses


async def _connect(url: str) -> asyncpg.Connection:
    for _ in range(50):
        try:
            return await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.2)
    return await asyncpg.connect(url)
