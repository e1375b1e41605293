"""`reading.delta`: a coalesced chunk of the reading's text as it is written."""

from __future__ import annotations

from pydantic import BaseModel, Field

TYPE = "reading.delta"
SCHEMA_VERSION = "1.1"  # 1.1: `attempt`


class ReadingDelta(BaseModel):
    reading_id: str
    version: int = Field(1, ge=1)
    index: int = Field(ge=0, description="0, 1, 2 ... in the order written.")
    text: str
    attempt: str = Field(
        "",
        description="Which attempt wrote this text. When it changes (the reader started "
        "over after a crash or an error), drop the text of the earlier attempt.",
    )
