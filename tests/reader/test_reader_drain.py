"""A draining reader starts no new LLM call: the charts it holds go to another replica now.

Real NATS, two reader replicas (consume loop, writer, OpenAI provider) on
the same durable consumer, each calling its own local OpenAI-compatible
server, so each server's log is one replica's calls.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

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
from tests.reader.fake_openai import CallRecord, Script, fake_openai

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

CALLS, PREFETCH = 2, 3
HELD = CALLS + PREFETCH  # what one replica holds: its calls and the charts waiting for one


@dataclass
class Replica:
    loop: ConsumeLoop
    stopping: asyncio.Event  # the runner's SIGTERM event
    provider: OpenAIProvider

    async def stop(self) -> None:
        """As the runner does on SIGTERM: signal, then drain the consume loop."""
        self.stopping.set()
        await self.loop.stop(timeout_s=30)
        await self.provider.close()


def replica(js: JetStreamContext, url: str) -> Replica:
    settings = ReaderSettings(openai_api_key=SecretStr("sk-test"), openai_base_url=url,
                              openai_model="test-model", reader_concurrency=CALLS,
                              reader_prefetch=PREFETCH)  # fmt: skip
    assert settings.reader_held == HELD
    publisher, stopping = Publisher(js, service="tests"), asyncio.Event()
    provider = OpenAIProvider(settings)
    writer = ReadingWriter(provider, calls=settings.reader_concurrency, js=js, stopping=stopping)
    loop = ConsumeLoop(js, READER, service="reader", publisher=publisher, handler=writer.handle,
                       concurrency=settings.reader_held, fails_as="reader",
                       poll_s=0.2)  # fmt: skip
    loop.start()
    return Replica(loop, stopping, provider)


async def generated(js: JetStreamContext) -> dict[str, int]:
    info = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter("reading.generated")
    )
    return dict(info.state.subjects or {})


async def test_a_draining_reader_hands_its_waiting_charts_to_another_replica(
    js: JetStreamContext,
) -> None:
    ids = [f.new_id() for _ in range(HELD)]
    # The first replica's calls take a while: they are still running when it is told to stop.
    first_llm, second_llm = Script(first_token_delay_s=2.0), Script()
    await ensure_consumer(js, READER)
    async with fake_openai(first_llm) as first_url, fake_openai(second_llm) as second_url:
        first = replica(js, first_url)
        publisher = Publisher(js, service="tests")
        for rid in ids:
            await publisher.publish(f.calculated(rid))
        async with asyncio.timeout(20):  # it holds every chart: two calls, three waiting
            while first.loop.in_flight < HELD or first_llm.active < CALLS:
                await asyncio.sleep(0.01)
        second = replica(js, second_url)
        stop_signalled = time.time()
        await first.stop()  # returns once its running calls are done
        async with asyncio.timeout(30):
            while len(await generated(js)) < HELD:
                await asyncio.sleep(0.05)
        await second.stop()

    # The draining replica started no call once told to stop, and finished the ones it had.
    assert first_llm.call_log, "the first replica made no call at all"
    assert [c for c in first_llm.call_log if c.started >= stop_signalled] == []
    assert {c.outcome for c in first_llm.call_log} == {"completed"}
    # The charts it held without a call went to the other replica, which wrote them.
    assert second_llm.call_log, "the second replica wrote nothing"
    # Every reading: exactly one call, completed, named by the reading and version.
    calls: dict[str, list[CallRecord]] = {}
    for script in (first_llm, second_llm):
        for request_id, records in script.calls_by_request().items():
            calls.setdefault(request_id, []).extend(records)
    assert {k: [c.outcome for c in v] for k, v in calls.items()} == {
        f"{rid}:v1": ["completed"] for rid in ids
    }
    # And one `reading.generated` each in the stream.
    assert await generated(js) == {names.subject_for("reading.generated", rid): 1 for rid in ids}
