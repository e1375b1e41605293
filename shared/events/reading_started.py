"""`reading.started`: the reader began writing the reading."""

from __future__ import annotations

from shared.events.base import ReadingEvent
from shared.events.reading_requested import Agent, Language

TYPE = "reading.started"
SCHEMA_VERSION = "1.0"


class ReadingStarted(ReadingEvent):
    provider: str
    model: str
    agent: Agent
    language: Language
