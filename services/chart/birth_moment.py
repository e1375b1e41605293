"""The birth instant: local wall time at the place -> UTC (SPEC section 3)."""

from __future__ import annotations

import functools
import re
import threading
import zoneinfo
from datetime import UTC, datetime, time, timedelta, tzinfo

from timezonefinder import TimezoneFinder

from services.chart.errors import ChartError
from services.chart.place import resolve_place
from shared.events.birth import (
    EPHEMERIS,
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    BirthInput,
)
from shared.events.chart import ResolvedBirth, ResolvedPlace, TimeNote

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_MAX_OFFSET = timedelta(hours=15)

_finder: TimezoneFinder | None = None
_finder_lock = threading.Lock()


def _timezone_finder() -> TimezoneFinder:
    """Return the process-wide TimezoneFinder, creating it on first use."""
    global _finder
    if _finder is None:
        with _finder_lock:
            if _finder is None:
                _finder = TimezoneFinder()
    return _finder


def timezone_at(latitude: float, longitude: float) -> str:
    """Return the IANA zone name in force at the coordinates."""
    name = _timezone_finder().timezone_at(lng=longitude, lat=latitude)
    if not name:
        raise ChartError(
            "unknown_timezone",
            f"no time zone found at latitude {latitude}, longitude {longitude}; "
            "give timezone or utc_offset",
        )
    return name


@functools.lru_cache(maxsize=1024)
def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the IANA zone, or raise ChartError("unknown_timezone")."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ChartError("unknown_timezone", f"unknown IANA time zone {name!r}") from None


def parse_offset(text: str) -> timedelta:
    """Parse `+HH:MM` / `-HH:MM` into a timedelta, or raise ChartError("invalid_input")."""
    match = _OFFSET.match(text)
    if match is None or int(match[3]) >= 60:
        raise ChartError("invalid_input", f"utc_offset {text!r} is not +HH:MM or -HH:MM")
    sign = -1 if match[1] == "-" else 1
    offset = sign * timedelta(hours=int(match[2]), minutes=int(match[3]))
    if abs(offset) >= _MAX_OFFSET:
        raise ChartError("invalid_input", f"utc_offset {text!r} is out of range")
    return offset


def format_offset(offset: timedelta) -> str:
    """Format an offset as `+HH:MM` (`+HH:MM:SS` for local-mean-time offsets with seconds)."""
    total = round(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{seconds:02d}" if seconds else text


def format_utc(instant: datetime) -> str:
    """Format an aware datetime as `YYYY-MM-DDTHH:MM:SSZ`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_of(aware: datetime) -> timedelta:
    """Return the UTC offset of an aware datetime."""
    offset = aware.utcoffset()
    if offset is None:
        raise ValueError("datetime is not aware")
    return offset


def local_to_utc(local: datetime, zone: tzinfo) -> tuple[datetime, timedelta, TimeNote]:
    """Convert a naive wall time in `zone` to UTC: (utc, offset applied, time_note)."""
    # Ambiguous times (clocks going back) give their first occurrence (fold=0); times in a
    # spring-forward gap are read with the offset in force before the transition (fold=0
    # again, PEP 495). Which case applies shows in a round trip through UTC.
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    utc_first, utc_second = first.astimezone(UTC), second.astimezone(UTC)
    note: TimeNote = "ok"
    if utc_first != utc_second:
        round_trips = all(
            u.astimezone(zone).replace(tzinfo=None) == local for u in (utc_first, utc_second)
        )
        note = "ambiguous" if round_trips else "nonexistent"
    return utc_first, _offset_of(first), note


def _parse_wall_time(text: str) -> time:
    """Parse `HH:MM` or `HH:MM:SS`, or raise ChartError("invalid_input")."""
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise ChartError("invalid_input", f"time {text!r} is not HH:MM or HH:MM:SS") from None
    if parsed.tzinfo is not None or parsed.microsecond:
        raise ChartError("invalid_input", f"time {text!r} is not HH:MM or HH:MM:SS")
    return parsed


def resolve_birth(birth: BirthInput) -> tuple[datetime, ResolvedBirth]:
    """Resolve place, zone and offset of a birth; returns its UTC instant and the echo."""
    if not FIRST_SUPPORTED_DATE <= birth.date <= LAST_SUPPORTED_DATE:
        raise ChartError(
            "date_out_of_range",
            f"birth date {birth.date.isoformat()} is outside the supported range "
            f"{FIRST_SUPPORTED_DATE.isoformat()} to {LAST_SUPPORTED_DATE.isoformat()} "
            f"({EPHEMERIS} ephemeris)",
        )
    local = datetime.combine(birth.date, _parse_wall_time(birth.time))
    place = resolve_place(birth.place)
    zone_name = birth.timezone
    if birth.utc_offset is not None:
        offset = parse_offset(birth.utc_offset)
        utc = (local - offset).replace(tzinfo=UTC)
        note: TimeNote = "offset_given"
        if zone_name is None:
            try:
                zone_name = timezone_at(place.latitude, place.longitude)
            except ChartError:
                zone_name = None
    else:
        if zone_name is None:
            zone_name = timezone_at(place.latitude, place.longitude)
        utc, offset, note = local_to_utc(local, load_zone(zone_name))
    resolved = ResolvedBirth(
        date=birth.date.isoformat(),
        time=birth.time,
        timezone=zone_name,
        utc_offset=format_offset(offset),
        utc=format_utc(utc),
        time_note=note,
        place=ResolvedPlace(
            name=place.name,
            country=place.country,
            latitude=place.latitude,
            longitude=place.longitude,
        ),
    )
    return utc, resolved
