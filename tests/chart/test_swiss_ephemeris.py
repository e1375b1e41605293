"""Charts agree with an independent Swiss Ephemeris calculation, 1800 to 2199 as today.

The reference is pyswisseph with its built-in Moshier ephemeris (semi-analytical theories
fitted to JPL's, no data files): its own UTC -> TT conversion, its own design moment
(`solcross`: the Sun 88 degrees behind its longitude at birth), its own apparent positions.
The same tolerances hold for the historical births and for the modern ones:

- Sun to Neptune: 0.001 degrees (3.6"). Moshier's theories match DE4xx to about an
  arcsecond over 1800-2200; the largest gaps seen here are 2.1" (Neptune, 2199) and 1.8"
  (the Moon, 1800; 0.7" for the modern births), 0.06" for the Sun, against 18.75" for the
  smallest HD division (a base).
- Pluto: 0.003 degrees (10.8"): Moshier's Pluto is a fit good to a few arcseconds (5.6"
  in 2199, 0.45" today).
- The true (osculating) lunar node: 0.01 degrees (36"). It is not a position but the plane
  of the Moon's instantaneous orbit, and Swiss Ephemeris derives it its own way; the gaps
  seen are 5" to 23" in every century (13" in 1948, 5" in 2026, 23" in 1800).

Gates and lines (5.6 and 0.94 degrees wide) must be identical for every body on both sides.
Civil time: before 1972 both read it as UT1 (TT = UT1 + Delta T; their Delta T models agree
within 0.25 s here); after Swiss Ephemeris' leap-second table it reads a future UTC as UT1,
while the chart keeps TAI-UTC at 37 s (leap seconds are to stop by 2035), so the 2199 birth
is given to it at the chart's TT (the design moment is still its own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest
import swisseph as swe

from services.chart.compute import compute_charts
from services.chart.errors import ChartError
from services.chart.wheel import decompose, wheel_index
from shared.events.birth import BirthInput
from shared.events.chart import Chart

HISTORICAL = [
    ("1800-01-01", "12:00", {"latitude": 51.5074, "longitude": -0.1278}),  # London, LMT
    ("1850-06-15", "08:30", {"latitude": 48.8566, "longitude": 2.3522}),  # Paris, LMT
    ("1899-12-31", "23:59", {"latitude": 40.7128, "longitude": -74.006}),  # New York
    ("2199-12-31", "12:00", {"latitude": 35.6762, "longitude": 139.6503}),  # Tokyo
]
MODERN = [
    ("1948-04-09", "00:14", {"latitude": 45.5017, "longitude": -73.5673}),  # SPEC example
    ("1991-08-13", "13:31", {"latitude": 12.9629, "longitude": 77.5775}),
    ("2016-07-10", "11:00", {"latitude": 39.7661, "longitude": -105.0772}),
    ("2026-12-03", "15:20", {"latitude": -33.8688, "longitude": 151.2093}),
]
SWISS_LEAP_SECONDS_END = 2027
"""Years from here are after Swiss Ephemeris' leap-second table (it reads them as UT1)."""
TT_MINUS_UTC_FROM_2017 = 69.184

BODIES = {
    "sun": swe.SUN,
    "moon": swe.MOON,
    "mercury": swe.MERCURY,
    "venus": swe.VENUS,
    "mars": swe.MARS,
    "jupiter": swe.JUPITER,
    "saturn": swe.SATURN,
    "uranus": swe.URANUS,
    "neptune": swe.NEPTUNE,
    "pluto": swe.PLUTO,
    "north_node": swe.TRUE_NODE,
}
TOLERANCE_DEGREES = {name: 0.001 for name in BODIES} | {"pluto": 0.003, "north_node": 0.01}
DESIGN_TOLERANCE_S = 5.0
"""Design moments: the Sun moves 0.041" a second, so a 0.1" gap between Moshier's Sun and
DE440's (at birth or at the design) moves the moment by 2.4 s; seen: 2.8 s in 1800, 0.9 s in
1850, 0.7 s in 1948, 0.4 s in 2016, plus the chart's rounding to whole seconds."""


def swiss_tt(utc: datetime) -> float:
    """Swiss Ephemeris' TT Julian date of a UTC birth (the chart's rule after its table)."""
    if utc.year >= SWISS_LEAP_SECONDS_END:
        _, jd_utc_as_ut = swe.utc_to_jd(
            utc.year, utc.month, utc.day, utc.hour, utc.minute, float(utc.second), swe.GREG_CAL
        )
        # Its jd_ut here is the UTC calendar read as a Julian date; the chart adds 69.184 s.
        return float(jd_utc_as_ut + TT_MINUS_UTC_FROM_2017 / 86400.0)
    jd_tt, _ = swe.utc_to_jd(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, float(utc.second), swe.GREG_CAL
    )
    return float(jd_tt)


def swiss_longitudes(jd_tt: float) -> dict[str, float]:
    """Apparent geocentric ecliptic longitudes of date (true node) from Moshier, degrees."""
    out = {}
    for name, body in BODIES.items():
        position, flags = swe.calc(jd_tt, body, swe.FLG_MOSEPH)
        assert flags & swe.FLG_MOSEPH, "Swiss Ephemeris did not use its built-in ephemeris"
        out[name] = float(position[0])
    out["earth"] = (out["sun"] + 180.0) % 360.0
    out["south_node"] = (out["north_node"] + 180.0) % 360.0
    return out


def swiss_design_tt(jd_birth_tt: float, sun_at_birth: float) -> float:
    """The latest TT before birth when the Sun was 88 degrees behind (Swiss `solcross`)."""
    target = (sun_at_birth - 88.0) % 360.0
    return float(swe.solcross(target, jd_birth_tt - 100.0, swe.FLG_MOSEPH))


def gate_line(longitude: float) -> tuple[int, int]:
    """Gate and line of a longitude on the wheel."""
    gate, line, *_ = decompose(wheel_index(np.array([longitude])))
    return int(gate[0]), int(line[0])


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def jd_of(utc: datetime) -> float:
    """Julian date of a calendar instant (no time scale: for differences only)."""
    return float(swe.julday(utc.year, utc.month, utc.day, utc.hour + utc.minute / 60.0)) + (
        utc.second / 86400.0
    )


def label(case: tuple[str, str, dict[str, Any]]) -> str:
    return f"{case[0]}T{case[1]}"


@pytest.fixture(scope="module")
def charts() -> dict[str, Chart]:
    cases = HISTORICAL + MODERN
    births = [BirthInput.model_validate({"date": d, "time": t, "place": p}) for d, t, p in cases]
    out = {}
    for case, chart in zip(cases, compute_charts(births), strict=True):
        assert not isinstance(chart, ChartError), chart
        out[label(case)] = chart
    return out


def angle_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def check_side(side: Any, swiss: dict[str, float], where: str) -> None:
    """Every activation of one side against the Swiss longitudes."""
    for name, activation in side:
        tolerance = TOLERANCE_DEGREES.get(name.replace("earth", "sun").replace("south", "north"))
        assert tolerance is not None
        gap = angle_gap(activation.longitude, swiss[name])
        assert gap < tolerance, f'{where} {name}: {gap * 3600:.2f}"'
        got = (activation.gate, activation.line)
        assert got == gate_line(swiss[name]), f"{where} {name}: {got}"


@pytest.mark.parametrize("case", [pytest.param(c, id=label(c)) for c in HISTORICAL + MODERN])
def test_chart_agrees_with_swiss_ephemeris(case: tuple[str, str, Any], charts: Any) -> None:
    chart = charts[label(case)]
    birth_tt = swiss_tt(parse_utc(chart.birth.utc))
    personality = swiss_longitudes(birth_tt)
    check_side(chart.activations.personality, personality, "personality")

    design_tt = swiss_design_tt(birth_tt, personality["sun"])
    # The chart's design moment, in its civil time, against Swiss Ephemeris' own.
    y, m, d, hh, mm, ss = swe.jdet_to_utc(design_tt, swe.GREG_CAL)
    swiss_design = jd_of(datetime(y, m, d, hh, mm, int(ss))) + (ss % 1.0) / 86400.0
    chart_design = jd_of(parse_utc(chart.design.utc))
    if parse_utc(chart.birth.utc).year < SWISS_LEAP_SECONDS_END:
        assert abs(chart_design - swiss_design) * 86400.0 < DESIGN_TOLERANCE_S
    check_side(chart.activations.design, swiss_longitudes(design_tt), "design")
