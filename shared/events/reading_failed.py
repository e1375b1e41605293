"""`reading.failed`: a reading cannot be completed; `code` is machine-readable."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.base import ReadingEvent

TYPE = "reading.failed"
SCHEMA_VERSION = "1.0"

Stage = Literal["intake", "chart", "reader", "status"]


class ReadingFailed(ReadingEvent):
    stage: Stage
    code: str = Field(
        description="e.g. `place_not_found`, `date_out_of_range`, `retries_exhausted`."
    )
    message: str = Field(description="For a person: what went wrong.")
