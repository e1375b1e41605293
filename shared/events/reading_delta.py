"""`reading.delta`: a piece of the reading's text as it is written.

Live, not durable: the reader sends pieces over core NATS (`shared.bus.live`),
status keeps each live reading's text so far and sends SSE clients what they
have not seen yet. `offset` places a piece in its attempt's text.
"""

from __future__ import annotations

from pydantic import Field

from shared.events.base import ReadingEvent

TYPE = "reading.delta"
SCHEMA_VERSION = "1.2"  # 1.1: `attempt`; 1.2: `offset`


class ReadingDelta(ReadingEvent):
    index: int = Field(ge=0, description="0, 1, 2 ... in the order sent; use `offset` to place.")
    text: str
    offset: int = Field(
        0,
        ge=0,
        description="Characters of this attempt's text before this piece: the text so far is "
        "`text[:offset] + piece`.",
    )
    attempt: str = Field(
        "",
        description="Which attempt wrote this text. When it changes (the reader started "
        "over after a crash or an error), drop the text of the earlier attempt.",
    )
