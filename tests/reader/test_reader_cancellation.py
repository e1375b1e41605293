"""The reader skips a cancelled chart and stops a streaming generation when it is cancelled.

Real NATS, the real consume loop and the OpenAI provider against the local
OpenAI-compatible server, so "the call is abandoned" means the HTTP stream was
really closed (the server sees its client go).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from pydantic import SecretStr

from services.reader.handlers import ReadingWriter
from services.reader.providers import OpenAIProvider
from shared import names
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import ConsumeLoop
from shared.bus.publish import Publisher
from shared.bus.topology import READER, ensure_consumer
from shared.events.registry import decode
from shared.settings import ReaderSettings
from tests import factories as f
from tests.reader.fake_openai import Script, fake_openai

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

Seen = list[tuple[str, str, int]]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@dataclass
class Replica:
    nc: NATS
    js: JetStreamContext
    pieces: Counter[str]
    script: Script
    publisher: Publisher
    cancelled: CancelledReadings

    async def events(self) -> Seen:
        """(type, reading id, version) of every event in the stream, in order."""
        last = (await self.js.stream_info(names.STREAM)).state.last_seq
        seen: Seen = []
        if not last:
            return seen
        sub = await self.js.subscribe(names.STREAM_SUBJECTS[0], ordered_consumer=True)
        try:
            while True:
                msg = await sub.next_msg(timeout=5)
                e = decode(msg.data)
                seen.append((e.type, e.subject, int(e.data.version)))
                if msg.metadata.sequence.stream >= last:
                    return seen
        finally:
            await sub.unsubscribe()

    async def deltas(self, reading_id: str) -> int:
        """How many pieces of the reading's live text were sent (as a status replica hears)."""
        await self.nc.flush()
        return self.pieces[reading_id]

    async def settled(self, timeout: float = 20) -> None:
        """Until every chart.calculated was delivered and acked (or termed)."""
        async with asyncio.timeout(timeout):
            while True:
                info = await self.js.consumer_info(names.STREAM, READER.durable)
                if not info.num_pending and not info.num_ack_pending and info.delivered.stream_seq:
                    return
                await asyncio.sleep(0.05)


@asynccontextmanager
async def running_reader(nc: NATS, js: JetStreamContext, script: Script) -> AsyncIterator[Replica]:
    """A reader replica in the test's event loop: cancellations, writer, consume loop."""
    pieces: Counter[str] = Counter()

    async def heard(msg: Msg) -> None:
        pieces[msg.subject.rsplit(".", 1)[-1]] += 1

    listening = await nc.subscribe(names.LIVE_TEXT_FILTER, cb=heard)
    async with fake_openai(script) as url:
        publisher = Publisher(js, service="tests")
        cancelled = CancelledReadings()
        await cancelled.start(js)
        provider = OpenAIProvider(ReaderSettings(
            openai_api_key=SecretStr("sk-test"), openai_base_url=url, openai_model="test-model",
            openai_timeout_s=30,
        ))  # fmt: skip
        await ensure_consumer(js, READER)
        loop = ConsumeLoop(js, READER, service="reader", publisher=publisher,
                           handler=ReadingWriter(provider, cancelled).handle, fails_as="reader",
                           nc=nc)  # fmt: skip
        loop.start()
        try:
            yield Replica(nc, js, pieces, script, publisher, cancelled)
        finally:
            await loop.stop(5)
            await cancelled.stop()
            await provider.close()
            await listening.unsubscribe()


async def test_a_cancelled_chart_is_skipped_without_calling_the_llm(
    nc: NATS, js: JetStreamContext
) -> None:
    rid, other = f.new_id(), f.new_id()
    script = Script()
    skipped = sample("hd_events_skipped_total", service="reader", reason="cancelled")
    pub = Publisher(js, service="tests")
    await pub.publish(f.cancelled(rid, version=1))
    async with running_reader(nc, js, script) as r:
        await pub.publish(f.calculated(rid, version=1))
        await pub.publish(f.calculated(other, version=1))
        await r.settled()
        seen = await r.events()
    assert len(script.calls) == 1  # only the reading that was not cancelled
    assert not [e for e in seen if e[1] == rid and e[0].startswith("reading.")
                and e[0] != "reading.cancelled"]  # fmt: skip
    assert ("reading.generated", other, 1) in seen
    assert sample("hd_events_skipped_total", service="reader", reason="cancelled") == skipped + 1


async def test_a_slow_generation_stops_when_cancelled_and_a_regeneration_runs(
    nc: NATS, js: JetStreamContext
) -> None:
    # ~96 chunks, 50 ms apart: about 5 s of streaming if nobody stops it.
    script = Script(text="A slow and careful reading of your design. " * 12, chunk_size=6,
                    chunk_delay_s=0.05)  # fmt: skip
    rid = f.new_id()
    cancelled_calls = sample("hd_llm_calls_total", provider="openai", outcome="cancelled")
    async with running_reader(nc, js, script) as r:
        await r.publisher.publish(f.calculated(rid, version=1))
        async with asyncio.timeout(10):
            while not (script.active and await r.deltas(rid)):
                await asyncio.sleep(0.05)
        await r.publisher.publish(f.cancelled(rid, version=1))
        stopped_at = asyncio.get_running_loop().time()
        await r.settled(timeout=5)
        async with asyncio.timeout(2):  # the server sees its client go: the stream is closed
            while script.active:
                await asyncio.sleep(0.02)
        assert asyncio.get_running_loop().time() - stopped_at < 2.5
        deltas_at_stop = await r.deltas(rid)
        await asyncio.sleep(0.5)
        assert await r.deltas(rid) == deltas_at_stop  # nothing more
        seen = await r.events()
        assert not [e for e in seen if e[0] in ("reading.generated", "reading.failed")]
        assert sample("hd_llm_calls_total", provider="openai", outcome="cancelled") == (
            cancelled_calls + 1
        )
        assert sample("hd_llm_calls_in_flight", provider="openai") == 0

        # A regeneration (a higher version) is written normally.
        script.chunk_delay_s = 0.0
        await r.publisher.publish(f.calculated(rid, version=2))
        async with asyncio.timeout(15):
            while ("reading.generated", rid, 2) not in await r.events():
                await asyncio.sleep(0.1)
        assert len(script.calls) == 2
