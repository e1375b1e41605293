"""The reader with a real OpenAI-compatible HTTP server: shared limits across three
replicas, and a reader killed mid-stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from nats.js import JetStreamContext

from shared.embedded.process import free_port
from shared.launcher import ServiceProcess, Stack, on_free_ports
from tests.e2e.helpers import post_reading, running
from tests.reader.fake_openai import Script, fake_openai
from tests.reader.test_limiter import max_in_any_window

# Single node: the limiter across replicas on a cluster is tests/reader/test_limiter.py, and a
# reader killed mid-stream on a cluster is the chaos test (tests/e2e/test_chaos.py).
pytestmark = [pytest.mark.integration, pytest.mark.e2e]

KEY = "sk-test-e2e-not-a-real-key-000000"


@asynccontextmanager
async def llm_stack(
    nats_url: str, database_url: str, tmp_path: Path, script: Script, **env: str
) -> AsyncIterator[Stack]:
    async with fake_openai(script) as llm_url:
        settings = on_free_ports(tmp_path, nats_url, database_url)
        st = Stack(settings, extra_env={
            "LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "5", "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": llm_url, "OPENAI_MODEL": "test-model", **env,
        })  # fmt: skip
        async with running(st):
            yield st


async def completed_versions(database_url: str, ids: list[str], timeout_s: float) -> list[int]:
    """Wait until every reading completed; return each one's number of versions."""
    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(timeout_s):
            while await conn.fetchval(
                "SELECT count(*) FROM readings WHERE id = ANY($1) AND status = 'completed'", ids
            ) < len(ids):
                await asyncio.sleep(0.2)
        rows = await conn.fetch(
            "SELECT r.id, count(v.version) AS n FROM readings r LEFT JOIN reading_versions v"
            " ON v.reading_id = r.id WHERE r.id = ANY($1) GROUP BY r.id", ids)  # fmt: skip
        return [r["n"] for r in rows]
    finally:
        await conn.close()


async def test_three_replicas_share_one_limit(
    nats_url, database_url, tmp_path, js: JetStreamContext
) -> None:
    script = Script(text="A short reading.")
    window, limit = 3.0, 30
    async with llm_stack(nats_url, database_url, tmp_path, script, READER_RPM=str(limit),
                         READER_LIMIT_WINDOW_S=str(window)) as st:  # fmt: skip
        extra = []
        for _ in range(2):
            port = free_port()
            svc = ServiceProcess("reader", {**st.services["reader"].env,
                                            "READER_OPS_PORT": str(port)}, port)  # fmt: skip
            svc.start()
            extra.append(svc)
        try:
            while not all(s.ready() for s in extra):
                await asyncio.sleep(0.1)
            intake = f"http://127.0.0.1:{st.settings.intake_port}"
            async with aiohttp.ClientSession() as http:
                ids = await asyncio.gather(*(post_reading(http, intake) for _ in range(75)))
            versions = await completed_versions(database_url, list(ids), 90)
        finally:
            for svc in extra:
                svc.stop(10)
    assert versions == [1] * 75
    assert len(script.call_times) == 75
    assert max_in_any_window(script.call_times, window) <= limit
    # The limit was the bottleneck: 75 calls at 30 per 3 s take more than two windows.
    assert max(script.call_times) - min(script.call_times) >= 2 * window * 0.9


async def test_a_reader_killed_mid_stream_loses_nothing_and_doubles_nothing(
    nats_url, database_url, tmp_path, js: JetStreamContext
) -> None:
    script = Script(text="Streaming, slowly, word by word. " * 8, chunk_size=12,
                    first_token_delay_s=0.3, chunk_delay_s=0.15)  # fmt: skip
    async with llm_stack(nats_url, database_url, tmp_path, script) as st:
        intake = f"http://127.0.0.1:{st.settings.intake_port}"
        async with aiohttp.ClientSession() as http:
            ids = list(await asyncio.gather(*(post_reading(http, intake) for _ in range(12))))
        deadline = time.monotonic() + 30
        while script.active < 6:
            assert time.monotonic() < deadline, "the streams never started"
            await asyncio.sleep(0.02)
        st.services["reader"].kill()  # SIGKILL while streams are open
        st.services["reader"].start()
        versions = await completed_versions(database_url, ids, 120)
        conn = await asyncpg.connect(database_url)
        try:
            texts = await conn.fetch(
                "SELECT text FROM reading_versions WHERE reading_id = ANY($1)", ids
            )
        finally:
            await conn.close()
    assert versions == [1] * 12
    assert all(r["text"] == script.text for r in texts)  # whole, not cut or doubled
    assert len(script.calls) > 12  # the killed calls were made again
