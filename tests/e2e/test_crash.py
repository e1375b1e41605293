"""Kill the chart process while it holds unacknowledged messages: every reading still
completes, exactly once."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import asyncpg
import pytest
from nats.js import JetStreamContext

from shared import names
from shared.bus.topology import CHART
from shared.launcher import Stack
from tests.e2e.helpers import post_reading

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

READINGS = 200


async def test_sigkill_of_chart_mid_batch_loses_nothing_and_doubles_nothing(
    stack: Stack, http: aiohttp.ClientSession, intake_url, database_url, js: JetStreamContext
) -> None:
    chart = stack.services["chart"]
    chart.kill()  # requests queue up in JetStream while it is down
    sem = asyncio.Semaphore(20)

    async def post() -> str:
        async with sem:
            return await post_reading(http, intake_url)

    ids = await asyncio.gather(*(post() for _ in range(READINGS)))
    assert len(set(ids)) == READINGS

    # Start chart and kill it again the moment it holds unacknowledged messages.
    chart.start()
    held = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = await js.consumer_info(names.STREAM, CHART.durable)
        if info.num_ack_pending > 0:
            chart.kill()
            held = info.num_ack_pending
            break
        await asyncio.sleep(0.002)
    assert held > 0, "chart never held unacknowledged messages"
    chart.start()

    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(120):
            while (
                await conn.fetchval(
                    "SELECT count(*) FROM readings WHERE id = ANY($1) AND status = 'completed'", ids
                )
                < READINGS
            ):
                await asyncio.sleep(0.25)
        charts = await conn.fetch(
            "SELECT reading_id, count(*) AS n FROM charts WHERE reading_id = ANY($1) "
            "GROUP BY reading_id", ids)  # fmt: skip
        versions = await conn.fetch(
            "SELECT reading_id, count(*) AS n FROM reading_versions WHERE reading_id = ANY($1) "
            "GROUP BY reading_id", ids)  # fmt: skip
        generated = await conn.fetch(
            "SELECT reading_id, count(*) AS n FROM reading_events WHERE reading_id = ANY($1) "
            "AND type = 'reading.generated' GROUP BY reading_id", ids)  # fmt: skip
    finally:
        await conn.close()
    assert len(charts) == READINGS and all(r["n"] == 1 for r in charts)
    assert len(versions) == READINGS and all(r["n"] == 1 for r in versions)
    assert len(generated) == READINGS and all(r["n"] == 1 for r in generated)
    # The killed process really held work that had to be delivered again.
    info = await js.consumer_info(names.STREAM, CHART.durable)
    assert info.delivered.consumer_seq > READINGS  # more deliveries than messages
    assert info.num_ack_pending == 0 and info.num_pending == 0
