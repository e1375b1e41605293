"""The body of `POST /v1/readings`, exactly as the API checks it.

The event contract (`shared.events.birth.BirthInput`) is lenient about what it carries
(nulls for absent fields, any IANA zone the host knows); the HTTP body is checked
strictly, and its JSON schema, in the one OpenAPI document, says exactly what passes:

- `birth.place` is one of two shapes (`oneOf`): coordinates (`latitude` and
  `longitude`, with an optional `name` and `country` as a label), or a `name` to
  resolve (with an optional `country`). Nothing else, no nulls for the coordinates.
- `birth.date` from `FIRST_SUPPORTED_DATE` to `LAST_SUPPORTED_DATE` (a pattern
  on the year, as JSON Schema has no range for dates).
- `birth.timezone` one of the zones of the `tzdata` wheel (an `enum`).
- No type coercion: validate with `strict=True` (`validate_request`), so `"45.5"` is
  no latitude and `0` no date.
"""

from __future__ import annotations

from datetime import date as Date
from importlib import resources
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from shared.events.birth import (
    EPHEMERIS,
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    TEXT_PATTERN,
    BirthInput,
    Place,
)
from shared.events.reading_requested import Agent, Language, Priority

TIMEZONES: Final = frozenset(resources.files("tzdata").joinpath("zones").read_text().split())
"""The IANA zones a birth may name: those of the `tzdata` wheel (each loads on any host)."""

# 1800-2199: the years the chart supports (`FIRST_SUPPORTED_DATE`..`LAST_SUPPORTED_DATE`).
DATE_PATTERN: Final = r"^(18|19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
assert Date(1800, 1, 1) == FIRST_SUPPORTED_DATE and Date(2199, 12, 31) == LAST_SUPPORTED_DATE

Latitude = Annotated[float, Field(ge=-90, le=90, description="Decimal degrees, north positive.")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="Decimal degrees, east positive.")]
PlaceName = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
Country = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code.")]


class PlaceCoordinates(BaseModel):
    """A place given by its coordinates; `name` and `country` only label it."""

    model_config = ConfigDict(extra="forbid", title="PlaceCoordinates")

    latitude: Latitude
    longitude: Longitude
    name: PlaceName | None = Field(None, description="A label for the place (not looked up).")
    country: Country | None = None


class NamedPlace(BaseModel):
    """A place given by its name, resolved offline (most populous match first)."""

    model_config = ConfigDict(extra="forbid", title="NamedPlace")

    name: PlaceName
    country: Country | None = Field(None, description="Narrows the lookup to one country.")


PLACE_SCHEMA: Final[dict[str, Any]] = {
    "oneOf": [PlaceCoordinates.model_json_schema(), NamedPlace.model_json_schema()],
    "description": "Coordinates, or a name to resolve.",
}


def _place_shape(value: Any) -> Any:
    """Refuse what fits neither shape of `PLACE_SCHEMA`; `Place` checks the values."""
    if not isinstance(value, dict):
        return value
    if "latitude" in value or "longitude" in value:
        if "latitude" not in value or "longitude" not in value:
            raise ValueError("latitude and longitude must be given together")
        if value["latitude"] is None or value["longitude"] is None:
            raise ValueError("latitude and longitude must be numbers")
    elif value.get("name") is None:
        raise ValueError("give latitude and longitude, or a name")
    return value


class SupportedBirth(BirthInput):
    """A birth the chart service can compute: refused here, at once, when out of range."""

    date: Date = Field(
        description=f"Local date, `YYYY-MM-DD`, from {FIRST_SUPPORTED_DATE} to "
        f"{LAST_SUPPORTED_DATE} (the range the chart supports with {EPHEMERIS}).",
        examples=["1948-04-09"],
        json_schema_extra={"pattern": DATE_PATTERN},
    )
    place: Annotated[Place, WithJsonSchema(PLACE_SCHEMA)]
    timezone: (
        Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(TIMEZONES)})] | None
    ) = Field(None, description="IANA zone; from the coordinates if unset.")

    @field_validator("place", mode="before")
    @classmethod
    def _one_place_shape(cls, v: Any) -> Any:
        return _place_shape(v)

    @field_validator("date")
    @classmethod
    def _supported_date(cls, v: Date) -> Date:
        if not FIRST_SUPPORTED_DATE <= v <= LAST_SUPPORTED_DATE:
            raise ValueError(
                f"must be from {FIRST_SUPPORTED_DATE} to {LAST_SUPPORTED_DATE} "
                f"(the range the chart service supports with the {EPHEMERIS} ephemeris)"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is not None and v not in TIMEZONES:
            raise ValueError(f"unknown IANA time zone {v!r}")
        return v


class ReadingRequest(BaseModel):
    """Body of `POST /v1/readings`."""

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


def validate_request(raw: bytes) -> ReadingRequest:
    """The request body, strictly: no coercion of one JSON type into another."""
    return ReadingRequest.model_validate_json(raw, strict=True)
