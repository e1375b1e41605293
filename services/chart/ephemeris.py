"""Apparent geocentric ecliptic longitudes of date from JPL DE421 (skyfield, offline).

Everything here is vectorised over a skyfield `Time` array: the cost of a batch is a
fixed number of ephemeris calls, whatever its size.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from skyfield.api import Loader
from skyfield.framelib import ecliptic_frame
from skyfield.timelib import Time, Timescale

from shared.events.chart import BODIES

FloatArray = NDArray[np.float64]

EPHEMERIS_FILE: Final = "de421.bsp"
DESIGN_ARC_DEGREES: Final = 88.0
MEAN_SUN_RATE: Final = 0.98565
"""Mean apparent motion of the Sun, degrees per day."""
DESIGN_TOLERANCE_DEGREES: Final = 1e-7
_MAX_ITERATIONS: Final = 12
_RATE_BOUNDS: Final = (0.9, 1.1)
"""The Sun's apparent speed stays within 0.95..1.02 degrees per day."""

_OBSERVED: Final = {
    "sun": "sun",
    "moon": "moon",
    "mercury": "mercury",
    "venus": "venus",
    "mars": "mars",
    "jupiter": "jupiter barycenter",
    "saturn": "saturn barycenter",
    "uranus": "uranus barycenter",
    "neptune": "neptune barycenter",
    "pluto": "pluto barycenter",
}
"""Bodies observed directly, by DE421 target name; the rest are derived."""

COLUMN: Final = {name: i for i, name in enumerate(BODIES)}


@dataclass(frozen=True)
class Ephemeris:
    """The loaded DE421 kernel and the built-in timescale."""

    timescale: Timescale
    earth: Any
    sun: Any
    moon: Any
    observed: tuple[tuple[int, Any], ...]
    """(column in BODIES order, skyfield body) for every directly observed body."""


_ephemeris: Ephemeris | None = None
_lock = threading.Lock()


def data_directory() -> Path:
    """Return skyfield-data's directory, silencing its warning about files we do not use."""
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        # Only finals2000A.all can expire; the built-in timescale does not read it.
        warnings.filterwarnings("ignore", message=r"The file .* (has expired|would expire)")
        return Path(get_skyfield_data_path())


def _load() -> Ephemeris:
    """Open DE421 and the built-in timescale from local files (never downloads)."""
    directory = data_directory()
    if not (directory / EPHEMERIS_FILE).is_file():
        raise FileNotFoundError(f"{EPHEMERIS_FILE} missing from skyfield-data at {directory}")
    load = Loader(str(directory), verbose=False)
    kernel = load(EPHEMERIS_FILE)
    observed = tuple((COLUMN[name], kernel[target]) for name, target in _OBSERVED.items())
    return Ephemeris(
        timescale=load.timescale(builtin=True),
        earth=kernel["earth"],
        sun=kernel["sun"],
        moon=kernel["moon"],
        observed=observed,
    )


def ephemeris() -> Ephemeris:
    """Return the process-wide ephemeris, loading it on first use."""
    global _ephemeris
    if _ephemeris is None:
        with _lock:
            if _ephemeris is None:
                _ephemeris = _load()
    return _ephemeris


def timescale() -> Timescale:
    """Return the built-in skyfield timescale."""
    return ephemeris().timescale


def _as_array_time(t: Time) -> Time:
    """Check that a Time holds a 1-D array of instants."""
    if np.ndim(t.tt) != 1:
        raise ValueError("expected a 1-D Time array, e.g. ts.tt_jd(np.array([...]))")
    return t


def _ecliptic_longitude(position: Any) -> FloatArray:
    """Return a position's longitude in the ecliptic of date, degrees in [0, 360)."""
    _, lon, _ = position.frame_latlon(ecliptic_frame)
    return np.mod(np.asarray(lon.degrees, dtype=np.float64), 360.0)


def sun_longitudes(t: Time) -> FloatArray:
    """Return the Sun's apparent geocentric ecliptic longitude of date for each instant."""
    eph = ephemeris()
    return _ecliptic_longitude(eph.earth.at(_as_array_time(t)).observe(eph.sun).apparent())


def true_node_longitudes(t: Time) -> FloatArray:
    """Return the Moon's true (osculating) ascending node in the ecliptic of date."""
    eph = ephemeris()
    position, velocity = (eph.moon - eph.earth).at(t).frame_xyz_and_velocity(ecliptic_frame)
    r = np.asarray(position.au, dtype=np.float64)
    v = np.asarray(velocity.au_per_d, dtype=np.float64)
    h = np.cross(r, v, axis=0)
    node: FloatArray = np.degrees(np.arctan2(h[0], -h[1]))
    return node % 360.0


def longitudes(t: Time) -> FloatArray:
    """Return an (N, 13) array of longitudes (degrees) in `BODIES` order for N instants."""
    eph = ephemeris()
    t = _as_array_time(t)
    out = np.empty((len(t.tt), len(BODIES)), dtype=np.float64)
    observer = eph.earth.at(t)
    for column, body in eph.observed:
        out[:, column] = _ecliptic_longitude(observer.observe(body).apparent())
    out[:, COLUMN["north_node"]] = true_node_longitudes(t)
    out[:, COLUMN["earth"]] = np.mod(out[:, COLUMN["sun"]] + 180.0, 360.0)
    out[:, COLUMN["south_node"]] = np.mod(out[:, COLUMN["north_node"]] + 180.0, 360.0)
    return out


def _wrap(degrees: FloatArray) -> FloatArray:
    """Wrap angle differences into [-180, 180)."""
    return np.mod(degrees + 180.0, 360.0) - 180.0


def design_times(t_birth: Time, birth_sun: ArrayLike) -> Time:
    """Return, per birth, the latest instant before it when the Sun was 88 degrees behind.

    Secant iterations on the whole batch, on the Sun's apparent longitude, until every
    chart is within DESIGN_TOLERANCE_DEGREES (about a hundredth of a second of time).
    """
    ts = timescale()
    t_birth = _as_array_time(t_birth)
    target = np.mod(np.asarray(birth_sun, dtype=np.float64) - DESIGN_ARC_DEGREES, 360.0)
    whole = np.asarray(t_birth.whole, dtype=np.float64)
    base_fraction = np.asarray(t_birth.tt_fraction, dtype=np.float64)
    if target.shape != whole.shape:
        raise ValueError("birth_sun must have one longitude per birth instant")

    def error_at(days: FloatArray, index: NDArray[np.intp]) -> FloatArray:
        t = ts.tt_jd(whole[index], base_fraction[index] + days)
        return _wrap(sun_longitudes(t) - target[index])

    every = np.arange(whole.size)
    days = np.full(whole.size, -DESIGN_ARC_DEGREES / MEAN_SUN_RATE)
    error = error_at(days, every)
    rate = np.full(whole.size, MEAN_SUN_RATE)
    active = every[np.abs(error) >= DESIGN_TOLERANCE_DEGREES]
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        step = -error[active] / rate[active]
        new_days = days[active] + step
        new_error = error_at(new_days, active)
        moved = new_days != days[active]
        secant = (new_error - error[active]) / np.where(moved, new_days - days[active], 1.0)
        rate[active] = np.where(moved, np.clip(secant, *_RATE_BOUNDS), rate[active])
        days[active], error[active] = new_days, new_error
        active = active[np.abs(new_error) >= DESIGN_TOLERANCE_DEGREES]
    if active.size:
        raise RuntimeError(f"design moment did not converge for {active.size} instant(s)")
    return ts.tt_jd(whole, base_fraction + days)
