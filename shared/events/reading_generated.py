"""`reading.generated`: the complete reading; the durable record of its text."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.events.base import ReadingEvent
from shared.events.reading_requested import Agent, Language

TYPE = "reading.generated"
SCHEMA_VERSION = "1.0"


class Usage(BaseModel):
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)


class ReadingGenerated(ReadingEvent):
    text: str
    provider: str = Field(description="`openai` or `offline`.")
    model: str
    composed_offline: bool = Field(
        description="True when the text was composed from a knowledge base, not written by an LLM."
    )
    agent: Agent
    language: Language
    prompt_version: str
    usage: Usage = Usage()
    latency_s: float = Field(ge=0)
