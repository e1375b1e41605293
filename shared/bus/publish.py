"""Publish an event to JetStream: deterministic `Nats-Msg-Id`, awaited ack."""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from nats.js.api import PubAck

from shared import names
from shared.events.envelope import Envelope
from shared.events.registry import encode
from shared.metrics import EVENTS_DUPLICATE, EVENTS_PUBLISHED


class Publisher:
    """Publishes envelopes and waits until JetStream has stored them."""

    def __init__(self, js: JetStreamContext, *, service: str, timeout_s: float = 5.0) -> None:
        self._js = js
        self._service = service
        self._timeout_s = timeout_s

    async def publish(self, event: Envelope[Any], timeout_s: float | None = None) -> PubAck:
        """Store `event`; a second publish with the same id inside the window is dropped."""
        ack = await self._js.publish(
            names.subject_for(event.type, event.subject),
            encode(event),
            timeout=timeout_s or self._timeout_s,
            stream=names.STREAM,
            headers={names.MSG_ID_HEADER: event.id},
        )
        EVENTS_PUBLISHED.labels(self._service, event.type).inc()
        if ack.duplicate:
            EVENTS_DUPLICATE.labels(self._service, event.type).inc()
        return ack
