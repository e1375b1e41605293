"""The chart: the contract of `chart.calculated` and of the chart CLI.

Shaped as `../shared/hd/SPEC.md` section 6 shows. The derived properties
(channels, centers, type, authority, ...) are optional within major version 1
so they can be added without breaking a consumer (additive change = minor).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.hd.crosses import Angle

BODIES = (
    "sun", "earth", "moon", "north_node", "south_node", "mercury", "venus",
    "mars", "jupiter", "saturn", "uranus", "neptune", "pluto",
)  # fmt: skip

TimeNote = Literal["ok", "ambiguous", "nonexistent", "offset_given"]


class ResolvedPlace(BaseModel):
    name: str | None = None
    country: str | None = None
    latitude: float
    longitude: float


class ResolvedBirth(BaseModel):
    date: str
    time: str
    timezone: str | None
    utc_offset: str = Field(description="Offset applied, `+HH:MM`.")
    utc: str = Field(description="Birth instant in UTC, ISO 8601 with `Z`.")
    time_note: TimeNote
    place: ResolvedPlace


class Moment(BaseModel):
    utc: str


class Activation(BaseModel):
    longitude: float = Field(description="Apparent geocentric ecliptic longitude of date, degrees.")
    gate: int = Field(ge=1, le=64)
    line: int = Field(ge=1, le=6)
    color: int = Field(ge=1, le=6)
    tone: int = Field(ge=1, le=6)
    base: int = Field(ge=1, le=5)


class Activations(BaseModel):
    """The 13 activations of one side (personality or design)."""

    model_config = ConfigDict(extra="forbid")

    sun: Activation
    earth: Activation
    moon: Activation
    north_node: Activation
    south_node: Activation
    mercury: Activation
    venus: Activation
    mars: Activation
    jupiter: Activation
    saturn: Activation
    uranus: Activation
    neptune: Activation
    pluto: Activation


class ChartActivations(BaseModel):
    personality: Activations
    design: Activations


class Engine(BaseModel):
    ephemeris: str = "DE440"
    node: str = "true"
    version: str


class Centers(BaseModel):
    defined: list[str]
    open: list[str]


class IncarnationCross(BaseModel):
    angle: Angle
    gates: list[int]


class Chart(BaseModel):
    id: str | None = None
    birth: ResolvedBirth
    design: Moment
    activations: ChartActivations
    # Derived properties (shared/hd/derive.py), filled by the chart service since
    # engine 1.1.0; optional in the contract, so a chart from engine 1.0.0 still validates.
    active_gates: list[int] | None = None
    channels: list[str] | None = None
    centers: Centers | None = None
    type: str | None = None
    strategy: str | None = None
    authority: str | None = None
    profile: str | None = None
    definition: str | None = None
    incarnation_cross: IncarnationCross | None = None
    engine: Engine
