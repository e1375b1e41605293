"""The request and response bodies of `POST /v1/readings`."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.birth import (
    EPHEMERIS,
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    TEXT_PATTERN,
    BirthInput,
)
from shared.events.reading_requested import Agent, Language, Priority


class SupportedBirth(BirthInput):
    """A birth the chart service can compute: refused here, at once, when out of range."""

    @field_validator("date")
    @classmethod
    def _supported_date(cls, v: Date) -> Date:
        if not FIRST_SUPPORTED_DATE <= v <= LAST_SUPPORTED_DATE:
            raise ValueError(
                f"must be from {FIRST_SUPPORTED_DATE} to {LAST_SUPPORTED_DATE} "
                f"(the range the chart service supports with the {EPHEMERIS} ephemeris)"
            )
        return v


class ReadingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    birth: SupportedBirth
    agent: Agent = "personality"
    language: Language = "en"
    user_id: Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)] | None = None
    priority: Priority = Field(
        "normal",
        description="`high` overtakes `normal` readings at every stage; only tenants in "
        "PRIORITY_TENANTS may ask for it (else 403).",
    )
