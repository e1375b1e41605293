"""`reading.requested`: intake accepted a reading; the chart service takes it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.events.base import ReadingEvent
from shared.events.birth import BirthInput

TYPE = "reading.requested"
SCHEMA_VERSION = "1.1"  # 1.1: `priority`

Agent = Literal["personality", "business", "relationship", "crisis"]
Language = Literal["en", "de"]
Priority = Literal["high", "normal"]


class ReadingOptions(BaseModel):
    """What the reader needs besides the chart; carried along so no worker reads the DB."""

    agent: Agent = "personality"
    language: Language = "en"
    user_id: str | None = None
    priority: Priority = Field(
        "normal",
        description="`high` overtakes `normal` work at every stage (chart, reader); "
        "missing in events of schema 1.0: normal.",
    )


class ReadingRequested(ReadingEvent, ReadingOptions):
    version: int = Field(1, ge=1, description="Reading version; a regeneration is version 2+.")
    birth: BirthInput
    tenant: str | None = Field(
        None, description="The API key's tenant that owns the reading; None when auth is off."
    )
    request_hash: str | None = Field(
        None,
        description="Fingerprint of the body of the POST that created the reading with an "
        "Idempotency-Key; carried to every version so a retried POST is recognised.",
    )
    regenerate_hash: str | None = Field(
        None, description="Fingerprint of the regenerate request (and its key) of this version."
    )
