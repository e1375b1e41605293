"""Coalesce streamed text into `reading.delta` events so the bus is not flooded.

Live text is best effort: the durable answer is `reading.generated`. A delta
the bus cannot store (a cluster electing a leader for longer than the
publisher's budget) stops the live text of this attempt, and the call goes
on: failing it would only buy a second LLM call for the same words.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable
from typing import Any

from shared.bus.publish import BUS_ERRORS, Publisher
from shared.events.reading_delta import ReadingDelta
from shared.events.registry import make_event
from shared.logging import get_logger

SOURCE = "/services/reader"
log = get_logger(__name__)


class DeltaCoalescer:
    """Buffers chunks; publishes one delta every `interval_s` or `max_chars`, whichever first."""

    def __init__(
        self,
        publisher: Publisher,
        reading_id: str,
        version: int,
        *,
        interval_s: float = 0.2,
        max_chars: int = 2000,
        after: Awaitable[Any] | None = None,
    ) -> None:
        self._publisher = publisher
        self._after = after  # published before the first delta (the `reading.started`)
        self._reading_id = reading_id
        self._version = version
        self._interval_s = interval_s
        self._max_chars = max_chars
        self._buffer: list[str] = []
        self._size = 0
        self._index = 0
        self._last = time.monotonic() - interval_s  # the first chunk goes out at once
        # A retried attempt writes other text: its deltas get ids of their own (else
        # JetStream's dedup would drop them and readers would mix two attempts' text).
        self.attempt = secrets.token_hex(4)
        self._publishing: asyncio.Future[None] | None = None  # the delta being published
        self.broken = False  # the bus could not take a delta: no live text any more

    async def add(self, text: str) -> None:
        """Take a chunk; never waits for the bus.

        A due delta is published by a task of its own, so the LLM stream keeps
        being read meanwhile, and what arrives before that task runs (the rest
        of the same network read, often the whole answer) joins the same delta.
        """
        if self.broken:
            return
        self._buffer.append(text)
        self._size += len(text)
        if self._publishing is not None and self._publishing.done():
            self._publishing = None
        due = self._size >= self._max_chars or time.monotonic() - self._last >= self._interval_s
        if due and self._publishing is None:
            self._publishing = asyncio.ensure_future(self._publish_buffer())

    async def flush(self) -> None:
        """Publish everything taken so far, in order (nothing once the live text broke)."""
        if self._publishing is not None:
            publishing, self._publishing = self._publishing, None
            await publishing
        await self._publish_buffer()

    def abandon(self) -> None:
        """Publish nothing more: the reading was cancelled, or the attempt failed."""
        if self._publishing is not None:
            self._publishing.cancel()
            self._publishing = None
        self._buffer.clear()

    async def _publish_buffer(self) -> None:
        try:
            await self._publish_pending()
        except BUS_ERRORS as exc:
            log.warning("live text stopped: the bus did not take a delta", error=str(exc) or
                        type(exc).__name__, reading_id=self._reading_id)  # fmt: skip
            self.broken = True
            self._buffer.clear()

    async def _publish_pending(self) -> None:
        if self.broken:
            return
        if self._after is not None:
            await self._after  # text is only shown once the reading is announced
            self._after = None
        if not self._buffer:
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._size = 0
        delta = ReadingDelta(
            reading_id=self._reading_id, version=self._version, index=self._index, text=text,
            attempt=self.attempt,
        )  # fmt: skip
        part = f"{self.attempt}.{self._index}"
        self._index += 1
        self._last = time.monotonic()
        await self._publisher.publish(make_event(delta, source=SOURCE, part=part))
