"""`reading.cancelled`: a client cancelled a reading that had not finished.

Workers skip every event of a cancelled version (chart and reader watch these
events); the status projection marks the reading `cancelled`, a terminal state.
A later regeneration (a higher version) runs normally.
"""

from __future__ import annotations

from pydantic import Field

from shared.events.base import ReadingEvent

TYPE = "reading.cancelled"
SCHEMA_VERSION = "1.0"


class ReadingCancelled(ReadingEvent):
    version: int = Field(1, ge=1, description="The version cancelled (and every lower one).")
    reason: str = Field("cancelled by the client", max_length=500)
