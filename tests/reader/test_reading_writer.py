"""The reader's handler on its own: a chart in, `reading.started` emitted, live text sent,
`reading.generated` returned, with an in-memory context (`shared.bus.memory`), no broker.

The real-NATS tests next to this one (`test_reader_*.py`, `test_call_slots.py`) run the
same handler in the consume loop against a local OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from services.reader.handlers import ReadingWriter
from services.reader.providers import Generation, OfflineProvider, TextSink
from shared.bus.cancellations import CancelledReadings
from shared.bus.memory import MemoryContext
from shared.bus.outcomes import Permanent, Release
from shared.events.chart import Chart
from shared.events.chart_calculated import ChartCalculated
from shared.events.reading_generated import ReadingGenerated, Usage
from shared.events.reading_started import ReadingStarted
from tests import factories as f


@dataclass
class Scripted:
    """A provider that writes `chunks`, waiting for `proceed` after the first one."""

    chunks: list[str]
    proceed: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: asyncio.Event = field(default_factory=asyncio.Event)  # set at the first wait
    fail_with: Exception | None = None
    calls: int = 0
    name: str = "scripted"
    model: str = "scripted-1"

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink, *, call_id: str
    ) -> Generation:
        self.calls += 1
        for n, chunk in enumerate(self.chunks):
            await on_text(chunk)
            if n == 0:
                self.waiting.set()
                await self.proceed.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return Generation("".join(self.chunks), self.model, Usage(), composed_offline=False)

    async def close(self) -> None:
        return None


def chart_of(version: int = 1) -> ChartCalculated:
    data: ChartCalculated = f.calculated(f.new_id(), version=version).data
    return data.model_copy(update={"agent": "business", "language": "de"})


async def test_a_reading_is_announced_streamed_and_returned() -> None:
    data, ctx = chart_of(version=2), MemoryContext()
    returned = await ReadingWriter(OfflineProvider()).handle(data, ctx)
    [started] = ctx.emitted  # emitted while the call ran, not returned
    assert isinstance(started, ReadingStarted)
    assert (started.reading_id, started.version, started.provider, started.agent) == (
        data.reading_id, 2, "offline", "business")  # fmt: skip
    [generated] = returned
    assert isinstance(generated, ReadingGenerated)
    assert (generated.reading_id, generated.version, generated.language) == (
        data.reading_id, 2, "de")  # fmt: skip
    assert generated.composed_offline
    assert ctx.live_text == generated.text  # the live text is the reading, piece by piece
    assert ctx.stored(returned) == [started, generated]


async def test_live_text_waits_until_the_announcement_is_stored() -> None:
    gate = asyncio.Event()
    data, ctx = chart_of(), MemoryContext(emit_gate=gate)
    provider = Scripted(["First ", "words"])
    handling = asyncio.create_task(ReadingWriter(provider).handle(data, ctx))
    await asyncio.wait_for(provider.waiting.wait(), 5)
    assert ctx.pieces == []  # written, but `reading.started` is not stored yet
    gate.set()
    provider.proceed.set()
    returned = await asyncio.wait_for(handling, 5)
    assert ctx.live_text == "First words"
    assert [type(e) for e in ctx.stored(returned)] == [ReadingStarted, ReadingGenerated]


async def test_an_announcement_the_bus_did_not_take_goes_out_before_the_reading() -> None:
    data, ctx = chart_of(), MemoryContext(emit_error=TimeoutError("no ack"))
    provider = Scripted(["The whole ", "reading"])
    provider.proceed.set()
    returned = await ReadingWriter(provider).handle(data, ctx)
    # Returned in order, for the loop to publish with its longer budget; no second call.
    assert [type(e) for e in returned] == [ReadingStarted, ReadingGenerated]
    assert provider.calls == 1
    assert ctx.pieces == []  # nobody saw text of a reading that was not announced


async def test_a_cancelled_chart_costs_no_call_and_a_cancel_while_writing_stops_it() -> None:
    cancelled = CancelledReadings()
    provider = Scripted(["Half a ", "reading"])
    writer = ReadingWriter(provider, cancelled)
    before = chart_of()
    cancelled.add(before.reading_id, 1)
    ctx = MemoryContext()
    assert await writer.handle(before, ctx) == []
    assert provider.calls == 0 and ctx.emitted == []

    during, ctx = chart_of(), MemoryContext()
    handling = asyncio.create_task(writer.handle(during, ctx))
    await asyncio.wait_for(provider.waiting.wait(), 5)
    cancelled.add(during.reading_id, 1)
    assert await asyncio.wait_for(handling, 5) == []  # no `reading.generated`, no failure
    assert ctx.live_text == "Half a "  # and nothing after the cancel
    assert provider.calls == 1


async def test_a_failed_call_is_the_loops_to_report() -> None:
    provider = Scripted(["Some text"], fail_with=Permanent("content_filter", "refused"))
    provider.proceed.set()
    ctx = MemoryContext()
    with pytest.raises(Permanent) as failed:
        await ReadingWriter(provider).handle(chart_of(), ctx)
    assert failed.value.code == "content_filter"
    assert [type(e) for e in ctx.emitted] == [ReadingStarted]


async def test_a_draining_replica_releases_a_chart_unless_it_is_the_last_delivery() -> None:
    stopping = asyncio.Event()
    stopping.set()
    provider = OfflineProvider()
    writer = ReadingWriter(provider, calls=1, stopping=stopping)
    with pytest.raises(Release):
        await writer.handle(chart_of(), MemoryContext(attempt=2, max_deliver=6))
    # JetStream would not deliver it again: written rather than lost.
    returned = await writer.handle(chart_of(), MemoryContext(attempt=6, max_deliver=6))
    assert [type(e) for e in returned] == [ReadingGenerated]
