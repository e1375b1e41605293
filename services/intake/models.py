"""The request and response bodies of `POST /v1/readings`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.events.birth import TEXT_PATTERN, BirthInput
from shared.events.reading_requested import Agent, Language


class ReadingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    birth: BirthInput
    agent: Agent = "personality"
    language: Language = "en"
    user_id: Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)] | None = None
