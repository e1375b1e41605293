"""Charts for a batch of births: resolve each birth, then one vectorised ephemeris pass."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from skyfield.timelib import Time

from services.chart import ephemeris
from services.chart.birth_moment import resolve_birth, timezone_at
from services.chart.bodygraph import chart_properties
from services.chart.errors import ChartError
from services.chart.place import lookup_city
from services.chart.wheel import decompose, opposite, wheel_index
from shared.events.birth import EPHEMERIS, BirthInput
from shared.events.chart import BODIES, Chart, Engine, ResolvedBirth

ENGINE_VERSION: Final = "1.2.0"
"""Version of the calculation; bump when any computed value can change.

1.2.0: DE440, births 1800-2199; civil time before 1972 read as UT1."""

_SUN, _EARTH = BODIES.index("sun"), BODIES.index("earth")
_NORTH, _SOUTH = BODIES.index("north_node"), BODIES.index("south_node")
_GATE, _LINE = 0, 1
"""Rows of a chart's wheel values: [quantity][body], quantities gate, line, color, tone, base."""
_UTC_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
LEAP_SECONDS_FROM: Final = datetime(1972, 1, 1, tzinfo=UTC)
"""UTC with whole leap seconds (TT = UTC + 32.184 s + TAI-UTC) starts here.

Earlier civil time is read as UT1, Greenwich mean solar time: TT = UT1 + Delta T (skyfield's
built-in Delta T, Morrison, Stephenson and Hohenkerk 2016). Local mean time before standard
time, and standard time until 1960, were mean solar time; from 1961 to 1971 UTC stayed within
0.1 s of UT1. (skyfield's `utc()` counts TAI-UTC as 10 s before 1972 instead, which is 24 s
off in 1800 and 45 s in 1899, 14 s in 1948.) After the last known leap second, TAI-UTC stays
at its last value: leap seconds are to stop by 2035 (CGPM 2022, resolution 4).
"""
_LEAP_SECONDS_FROM_TT: Final = 2441317.5 + 42.184 / 86400.0
"""1972-01-01T00:00:00Z as a TT Julian date."""


def _birth_times(instants: Sequence[datetime]) -> Time:
    """Return a skyfield Time array for aware UTC datetimes (whole seconds)."""

    def column(attr: str) -> NDArray[np.int64]:
        """Return one calendar field of every instant."""
        return np.array([getattr(d, attr) for d in instants], dtype=np.int64)

    ts = ephemeris.timescale()
    fields = (
        column("year"),
        column("month"),
        column("day"),
        column("hour"),
        column("minute"),
        column("second").astype(np.float64),
    )
    t = ts.utc(*fields)
    early = np.array([d < LEAP_SECONDS_FROM for d in instants])
    if not early.any():
        return t
    ut1 = ts.ut1(*(f[early] for f in fields))
    whole, fraction = np.array(t.whole, dtype=np.float64), np.array(t.tt_fraction)
    whole[early], fraction[early] = ut1.whole, ut1.tt_fraction
    return ts.tt_jd(whole, fraction)


def _civil_strftime(t: Time) -> list[str]:
    """Format instants as `_UTC_FORMAT`: UTC from 1972, UT1 before (see LEAP_SECONDS_FROM)."""
    early = np.atleast_1d(t.tt) < _LEAP_SECONDS_FROM_TT
    if not early.any():
        return list(np.atleast_1d(t.utc_strftime(_UTC_FORMAT)))
    if early.all():
        return list(np.atleast_1d(t.ut1_strftime(_UTC_FORMAT)))
    text = np.empty(early.size, dtype=object)
    text[early] = t[early].ut1_strftime(_UTC_FORMAT)
    text[~early] = t[~early].utc_strftime(_UTC_FORMAT)
    return [str(s) for s in text]


def _side(longitudes: list[float], wheel_rows: list[list[int]]) -> dict[str, dict[str, float]]:
    """Return one side's 13 activations (as plain data) from longitudes and wheel rows."""
    gates, lines, colors, tones, bases = wheel_rows
    return {
        body: {
            "longitude": longitudes[i],
            "gate": gates[i],
            "line": lines[i],
            "color": colors[i],
            "tone": tones[i],
            "base": bases[i],
        }
        for i, body in enumerate(BODIES)
    }


def _derived(personality: list[list[int]], design: list[list[int]]) -> dict[str, Any]:
    """Return the derived fields (channels, centers, type, ...) from both sides' wheel rows."""
    return chart_properties(
        personality[_GATE], design[_GATE], personality[_LINE][_SUN], design[_LINE][_SUN]
    )


def _wheel_rows(lons: NDArray[np.float64]) -> list[list[list[int]]]:
    """Return wheel values as nested lists indexed [chart][quantity][body]."""
    k = wheel_index(lons)
    # Earth and South Node are exactly opposite: derive them from the base index.
    k[..., _EARTH] = opposite(k[..., _SUN])
    k[..., _SOUTH] = opposite(k[..., _NORTH])
    stacked = np.stack(decompose(k), axis=-2)  # (..., 5 quantities, 13 bodies)
    rows: list[list[list[int]]] = stacked.tolist()
    return rows


def _charts(
    births: Sequence[BirthInput], resolved: Sequence[ResolvedBirth], instants: Sequence[datetime]
) -> list[Chart]:
    """Compute the charts of resolved births in one batch."""
    t_birth = _birth_times(instants)
    t_design = ephemeris.design_times(t_birth)
    # One pass over both moments: each body costs one ephemeris call, whatever the batch.
    both = ephemeris.longitudes(ephemeris.join_times(t_birth, t_design))
    personality, design = both[: len(instants)], both[len(instants) :]
    design_utc = _civil_strftime(t_design)
    p_wheel, d_wheel = _wheel_rows(personality), _wheel_rows(design)
    # Rounded to 6 decimals (0.0036"); 359.9999996 rounds to 360 and wraps to 0.
    p_lons, d_lons = (np.round(x, 6) % 360.0 for x in (personality, design))
    p_list, d_list = p_lons.tolist(), d_lons.tolist()
    engine = Engine(ephemeris=EPHEMERIS, version=ENGINE_VERSION)
    return [
        Chart.model_validate(
            {
                "id": birth.id,
                "birth": echo,
                "design": {"utc": design_utc[i]},
                "activations": {
                    "personality": _side(p_list[i], p_wheel[i]),
                    "design": _side(d_list[i], d_wheel[i]),
                },
                **_derived(p_wheel[i], d_wheel[i]),
                "engine": engine,
            }
        )
        for i, (birth, echo) in enumerate(zip(births, resolved, strict=True))
    ]


def compute_charts(births: Sequence[BirthInput]) -> list[Chart | ChartError]:
    """Compute charts in input order; a birth that cannot be charted yields its ChartError."""
    results: list[Chart | ChartError | None] = [None] * len(births)
    positions: list[int] = []
    resolved: list[ResolvedBirth] = []
    instants: list[datetime] = []
    for i, birth in enumerate(births):
        try:
            utc, echo = resolve_birth(birth)
        except ChartError as error:
            results[i] = error
            continue
        positions.append(i)
        resolved.append(echo)
        instants.append(utc)
    if positions:
        charts = _charts([births[i] for i in positions], resolved, instants)
        for i, chart in zip(positions, charts, strict=True):
            results[i] = chart
    return [r for r in results if r is not None]


def compute_chart(birth: BirthInput) -> Chart:
    """Compute one chart, raising ChartError if the birth cannot be charted."""
    result = compute_charts([birth])[0]
    if isinstance(result, ChartError):
        raise result
    return result


def warm_up(gazetteer: bool = True) -> None:
    """Load the ephemeris, the time-zone finder and (optionally) the city index up front."""
    ephemeris.longitudes(ephemeris.timescale().tt_jd(np.array([2451545.0])))
    timezone_at(52.52, 13.40)
    if gazetteer:
        warm_gazetteer()


def warm_gazetteer() -> None:
    """Build the offline city index (a lookup before it is built waits for it)."""
    lookup_city("Berlin")
