"""Apparent geocentric ecliptic longitudes of date from JPL DE421 (skyfield, offline)."""

# Everything here is vectorised over a skyfield `Time` array: the cost of a batch is a fixed
# number of ephemeris calls, whatever its size.

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
from skyfield.nutationlib import iau2000a_radians, iau2000b_radians
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
_ALL: Final = slice(None)


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


def join_times(*times: Time) -> Time:
    """Concatenate Time arrays, keeping the nutation angles already computed for them."""
    ts = timescale()
    joined = ts.tt_jd(
        np.concatenate([np.atleast_1d(t.whole) for t in times]),
        np.concatenate([np.atleast_1d(t.tt_fraction) for t in times]),
    )
    angles = [t._nutation_angles_radians for t in times]
    joined._nutation_angles_radians = tuple(
        np.concatenate([np.atleast_1d(a[i]) for a in angles]) for i in range(2)
    )
    return joined


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


class _SunSearch:
    """Secant iterations on the Sun's apparent longitude, vectorised over a batch."""

    def __init__(self, t_birth: Time, birth_sun: ArrayLike) -> None:
        self.ts = timescale()
        self.whole = np.asarray(t_birth.whole, dtype=np.float64)
        self.fraction = np.asarray(t_birth.tt_fraction, dtype=np.float64)
        target = np.asarray(birth_sun, dtype=np.float64) - DESIGN_ARC_DEGREES
        self.target: FloatArray = target % 360.0
        if self.target.shape != self.whole.shape:
            raise ValueError("birth_sun must have one longitude per birth instant")
        self.days = np.full(self.whole.size, -DESIGN_ARC_DEGREES / MEAN_SUN_RATE)
        self.rate = np.full(self.whole.size, MEAN_SUN_RATE)
        self.nutation: tuple[FloatArray, FloatArray] | None = None
        self.error = self._error_at(self.days, np.arange(self.whole.size))

    def time(self, days: FloatArray, index: NDArray[np.intp] | slice = _ALL) -> Time:
        """Return the instants `days` after birth, with the nutation model in use."""
        t = self.ts.tt_jd(self.whole[index], self.fraction[index] + days)
        # Setting the nutation angles is how skyfield's own almanac searches swap models.
        if self.nutation is None:
            t._nutation_angles_radians = iau2000b_radians(t)
        else:
            t._nutation_angles_radians = (self.nutation[0][index], self.nutation[1][index])
        return t

    def _error_at(self, days: FloatArray, index: NDArray[np.intp]) -> FloatArray:
        """Return the Sun's longitude minus the target, wrapped, at the given instants."""
        return _wrap(sun_longitudes(self.time(days, index)) - self.target[index])

    def refine(self, tolerance: float) -> None:
        """Iterate until every |error| is below tolerance (degrees)."""
        active = np.flatnonzero(np.abs(self.error) >= tolerance)
        for _ in range(_MAX_ITERATIONS):
            if active.size == 0:
                return
            days, error = self.days[active], self.error[active]
            new_days = days - error / self.rate[active]
            new_error = self._error_at(new_days, active)
            moved = new_days != days
            secant = (new_error - error) / np.where(moved, new_days - days, 1.0)
            self.rate[active] = np.where(moved, np.clip(secant, *_RATE_BOUNDS), self.rate[active])
            self.days[active], self.error[active] = new_days, new_error
            active = active[np.abs(new_error) >= tolerance]
        raise RuntimeError(f"design moment did not converge for {active.size} instant(s)")

    def use_full_nutation(self) -> None:
        """Switch to IAU 2000A nutation, computed once at the current instants."""
        t = self.ts.tt_jd(self.whole, self.fraction + self.days)
        self.nutation = iau2000a_radians(t)
        self.error = self._error_at(self.days, np.arange(self.whole.size))


def design_times(t_birth: Time, birth_sun: ArrayLike) -> Time:
    """Return, per birth, the latest instant before it when the Sun was 88 degrees behind."""
    # Secant iterations on the whole batch until every chart is within
    # DESIGN_TOLERANCE_DEGREES of the Sun's apparent longitude (a hundredth of a second).
    # The search runs with IAU 2000B nutation (within 3 mas of 2000A, 15x cheaper), then
    # polishes with 2000A evaluated once: the last steps move the instants by well under a
    # second, over which the nutation changes by less than a microarcsecond.
    search = _SunSearch(_as_array_time(t_birth), birth_sun)
    search.refine(DESIGN_TOLERANCE_DEGREES / 10)
    search.use_full_nutation()
    search.refine(DESIGN_TOLERANCE_DEGREES)
    return search.time(search.days)
