"""What a handler gets besides its payload: the `Context` of one delivery.

A handler is `async (data, ctx) -> [payload models]`. It returns the events its
input produces; the consume loop wraps them (the service's source, deterministic
id, time) and stores them before it acks the input, and builds `reading.failed`
itself from an outcome the handler raises (`shared.bus.outcomes`). Two things
cannot wait for the return, so they go through the context:

- `emit(model)`: an event that must be stored while the handler still runs (the
  reader's `reading.started`, announced as its LLM call starts);
- `send_live(piece)`: a piece of live text on core NATS (`shared.bus.live`: no
  ack, nothing stored, best effort).

`delivery` says which delivery this is (a redelivery may find its work done; the
last one must not be handed back) and `log` is bound to the reading and event.
The consume loop hands out a `BusContext`; handler tests use
`shared.bus.memory.MemoryContext`, which needs no broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from nats.aio.client import Client as NATS

from shared.bus.live import send_piece
from shared.bus.publish import Publisher
from shared.events.base import ReadingEvent
from shared.events.reading_delta import ReadingDelta
from shared.events.registry import make_event


@dataclass(frozen=True)
class Delivery:
    """Which delivery of its event a handler is handling."""

    stream_seq: int
    attempt: int  # 1 for the first delivery (JetStream's num_delivered)
    max_deliver: int  # the consumer's MaxDeliver; 0 or less: no limit

    @property
    def redelivered(self) -> bool:
        """Delivered before: an earlier attempt may have done (part of) the work."""
        return self.attempt > 1

    @property
    def last(self) -> bool:
        """The last delivery JetStream makes: a message handed back now is not seen again."""
        return 0 < self.max_deliver <= self.attempt


class Context(Protocol):
    """A handler's view of the bus for one delivery (see the module doc)."""

    @property
    def delivery(self) -> Delivery: ...

    @property
    def log(self) -> Any:
        """A structlog logger bound to the reading id, event id and event type."""

    async def emit(self, data: ReadingEvent) -> None:
        """Store `data` as an event now (awaited ack), before the handler returns.

        Its id is deterministic, so emitting it again (a retry, or returning it too
        when the emit failed) stores it once.
        """

    async def send_live(self, piece: ReadingDelta) -> None:
        """Send a piece of live text (core NATS: no ack; raises what the connection does)."""


class BusContext:
    """The context the consume loop gives a handler: its publisher and connection.

    `log` is `logger` bound to `bound` (reading id, event id and type), bound on
    first use: most deliveries log nothing, and binding costs microseconds.
    """

    def __init__(
        self,
        delivery: Delivery,
        publisher: Publisher,
        nc: NATS | None,
        logger: Any,
        bound: dict[str, Any],
    ) -> None:
        self._delivery = delivery
        self._publisher = publisher
        self._nc = nc  # None: no live text (pieces are dropped)
        self._logger = logger
        self._bound: dict[str, Any] | None = bound

    @property
    def delivery(self) -> Delivery:
        return self._delivery

    @property
    def log(self) -> Any:
        if self._bound is not None:
            self._logger, self._bound = self._logger.bind(**self._bound), None
        return self._logger

    async def emit(self, data: ReadingEvent) -> None:
        await self._publisher.publish(make_event(data, source=self._publisher.source))

    async def send_live(self, piece: ReadingDelta) -> None:
        if self._nc is not None:
            await send_piece(self._nc, piece)
