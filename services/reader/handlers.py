"""Handle `chart.calculated`: announce, write the reading, stream deltas, emit the result."""

from __future__ import annotations

import time
from typing import Any

from services.reader.agents import prompt_version
from services.reader.deltas import SOURCE, DeltaCoalescer
from services.reader.providers import Provider
from shared.bus.publish import Publisher
from shared.events.chart_calculated import ChartCalculated
from shared.events.envelope import Envelope
from shared.events.reading_failed import ReadingFailed
from shared.events.reading_generated import ReadingGenerated
from shared.events.reading_started import ReadingStarted
from shared.events.registry import make_event
from shared.logging import get_logger

log = get_logger(__name__)


class ReadingWriter:
    def __init__(self, provider: Provider, publisher: Publisher) -> None:
        self._provider = provider
        self._publisher = publisher

    async def handle(self, event: Envelope[Any]) -> list[Envelope[Any]]:
        data: ChartCalculated = event.data
        started = time.monotonic()
        await self._publisher.publish(
            make_event(
                ReadingStarted(
                    reading_id=data.reading_id, version=data.version, provider=self._provider.name,
                    model=self._provider.model, agent=data.agent, language=data.language,
                ),
                source=SOURCE,
            )
        )  # fmt: skip
        deltas = DeltaCoalescer(self._publisher, data.reading_id, data.version)
        gen = await self._provider.generate(data.chart, data.agent, data.language, deltas.add)
        await deltas.flush()
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


def failure(reading_id: str, version: int, code: str, message: str) -> Envelope[Any]:
    return make_event(
        ReadingFailed(
            reading_id=reading_id, version=version, stage="reader", code=code, message=message
        ),
        source=SOURCE,
    )
