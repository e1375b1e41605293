"""Secrets never reach a log line or an error body, even when things go wrong."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import post_reading, wait_status
from tests.reader.fake_openai import Script, fake_openai

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

API_KEY = "sk-CANARY-api-key-7f3a9c2e41d84b6f"
DB_PASSWORD = "pw-CANARY-db-5e8d1b7a"


async def test_api_key_and_database_password_appear_nowhere(
    nats_url, js, tmp_path: Path, pg_dir: Path
) -> None:
    pg = EmbeddedPostgres(pg_dir / "pg", free_port(), durable=False)
    await asyncio.to_thread(pg.start)
    admin = await asyncpg.connect(pg.url)
    await admin.execute(f"CREATE ROLE canary LOGIN PASSWORD '{DB_PASSWORD}'")
    await admin.execute("CREATE DATABASE canary OWNER canary")
    await admin.close()
    db_url = f"postgresql://canary:{DB_PASSWORD}@127.0.0.1:{pg.port}/canary"
    bodies: list[str] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        async with fake_openai(Script(mode="401")) as llm_url:
            settings = on_free_ports(tmp_path, nats_url, db_url)
            st = Stack(settings, log_dir=logs, extra_env={
                "LOG_FORMAT": "json", "LOG_LEVEL": "debug", "DRAIN_TIMEOUT_S": "3",
                "OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": llm_url,
                "DATABASE_OUTAGE_GRACE_S": "0",  # /readyz says at once why (and no secret)
            })  # fmt: skip
            st.start_services()
            try:
                assert await asyncio.to_thread(st.wait_ready, 60)
                intake = f"http://127.0.0.1:{settings.intake_port}"
                status = f"http://127.0.0.1:{settings.status_port}"
                async with aiohttp.ClientSession() as http:
                    rid = await post_reading(http, intake)  # the LLM refuses the key
                    body = await wait_status(http, status, rid, {"failed"})
                    assert body["error"]["code"] == "llm_unauthorized"
                    bodies.append(str(body))
                    async with http.post(f"{intake}/v1/readings", data=b"{bad") as resp:
                        bodies.append(await resp.text())
                    await asyncio.to_thread(pg.stop)  # the database goes away
                    for path in (f"/v1/readings/{rid}", "/readyz", "/v1/pipeline"):
                        async with http.get(status + path) as resp:
                            assert resp.status == 503
                            bodies.append(await resp.text())
                    for port in (settings.chart_ops_port, settings.reader_ops_port):
                        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                            bodies.append(await resp.text())
                    await asyncio.sleep(1.0)
            finally:
                await asyncio.to_thread(st.stop, 10)
    finally:
        await asyncio.to_thread(pg.stop)
    text = "\n".join(p.read_text(errors="replace") for p in logs.iterdir())
    assert "reading provider" in text and "database" in text  # the logs were captured
    for secret in (API_KEY, DB_PASSWORD):
        assert secret not in text, f"a secret leaked into a log: {secret[:12]}..."
        assert all(secret not in b for b in bodies), "a secret leaked into a response"
