"""What every event's data says first: the reading it is about and that reading's version.

Every payload model derives from `ReadingEvent`, so code that handles any event
(the consume loop building `reading.failed`, the registry building ids) reads
`data.reading_id` and `data.version` with no guessing. A subclass may restate
`version` to describe it; the wire JSON is the same as with the fields written out.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReadingEvent(BaseModel):
    reading_id: str
    version: int = Field(1, ge=1)
