"""The text so far of every reading being written, as this status replica heard it.

Fed by the live pieces (`shared.bus.live`) every replica hears; an SSE client is
sent what it has not seen of it yet, so a client that connects or reconnects
mid-reading gets the text so far and then the rest, whatever pieces it missed.
A piece that does not follow on from what is known (a lost piece, a replica
that started mid-reading) marks the reading `incomplete` until the reader
writing it has told its whole text (`ask_so_far`).

Memory is bounded: an entry goes when its reading ends (the hub drops it on
the terminal event), when it is older than `ttl_s`, and the oldest go first
past `max_readings`. Nothing here is needed for correctness: the durable text
is `reading.generated`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from shared.events.reading_delta import ReadingDelta


@dataclass
class LiveText:
    """One reading's text of its latest attempt, as far as known."""

    version: int
    attempt: str
    parts: list[str] = field(default_factory=list)
    length: int = 0
    pieces: int = 0  # pieces heard of this attempt
    incomplete: bool = False  # a piece did not follow on: the text so far is being asked for
    updated: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""


class LiveTexts:
    """reading id -> `LiveText`, bounded by count and age."""

    def __init__(self, *, max_readings: int = 20_000, ttl_s: float = 900.0) -> None:
        self._texts: OrderedDict[str, LiveText] = OrderedDict()
        self._max_readings = max_readings
        self._ttl_s = ttl_s

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, reading_id: str) -> LiveText | None:
        return self._texts.get(reading_id)

    def add(self, piece: ReadingDelta) -> bool:
        """Take a piece; False when it does not follow on from what is known (ask for the
        text so far), True when the text grew or the piece was old news."""
        entry = self._texts.get(piece.reading_id)
        if entry is not None and (piece.version, piece.attempt) != (entry.version, entry.attempt):
            if piece.version < entry.version:
                return True  # a late piece of an earlier version
            entry = None  # a new version, or the reader started over: its text replaces
        if entry is None:
            entry = LiveText(piece.version, piece.attempt)
            self._texts[piece.reading_id] = entry
        self._touch(piece.reading_id, entry)
        end = piece.offset + len(piece.text)
        if end <= entry.length:
            return True  # already known (a piece repeated, or after the text so far)
        if piece.offset > entry.length:
            entry.incomplete = True
            return False
        entry.parts.append(piece.text[entry.length - piece.offset :])
        entry.length = end
        entry.pieces += 1
        return True

    def replace(self, so_far: ReadingDelta) -> None:
        """The whole text so far, from the reader writing it: it replaces what is known
        unless what is known is newer (a later version, or more of the same attempt)."""
        entry = self._texts.get(so_far.reading_id)
        same = entry is not None and (entry.version, entry.attempt) == (
            so_far.version, so_far.attempt)  # fmt: skip
        if entry is not None and (entry.version > so_far.version or
                                  (same and entry.length >= len(so_far.text))):  # fmt: skip
            entry.incomplete = False
            return
        fresh = LiveText(so_far.version, so_far.attempt, [so_far.text], len(so_far.text),
                         pieces=(entry.pieces if same and entry else 0) + 1)  # fmt: skip
        self._texts[so_far.reading_id] = fresh
        self._touch(so_far.reading_id, fresh)

    def drop(self, reading_id: str) -> None:
        self._texts.pop(reading_id, None)

    def _touch(self, reading_id: str, entry: LiveText) -> None:
        now = time.monotonic()
        entry.updated = now
        self._texts.move_to_end(reading_id)
        while self._texts and (
            len(self._texts) > self._max_readings
            or next(iter(self._texts.values())).updated < now - self._ttl_s
        ):
            self._texts.popitem(last=False)
