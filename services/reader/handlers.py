"""Handle `chart.calculated`: announce, write the reading, stream deltas, return the result.

`ReadingWriter.handle(data, ctx)` is a handler of the consume loop
(`shared.bus.consumer`): it announces the reading through `ctx.emit` as its LLM
call starts, sends the live text through `ctx.send_live`, and returns
`reading.generated` for the loop to publish. Failures are the loop's to report
(`reading.failed`, stage `reader`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext

from services.reader.agents import prompt_version
from services.reader.deltas import DeltaCoalescer
from services.reader.providers import Generation, Provider, call_id_for
from services.reader.redelivery import CANCELLED, done_before
from services.reader.slots import CallSlots
from shared.bus.cancellations import CancelledReadings
from shared.bus.context import Context
from shared.events.base import ReadingEvent
from shared.events.chart_calculated import ChartCalculated
from shared.events.reading_delta import ReadingDelta
from shared.events.reading_generated import ReadingGenerated
from shared.events.reading_started import ReadingStarted
from shared.metrics import EVENTS_SKIPPED


class ReadingWriter:
    """Writes one reading per `chart.calculated`; no LLM call a reading does not need.

    With `cancelled`, a chart whose version is cancelled is acked with nothing
    published, and a cancel that arrives while the reading is being written
    abandons the LLM call (its task is cancelled, which closes the stream) and
    publishes nothing more for it: no further delta, no `reading.generated`,
    no `reading.failed`.

    With `js`, a redelivered chart whose version the stream already holds as
    generated or cancelled is acked with nothing published (`redelivery`).
    With `stopping` (the runner's SIGTERM event), a chart that has no call slot
    yet when the replica drains is released to another replica (`slots`).
    """

    def __init__(
        self,
        provider: Provider,
        cancelled: CancelledReadings | None = None,
        *,
        calls: int | None = None,
        js: JetStreamContext | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._provider = provider
        self._cancelled = cancelled
        self._js = js
        self._writing: dict[str, DeltaCoalescer] = {}  # reading id -> its live text
        # The replica's cap on concurrent calls (READER_CONCURRENCY). The consume loop
        # holds a few more charts than that (READER_PREFETCH), each waiting here: when a
        # call ends, the next starts at once instead of after publishing, acking and a
        # fetch round trip. Waiting charts are in-flight messages (heartbeated).
        self._slots = CallSlots(calls, stopping)

    async def handle(self, data: ChartCalculated, ctx: Context) -> list[ReadingEvent]:
        delivery = ctx.delivery
        if delivery.redelivered and self._js is not None:
            done = await done_before(self._js, data.reading_id, data.version)
            if done is not None:
                return _skip(ctx, "before writing", reason=done)
        if self._is_cancelled(data):
            return _skip(ctx, "before writing")
        # Released instead of a slot once draining, unless JetStream would not deliver
        # it again: on its last delivery the chart is written rather than lost.
        async with self._slots.call(releasable=not delivery.last, priority=data.priority):
            if self._is_cancelled(data):
                return _skip(ctx, "before writing")
            written = await self._write(data, ctx)
        # The call slot is free again: the outcome is published while the next call starts.
        return written if isinstance(written, list) else await self._finish(written)

    async def _write(self, data: ChartCalculated, ctx: Context) -> list[ReadingEvent] | _Call:
        """The LLM call, streaming its text as deltas; its outcome is returned by `_finish`."""
        started = time.monotonic()
        # Announced while the call starts, not before: the LLM's first token is seconds
        # away, and the announcement is stored before any text (the deltas wait for it).
        announcement = ReadingStarted(
            reading_id=data.reading_id, version=data.version, provider=self._provider.name,
            model=self._provider.model, agent=data.agent, language=data.language,
        )  # fmt: skip
        announced = asyncio.ensure_future(ctx.emit(announcement))
        deltas = DeltaCoalescer(ctx.send_live, data.reading_id, data.version, after=announced)
        self._writing[data.reading_id] = deltas
        try:
            gen = await self._generate(data, deltas)
        except BaseException as exc:
            deltas.abandon()
            self._forget(data.reading_id, deltas)
            await _settled(announced)
            if isinstance(exc, Exception) and self._is_cancelled(data):
                return _skip(ctx, "after a failed call")  # nobody wants it any more
            raise
        return _Call(data, ctx, gen, deltas, announcement, announced, started)

    def so_far(self, reading_id: str) -> ReadingDelta | None:
        """The live text so far of a reading this replica is writing (`shared.bus.live`)."""
        deltas = self._writing.get(reading_id)
        return deltas.so_far() if deltas is not None else None

    def _forget(self, reading_id: str, deltas: DeltaCoalescer) -> None:
        if self._writing.get(reading_id) is deltas:
            del self._writing[reading_id]

    async def _finish(self, call: _Call) -> list[ReadingEvent]:
        try:
            return await self._outcome(call)
        finally:
            self._forget(call.data.reading_id, call.deltas)

    async def _outcome(self, call: _Call) -> list[ReadingEvent]:
        data, gen = call.data, call.gen
        await _settled(call.announced)
        if gen is None:
            call.deltas.abandon()
            return _skip(call.ctx, "while writing")
        await call.deltas.flush()
        if self._is_cancelled(data):
            return _skip(call.ctx, "once written")
        latency = time.monotonic() - call.started
        call.ctx.log.info("reading written", provider=self._provider.name,
                          latency_s=round(latency, 3), chars=len(gen.text))  # fmt: skip
        generated = ReadingGenerated(
            reading_id=data.reading_id, version=data.version, text=gen.text,
            provider=self._provider.name, model=gen.model, composed_offline=gen.composed_offline,
            agent=data.agent, language=data.language,
            prompt_version=prompt_version(data.agent), usage=gen.usage, latency_s=latency,
        )  # fmt: skip
        outputs: list[ReadingEvent] = [generated]
        if call.announced.cancelled() or call.announced.exception() is not None:
            # The bus did not take the announcement while the call ran: it goes out now,
            # before the result, with the consume loop's longer budget, rather than
            # failing an attempt whose text is written (a second call for the same words).
            outputs.insert(0, call.announcement)
        return outputs

    async def _generate(self, data: ChartCalculated, deltas: DeltaCoalescer) -> Generation | None:
        """The provider's generation, or None when the reading was cancelled meanwhile."""
        generation = self._provider.generate(
            data.chart, data.agent, data.language, deltas.add,
            call_id=call_id_for(data.reading_id, data.version),
        )  # fmt: skip
        if self._cancelled is None:
            return await generation
        with self._cancelled.watch(data.reading_id, data.version) as cancelled:
            call = asyncio.ensure_future(generation)
            stop = asyncio.ensure_future(cancelled.wait())
            try:
                await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                if not call.done():
                    # Abandon the call: its stream is closed before this returns.
                    call.cancel()
                    await asyncio.gather(call, return_exceptions=True)
            if call.cancelled():
                return None
            return call.result()

    def _is_cancelled(self, data: ChartCalculated) -> bool:
        return self._cancelled is not None and self._cancelled.is_cancelled(
            data.reading_id, data.version
        )


@dataclass(frozen=True)
class _Call:
    """A finished LLM call whose outcome is still to be published."""

    data: ChartCalculated
    ctx: Context
    gen: Generation | None  # None: cancelled while writing
    deltas: DeltaCoalescer
    announcement: ReadingStarted
    announced: asyncio.Future[Any]  # its publish
    started: float


async def _settled(announced: asyncio.Future[Any]) -> None:
    """Wait for the announcement without raising; never left running past the handler."""
    await asyncio.wait([announced])
    if not announced.cancelled():
        announced.exception()  # retrieved here; raised by the caller when it matters


def _skip(ctx: Context, when: str, reason: str = CANCELLED) -> list[ReadingEvent]:
    """Ack a reading that needs nothing (more): cancelled, or already generated."""
    ctx.log.info("reading skipped", reason=reason, when=when)
    EVENTS_SKIPPED.labels("reader", reason).inc()
    return []
