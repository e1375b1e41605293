"""Handle `chart.calculated`: announce, write the reading, stream deltas, emit the result."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from services.reader.agents import prompt_version
from services.reader.deltas import SOURCE, DeltaCoalescer
from services.reader.providers import Generation, Provider
from shared.bus.cancellations import CancelledReadings
from shared.bus.publish import Publisher
from shared.events.chart_calculated import ChartCalculated
from shared.events.envelope import Envelope
from shared.events.reading_failed import ReadingFailed
from shared.events.reading_generated import ReadingGenerated
from shared.events.reading_started import ReadingStarted
from shared.events.registry import make_event
from shared.logging import get_logger
from shared.metrics import EVENTS_SKIPPED

log = get_logger(__name__)
SKIPPED_CANCELLED = EVENTS_SKIPPED.labels("reader", "cancelled")


class ReadingWriter:
    """Writes one reading per `chart.calculated`; a cancelled reading is skipped or stopped.

    With `cancelled`, a chart whose version is cancelled is acked with nothing
    published, and a cancel that arrives while the reading is being written
    abandons the LLM call (its task is cancelled, which closes the stream) and
    publishes nothing more for it: no further delta, no `reading.generated`,
    no `reading.failed`.
    """

    def __init__(
        self, provider: Provider, publisher: Publisher, cancelled: CancelledReadings | None = None
    ) -> None:
        self._provider = provider
        self._publisher = publisher
        self._cancelled = cancelled

    async def handle(self, event: Envelope[Any]) -> list[Envelope[Any]]:
        data: ChartCalculated = event.data
        if self._is_cancelled(data):
            return _skip(data, "before writing")
        started = time.monotonic()
        # Announced while the call starts, not before: the LLM's first token is seconds
        # away, and the announcement is stored before any text (the deltas wait for it).
        announced = asyncio.ensure_future(self._publisher.publish(
            make_event(
                ReadingStarted(
                    reading_id=data.reading_id, version=data.version, provider=self._provider.name,
                    model=self._provider.model, agent=data.agent, language=data.language,
                ),
                source=SOURCE,
            )
        ))  # fmt: skip
        deltas = DeltaCoalescer(self._publisher, data.reading_id, data.version, after=announced)
        try:
            gen = await self._generate(data, deltas)
        except Exception:
            if self._is_cancelled(data):  # failed, but nobody wants it any more
                return _skip(data, "after a failed call")
            raise
        finally:
            await asyncio.wait([announced])  # never left running past the handler
            if not announced.cancelled():
                announced.exception()  # retrieved here; raised below when the call worked
        await announced  # a failed announcement fails the attempt (retried on the bus)
        if gen is None:
            return _skip(data, "while writing")
        await deltas.flush()
        if self._is_cancelled(data):
            return _skip(data, "once written")
        latency = time.monotonic() - started
        log.info(
            "reading written",
            provider=self._provider.name,
            latency_s=round(latency, 3),
            chars=len(gen.text),
        )
        generated = ReadingGenerated(
            reading_id=data.reading_id, version=data.version, text=gen.text,
            provider=self._provider.name, model=gen.model, composed_offline=gen.composed_offline,
            agent=data.agent, language=data.language,
            prompt_version=prompt_version(data.agent), usage=gen.usage, latency_s=latency,
        )  # fmt: skip
        return [make_event(generated, source=SOURCE)]

    async def _generate(self, data: ChartCalculated, deltas: DeltaCoalescer) -> Generation | None:
        """The provider's generation, or None when the reading was cancelled meanwhile."""
        if self._cancelled is None:
            return await self._provider.generate(data.chart, data.agent, data.language, deltas.add)
        with self._cancelled.watch(data.reading_id, data.version) as cancelled:
            call = asyncio.ensure_future(
                self._provider.generate(data.chart, data.agent, data.language, deltas.add)
            )
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


def _skip(data: ChartCalculated, when: str) -> list[Envelope[Any]]:
    """Ack a cancelled reading with nothing (more) published."""
    log.info("reading cancelled; skipped", reading_id=data.reading_id, version=data.version,
             when=when)  # fmt: skip
    SKIPPED_CANCELLED.inc()
    return []


def failure(reading_id: str, version: int, code: str, message: str) -> Envelope[Any]:
    return make_event(
        ReadingFailed(
            reading_id=reading_id, version=version, stage="reader", code=code, message=message
        ),
        source=SOURCE,
    )
