"""A handler's context without a broker: what it emits and sends is kept in memory.

For handler tests (and tools that run a handler alone): call the handler with a
`MemoryContext`, then look at what it returned, `emitted` and `pieces`.
`stored(returned)` is what the stream would hold once the consume loop settled
the delivery: the emitted events, then the returned ones, each id once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from shared.bus.context import Delivery
from shared.events.base import ReadingEvent
from shared.events.reading_delta import ReadingDelta
from shared.events.registry import make_event
from shared.logging import get_logger


class MemoryContext:
    """A `shared.bus.context.Context` that keeps everything in lists.

    Args:
        attempt: which delivery this is (1: the first); `max_deliver` the consumer's limit.
        emit_error: raised by every `emit` (the bus would not take the event).
        emit_gate: when given, `emit` waits until it is set (a slow ack).
    """

    def __init__(
        self,
        *,
        attempt: int = 1,
        max_deliver: int = 0,
        stream_seq: int = 1,
        emit_error: BaseException | None = None,
        emit_gate: asyncio.Event | None = None,
    ) -> None:
        self._delivery = Delivery(stream_seq=stream_seq, attempt=attempt, max_deliver=max_deliver)
        self._log = get_logger("handler").bind(attempt=attempt)
        self.emit_error = emit_error
        self.emit_gate = emit_gate
        self.emitted: list[ReadingEvent] = []
        self.pieces: list[ReadingDelta] = []

    @property
    def delivery(self) -> Delivery:
        return self._delivery

    @property
    def log(self) -> Any:
        return self._log

    async def emit(self, data: ReadingEvent) -> None:
        if self.emit_gate is not None:
            await self.emit_gate.wait()
        if self.emit_error is not None:
            raise self.emit_error
        self.emitted.append(data)

    async def send_live(self, piece: ReadingDelta) -> None:
        self.pieces.append(piece)

    def stored(self, returned: Sequence[ReadingEvent]) -> list[ReadingEvent]:
        """The events the stream would hold after this delivery: emitted, then returned,
        an event id stored once (the bus drops a repeated `Nats-Msg-Id`)."""
        seen: set[str] = set()
        out: list[ReadingEvent] = []
        for data in [*self.emitted, *returned]:
            event_id = make_event(data, source="").id
            if event_id not in seen:
                seen.add(event_id)
                out.append(data)
        return out

    @property
    def live_text(self) -> str:
        """The text the pieces sent so far make, each placed at its offset."""
        text = ""
        for piece in self.pieces:
            text = text[: piece.offset] + piece.text
        return text
