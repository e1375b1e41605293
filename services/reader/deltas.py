"""Coalesce streamed text into `reading.delta` events so the bus is not flooded."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable
from typing import Any

from shared.bus.publish import Publisher
from shared.events.reading_delta import ReadingDelta
from shared.events.registry import make_event

SOURCE = "/services/reader"


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

    async def add(self, text: str) -> None:
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= self._max_chars or time.monotonic() - self._last >= self._interval_s:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        if self._after is not None:
            await self._after
            self._after = None
        text = "".join(self._buffer)
        self._buffer.clear()
        self._size = 0
        delta = ReadingDelta(
            reading_id=self._reading_id, version=self._version, index=self._index, text=text,
            attempt=self.attempt,
        )  # fmt: skip
        part = f"{self.attempt}.{self._index}"
        await self._publisher.publish(make_event(delta, source=SOURCE, part=part))
        self._index += 1
        self._last = time.monotonic()
