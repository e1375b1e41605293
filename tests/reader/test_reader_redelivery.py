"""A chart delivered again after its version was generated or cancelled costs no LLM call.

Real NATS, the real consume loop and the OpenAI provider against the local
OpenAI-compatible server, whose own log counts the calls per request id
(`<reading_id>:v<version>`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from pydantic import SecretStr

from services.reader.handlers import ReadingWriter
from services.reader.providers import OpenAIProvider
from shared import names
from shared.bus.consumer import ConsumeLoop, Handler, Produced
from shared.bus.context import Context
from shared.bus.outcomes import Transient
from shared.bus.publish import Publisher
from shared.bus.topology import READER, ensure_consumer
from shared.events.chart_calculated import ChartCalculated
from shared.events.envelope import Envelope
from shared.settings import ReaderSettings
from tests import factories as f
from tests.reader.fake_openai import Script, fake_openai

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

ReaderHandler = Handler[ChartCalculated]
# Wraps the reader's handler for the first delivery of a chart.
FirstDelivery = Callable[[ReaderHandler], ReaderHandler]


def skipped(reason: str) -> float:
    labels = {"service": "reader", "reason": reason}
    return REGISTRY.get_sample_value("hd_events_skipped_total", labels) or 0.0


async def stored(js: JetStreamContext, event_type: str, reading_id: str) -> int:
    """How many `event_type` events about the reading the stream holds."""
    subject = names.subject_for(event_type, reading_id)
    info = await js.stream_info(names.STREAM, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


def ack_lost(handle: ReaderHandler) -> ReaderHandler:
    """The reader writes the reading and publishes it, then its ack never arrives."""

    async def first(data: ChartCalculated, ctx: Context) -> Produced:
        for out in await handle(data, ctx):
            await ctx.emit(out)
        raise Transient("the replica died before its ack", delay_s=0.1)

    return first


def replica_died(handle: ReaderHandler) -> ReaderHandler:
    """The replica holding the chart died before it did anything with it."""

    async def first(data: ChartCalculated, ctx: Context) -> Produced:
        raise Transient("the replica died holding the chart", delay_s=0.1)

    return first


@asynccontextmanager
async def reader(
    js: JetStreamContext, script: Script, first_delivery: FirstDelivery
) -> AsyncIterator[list[int]]:
    """A reader replica whose first delivery of each chart ends as `first_delivery` says.

    Yields the delivery attempts its handler saw, in order.
    """
    attempts: list[int] = []
    async with fake_openai(script) as url:
        publisher = Publisher(js, service="tests")
        provider = OpenAIProvider(ReaderSettings(
            openai_api_key=SecretStr("sk-test"), openai_base_url=url, openai_model="test-model",
        ))  # fmt: skip
        writer = ReadingWriter(provider, js=js)
        first = first_delivery(writer.handle)

        async def handle(data: ChartCalculated, ctx: Context) -> Produced:
            attempts.append(ctx.delivery.attempt)
            return await (first if ctx.delivery.attempt == 1 else writer.handle)(data, ctx)

        await ensure_consumer(js, READER)
        loop = ConsumeLoop(js, READER, service="reader", publisher=publisher, handler=handle,
                           fails_as="reader", poll_s=0.2)  # fmt: skip
        loop.start()
        try:
            yield attempts
        finally:
            await loop.stop(5)
            await provider.close()


async def settled(js: JetStreamContext, attempts: list[int], deliveries: int) -> None:
    """Until the chart was delivered `deliveries` times and then acknowledged."""
    async with asyncio.timeout(20):
        while True:
            info = await js.consumer_info(names.STREAM, READER.durable)
            if len(attempts) >= deliveries and not info.num_pending and not info.num_ack_pending:
                return
            await asyncio.sleep(0.05)


async def test_a_chart_redelivered_after_its_reading_was_generated_calls_the_llm_once(
    js: JetStreamContext,
) -> None:
    rid = f.new_id()
    script = Script()
    before = skipped("already_generated")
    async with reader(js, script, ack_lost) as attempts:
        await Publisher(js, service="tests").publish(f.calculated(rid, version=1))
        await settled(js, attempts, deliveries=2)
    assert attempts == [1, 2]  # it did come back
    calls = script.calls_by_request()
    assert list(calls) == [f"{rid}:v1"]  # the call is named by the reading and its version
    assert [c.outcome for c in calls[f"{rid}:v1"]] == ["completed"]  # one call, no second
    assert await stored(js, "reading.generated", rid) == 1
    assert skipped("already_generated") == before + 1


@pytest.mark.parametrize(
    ("earlier", "earlier_version", "version", "written"),
    [
        (f.cancelled, 1, 1, False),  # cancelled (and this replica never heard of it)
        (f.generated, 2, 1, False),  # a later version was written: this one is not wanted
        (f.generated, 1, 2, True),  # only an earlier version was written: this one is
    ],
    ids=["cancelled", "later-version-generated", "earlier-version-generated"],
)
async def test_a_redelivered_chart_is_written_only_if_its_version_is_not_done(
    js: JetStreamContext,
    earlier: Callable[..., Envelope[Any]],
    earlier_version: int,
    version: int,
    written: bool,
) -> None:
    rid = f.new_id()
    script = Script()
    publisher = Publisher(js, service="tests")
    await publisher.publish(earlier(rid, version=earlier_version))
    async with reader(js, script, replica_died) as attempts:
        await publisher.publish(f.calculated(rid, version=version))
        await settled(js, attempts, deliveries=2)
    assert attempts == [1, 2]
    calls = {k: [c.outcome for c in v] for k, v in script.calls_by_request().items()}
    assert calls == ({f"{rid}:v{version}": ["completed"]} if written else {})
    generated = 1 if earlier is f.generated else 0
    assert await stored(js, "reading.generated", rid) == generated + written
