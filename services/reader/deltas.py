"""The live text of one reading being written: pieces out on core NATS, the text so far kept.

Chunks from the LLM are coalesced into one piece every `interval_s` or
`max_chars` (whichever first) and sent through the handler's context
(`Context.send_live`: core NATS, no ack, nothing stored). The whole text so
far stays here for `so_far`, which answers a status replica that missed pieces
or started mid-reading.

Live text is best effort: the durable answer is `reading.generated`. A piece the
connection cannot take stops this attempt's live text, and the call goes on.
Text is only sent once the reading is announced (`after`: the publish of
`reading.started`), so a client never sees text of a reading not yet started.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from shared.bus.live import SendPiece
from shared.bus.publish import BUS_ERRORS
from shared.events.reading_delta import ReadingDelta
from shared.logging import get_logger

log = get_logger(__name__)


class DeltaCoalescer:
    """Buffers chunks; sends one piece every `interval_s` or `max_chars`, whichever first."""

    def __init__(
        self,
        send: SendPiece | None,
        reading_id: str,
        version: int,
        *,
        interval_s: float = 0.2,
        max_chars: int = 2000,
        after: asyncio.Future[Any] | None = None,
    ) -> None:
        self._send_piece = send  # None: no live text
        self._after = after  # the `reading.started` publish: text waits for it
        self._reading_id = reading_id
        self._version = version
        self._interval_s = interval_s
        self._max_chars = max_chars
        self._parts: list[str] = []
        self._length = 0  # characters taken so far
        self._sent = 0  # characters sent so far
        self._index = 0
        self._last = time.monotonic() - interval_s  # the first chunk goes out at once
        # A retried attempt writes other text: clients start over when it changes.
        self.attempt = secrets.token_hex(4)
        self.broken = False  # the connection could not take a piece: no live text any more
        self._abandoned = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    async def add(self, text: str) -> None:
        """Take a chunk; send a piece when one is due (a core publish: never waits for an ack)."""
        self._parts.append(text)
        self._length += len(text)
        due = self._length - self._sent >= self._max_chars
        if due or time.monotonic() - self._last >= self._interval_s:
            await self._send()

    async def flush(self) -> None:
        """Send what was taken and not sent yet."""
        await self._send()

    def abandon(self) -> None:
        """Send nothing more: the reading was cancelled, or the attempt failed."""
        self._abandoned = True

    def so_far(self) -> ReadingDelta | None:
        """The whole text of this attempt so far, as one piece at offset 0 (None before the
        announcement: nobody may see text of a reading not yet started)."""
        if self._abandoned or not self._announced():
            return None
        return ReadingDelta(
            reading_id=self._reading_id, version=self._version, index=self._index,
            text=self.text, attempt=self.attempt, offset=0,
        )  # fmt: skip

    def _announced(self) -> bool:
        after = self._after
        return after is None or (after.done() and not after.cancelled() and not after.exception())

    async def _send(self) -> None:
        if self._send_piece is None or self.broken or self._abandoned or self._sent == self._length:
            return
        if not self._announced():
            return  # held until the reading is announced; the next chunk or flush sends it
        text = self.text[self._sent :]
        piece = ReadingDelta(
            reading_id=self._reading_id, version=self._version, index=self._index, text=text,
            attempt=self.attempt, offset=self._sent,
        )  # fmt: skip
        self._sent = self._length
        self._index += 1
        self._last = time.monotonic()
        try:
            await self._send_piece(piece)
        except BUS_ERRORS as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("live text stopped: the connection did not take a piece",
                        error=reason, reading_id=self._reading_id)  # fmt: skip
            self.broken = True
