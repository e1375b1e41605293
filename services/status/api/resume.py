"""Where an SSE client is: its `Last-Event-ID`, and the live text it has been sent.

An event from the stream has its sequence as SSE id (`1234`). Live text is not
in the stream: its frames carry `<seq>.<attempt>.<chars>` — the last stream
event the client has, the attempt whose text it is reading, and how many
characters of it it has. A client that reconnects with such an id is sent the
stream's events after `seq`, then the text from `chars` on (all of it when the
reader has started over since: another attempt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.status.api.live import sse_frame
from services.status.api.live_text import LiveText
from shared.events.reading_delta import ReadingDelta

MAX_SEQ = 2**63 - 1  # stream sequences are PostgreSQL bigints
_TEXT_ID = re.compile(r"^(\d{1,19})\.([0-9a-f]{1,32})\.(\d{1,9})$")


@dataclass
class Resume:
    seq: int = 0  # the last stream event the client has
    attempt: str = ""  # the attempt of the live text it has
    chars: int = 0  # how much of that attempt's text it has


def parse_last_event_id(raw: str | None) -> Resume:
    """`1234` or `1234.<attempt>.<chars>`; anything else is a fresh start."""
    raw = (raw or "").strip()
    if raw.isdigit():  # past every sequence there can be: the client has seen it all
        return Resume(MAX_SEQ if len(raw) > 19 else min(int(raw), MAX_SEQ))
    match = _TEXT_ID.match(raw)
    if match is None:
        return Resume()
    return Resume(min(int(match[1]), MAX_SEQ), match[2], int(match[3]))


class TextCursor:
    """What one client has of a reading's live text; makes the frame with the rest."""

    def __init__(self, reading_id: str, resume: Resume) -> None:
        self._reading_id = reading_id
        self.attempt = resume.attempt
        self.chars = resume.chars

    def frame(self, entry: LiveText | None, seq: int) -> bytes | None:
        """The `reading.delta` frame with the text the client does not have yet, or None."""
        if entry is None:
            return None
        if entry.attempt != self.attempt:  # the reader started over: the client does too
            self.attempt, self.chars = entry.attempt, 0
        text = entry.text
        if len(text) <= self.chars:
            return None
        piece = ReadingDelta(
            reading_id=self._reading_id, version=entry.version, index=entry.pieces,
            text=text[self.chars :], attempt=entry.attempt, offset=self.chars,
        )  # fmt: skip
        self.chars = len(text)
        return sse_frame(f"{seq}.{entry.attempt}.{self.chars}", "reading.delta",
                         piece.model_dump_json())  # fmt: skip
