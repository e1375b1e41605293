"""READER_CONCURRENCY caps the calls; READER_PREFETCH charts wait ready for a free slot.

Real NATS, the real consume loop and the OpenAI provider against the local
OpenAI-compatible server, which counts the answers it streams at once.
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

CALLS, PREFETCH, READINGS = 4, 3, 20


async def test_calls_never_exceed_the_cap_while_charts_wait_ready(js: JetStreamContext) -> None:
    settings = ReaderSettings(reader_concurrency=CALLS, reader_prefetch=PREFETCH)
    assert settings.reader_held == CALLS + PREFETCH
    script = Script(first_token_delay_s=0.2)
    publisher = Publisher(js, service="tests")
    ids = [f.new_id() for _ in range(READINGS)]
    for rid in ids:
        await publisher.publish(f.calculated(rid))
    async with fake_openai(script) as url:
        provider = OpenAIProvider(ReaderSettings(
            openai_api_key=SecretStr("sk-test"), openai_base_url=url, openai_model="m",
            reader_concurrency=CALLS,
        ))  # fmt: skip
        await ensure_consumer(js, READER)
        writer = ReadingWriter(provider, calls=settings.reader_concurrency)
        loop = ConsumeLoop(js, READER, service="reader", publisher=publisher,
                           handler=writer.handle, concurrency=settings.reader_held,
                           fails_as="reader")  # fmt: skip
        loop.start()
        held = 0
        try:
            async with asyncio.timeout(30):
                while len(script.calls) < READINGS or script.active:
                    held = max(held, loop.in_flight)
                    await asyncio.sleep(0.01)
                while (await js.consumer_info(names.STREAM, READER.durable)).num_ack_pending:
                    await asyncio.sleep(0.05)
        finally:
            await loop.stop(5)
            await provider.close()
    assert script.peak_active == CALLS  # the cap is reached and never passed
    assert held == CALLS + PREFETCH  # the prefetched charts waited in the replica
    generated = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter("reading.generated")
    )
    written = generated.state.subjects or {}
    # Every reading written, once each.
    assert [written.get(names.subject_for("reading.generated", rid)) for rid in ids] == [
        1
    ] * READINGS
