"""The reader writes high-priority charts before a backlog of normal ones.

Real NATS, the real consume loop and the OpenAI provider against the local
test server, one LLM call at a time (READER_CONCURRENCY=1) with a slow first
token. The order is the test server's own call log (`X-Client-Request-Id`),
not a clock: with charts held ready for a slot (READER_PREFETCH) and without.
"""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr

from services.reader.handlers import ReadingWriter
from services.reader.providers import OpenAIProvider
from shared import names
from shared.bus.consumer import ConsumeLoop
from shared.bus.publish import Publisher
from shared.bus.topology import READER, ensure_consumer
from shared.settings import ReaderSettings
from tests import factories as f
from tests.reader.fake_openai import Script, fake_openai

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

NORMAL, HIGH = 20, 2


async def unacked(js: JetStreamContext, durable: str) -> int:
    return int((await js.consumer_info(names.STREAM, durable)).num_ack_pending or 0)


@pytest.mark.parametrize("prefetch", [0, 3])
async def test_high_charts_overtake_a_backlog_of_normal_ones(
    js: JetStreamContext, prefetch: int
) -> None:
    settings = ReaderSettings(reader_concurrency=1, reader_prefetch=prefetch)
    script = Script(first_token_delay_s=0.1)
    pub = Publisher(js, service="tests")
    normal = [f.new_id() for _ in range(NORMAL)]
    high = [f.new_id() for _ in range(HIGH)]
    for rid in normal:
        await pub.publish(f.calculated(rid))
    async with fake_openai(script) as url:
        provider = OpenAIProvider(ReaderSettings(
            openai_api_key=SecretStr("sk-test"), openai_base_url=url, openai_model="m",
            reader_concurrency=1,
        ))  # fmt: skip
        await ensure_consumer(js, READER)
        writer = ReadingWriter(provider, calls=settings.reader_concurrency)
        loop = ConsumeLoop(js, READER, service="reader", publisher=pub, handler=writer.handle,
                           concurrency=settings.reader_held, fails_as="reader")  # fmt: skip
        loop.start()
        try:
            async with asyncio.timeout(60):
                # The backlog is being written (and `prefetch` charts wait for the slot)...
                while not script.call_log or loop.in_flight < settings.reader_held:
                    await asyncio.sleep(0.01)
                for rid in high:  # ...when the high ones arrive
                    await pub.publish(f.calculated(rid, priority="high"))
                while len(script.call_log) < NORMAL + HIGH or script.active:
                    await asyncio.sleep(0.02)
                while [await unacked(js, s.durable) for s in READER.lanes] != [0, 0]:
                    await asyncio.sleep(0.05)
        finally:
            await loop.stop(5)
            await provider.close()
    order = [c.request_id.split(":")[0] for c in script.call_log if c.request_id]
    assert sorted(order) == sorted(normal + high), "every chart written once"
    positions = [order.index(rid) for rid in high]
    # Ahead of them only what was being written, or already held for the slot when they
    # came, plus the one that took the freed slot while the first high one was fetched.
    assert positions == sorted(positions), "high ones in their own order"
    assert max(positions) <= prefetch + 3, f"high written at {positions} of {len(order)}"
    assert [rid for rid in order if rid in normal] == normal
