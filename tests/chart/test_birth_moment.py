"""Birth instant (SPEC section 3) and place resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.chart.birth_moment import format_offset, local_to_utc, resolve_birth
from services.chart.errors import ChartError
from services.chart.place import resolve_place
from shared.events.birth import BirthInput, Place
from shared.events.chart import ResolvedBirth

NEW_YORK = {"latitude": 40.7128, "longitude": -74.006, "name": "New York"}


def resolve(date: str, time: str, place: dict[str, Any], **extra: str) -> ResolvedBirth:
    """Resolve a birth given as plain values."""
    birth = BirthInput.model_validate({"date": date, "time": time, "place": place, **extra})
    utc, resolved = resolve_birth(birth)
    assert resolved.utc == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return resolved


def error_code(date: str, time: str, place: dict[str, Any]) -> str:
    """Return the ChartError code raised for a birth."""
    with pytest.raises(ChartError) as caught:
        resolve(date, time, place)
    return caught.value.code


def test_ordinary_time() -> None:
    r = resolve("1986-03-28", "22:25", NEW_YORK)
    assert (r.timezone, r.utc_offset, r.utc, r.time_note) == (
        "America/New_York",
        "-05:00",
        "1986-03-29T03:25:00Z",
        "ok",
    )
    assert r.place.name == "New York" and r.place.latitude == 40.7128


def test_spring_forward_gap_uses_the_offset_before_the_transition() -> None:
    r = resolve("2021-03-14", "02:30", NEW_YORK)
    assert (r.utc, r.utc_offset, r.time_note, r.time) == (
        "2021-03-14T07:30:00Z",
        "-05:00",
        "nonexistent",
        "02:30",
    )


def test_fall_back_fold_is_the_first_occurrence() -> None:
    r = resolve("2021-11-07", "01:30", NEW_YORK)
    assert (r.utc, r.utc_offset, r.time_note) == ("2021-11-07T05:30:00Z", "-04:00", "ambiguous")


def test_local_to_utc_directly() -> None:
    zone = ZoneInfo("Europe/Berlin")
    utc, offset, note = local_to_utc(datetime(2020, 10, 25, 2, 30), zone)
    assert (utc, offset, note) == (
        datetime(2020, 10, 25, 0, 30, tzinfo=UTC),
        timedelta(hours=2),
        "ambiguous",
    )
    utc, offset, note = local_to_utc(datetime(2020, 3, 29, 2, 30), zone)
    assert (utc, note) == (datetime(2020, 3, 29, 1, 30, tzinfo=UTC), "nonexistent")


def test_historical_local_mean_time_from_tzdata() -> None:
    # Amsterdam kept Amsterdam Mean Time (+00:19:32) until 1937.
    r = resolve("1930-01-15", "12:00", {"latitude": 52.3676, "longitude": 4.9041})
    assert (r.timezone, r.utc_offset, r.utc) == (
        "Europe/Amsterdam",
        "+00:19:32",
        "1930-01-15T11:40:28Z",
    )


def test_historical_standard_offset_change() -> None:
    kathmandu = {"latitude": 27.7172, "longitude": 85.324}
    assert resolve("1980-06-01", "12:00", kathmandu).utc_offset == "+05:30"
    r = resolve("2000-06-01", "12:00", kathmandu)
    assert (r.timezone, r.utc_offset, r.utc) == ("Asia/Kathmandu", "+05:45", "2000-06-01T06:15:00Z")


def test_near_the_date_line() -> None:
    tonga = resolve("2010-07-01", "10:00", {"latitude": -21.1394, "longitude": -175.2018})
    assert (tonga.timezone, tonga.utc_offset, tonga.utc) == (
        "Pacific/Tongatapu",
        "+13:00",
        "2010-06-30T21:00:00Z",
    )
    kiritimati = resolve("2000-01-01", "00:30", {"latitude": 1.87, "longitude": -157.43})
    assert (kiritimati.timezone, kiritimati.utc_offset, kiritimati.utc) == (
        "Pacific/Kiritimati",
        "+14:00",
        "1999-12-31T10:30:00Z",
    )


def test_explicit_utc_offset_overrides_the_zone() -> None:
    r = resolve("2021-03-14", "02:30", NEW_YORK, utc_offset="+05:45")
    assert (r.utc, r.utc_offset, r.time_note) == ("2021-03-13T20:45:00Z", "+05:45", "offset_given")
    assert r.timezone == "America/New_York"


def test_explicit_timezone_is_used() -> None:
    r = resolve("2000-06-01", "12:00:30", NEW_YORK, timezone="Europe/London")
    assert (r.timezone, r.utc, r.time) == ("Europe/London", "2000-06-01T11:00:30Z", "12:00:30")


def test_place_by_name() -> None:
    loc = resolve_place(Place(name="Berlin", country="DE"))
    assert (loc.name, loc.country) == ("Berlin", "DE")
    assert loc.latitude == pytest.approx(52.52, abs=0.05)
    assert loc.longitude == pytest.approx(13.40, abs=0.05)
    r = resolve("1990-07-01", "12:00", {"name": "berlin"})
    assert (r.timezone, r.utc_offset, r.place.country) == ("Europe/Berlin", "+02:00", "DE")


def test_place_by_name_is_accent_insensitive_and_prefers_the_larger_city() -> None:
    assert resolve_place(Place(name="Montreal")).country == "CA"
    assert resolve_place(Place(name="Paris")).country == "FR"
    assert resolve_place(Place(name="Paris", country="us")).country == "US"


def test_unknown_place_name() -> None:
    assert error_code("1990-01-01", "12:00", {"name": "Xyzzy Nowhereville"}) == "place_not_found"
    with pytest.raises(ChartError) as caught:
        resolve_place(Place(name="Berlin", country="AQ"))
    assert caught.value.code == "place_not_found" and "Berlin" in caught.value.message


def test_dates_outside_1800_to_2199() -> None:
    assert error_code("1799-12-31", "23:59", NEW_YORK) == "date_out_of_range"
    assert error_code("1550-06-01", "12:00", NEW_YORK) == "date_out_of_range"
    assert error_code("2200-01-01", "00:00", NEW_YORK) == "date_out_of_range"
    # New York kept local mean time (-4:56:02) until 1883.
    assert resolve("1800-01-01", "00:00", NEW_YORK).utc == "1800-01-01T04:56:02Z"
    assert resolve("1899-12-31", "12:00", NEW_YORK).utc == "1899-12-31T17:00:00Z"
    assert resolve("2199-12-31", "12:00", NEW_YORK).utc == "2199-12-31T17:00:00Z"


def test_format_offset() -> None:
    assert format_offset(timedelta(hours=-9, minutes=-30)) == "-09:30"
    assert format_offset(timedelta(0)) == "+00:00"
    assert format_offset(timedelta(minutes=19, seconds=32)) == "+00:19:32"
