"""`reading.started`: the reader began writing the reading."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.events.reading_requested import Agent, Language

TYPE = "reading.started"
SCHEMA_VERSION = "1.0"


class ReadingStarted(BaseModel):
    reading_id: str
    version: int = Field(1, ge=1)
    provider: str
    model: str
    agent: Agent
    language: Language
