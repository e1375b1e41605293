"""Apparent geocentric ecliptic longitudes of several bodies at once.

The result for each body is what `earth.at(t).observe(body).apparent()` followed by
`frame_latlon(ecliptic_frame)` gives in skyfield: the same steps (light-time iterations,
deflection by the Sun, Jupiter and Saturn, aberration, rotation to the ecliptic of date) with
skyfield's own functions for the arithmetic. What differs is the bookkeeping: each step
evaluates every body (and every deflector) in one Chebyshev pass instead of one jplephem call
per segment, and the frame rotation is built once per set of instants. The one shortcut (see
`_deflect`) can move a longitude by one unit in the last place; a test compares the two paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from skyfield.constants import C_AUDAY, DAY_S, tau
from skyfield.framelib import ecliptic_frame
from skyfield.functions import length_of, mxv, to_spherical
from skyfield.relativity import (
    _compute_deflection,
    add_aberration,
    light_time_difference,
)
from skyfield.timelib import Time, tdb_minus_tt

from services.chart.chebyshev import Block, Segment, evaluate

FloatArray = NDArray[np.float64]
Chain = tuple[Segment, ...]
"""Segments from the Solar System barycenter to a body, added in this order."""

_LIGHT_TIME_TOLERANCE: Final = 1e-12
"""Days; skyfield stops its light-time iterations when no instant moves more."""
_LIGHT_TIME_ITERATIONS: Final = 10


@dataclass(frozen=True)
class Deflector:
    """A mass whose gravity bends the light on its way to the Earth."""

    chain: Chain
    reciprocal_mass: float


@dataclass(frozen=True)
class Sky:
    """The DE440 segments the chart needs."""

    earth: Chain
    """Barycenter -> Earth-Moon barycenter -> Earth."""
    moon: Segment
    """Earth-Moon barycenter -> Moon (for the lunar node)."""
    deflectors: tuple[Deflector, ...]
    """Sun, Jupiter, Saturn: skyfield's default deflectors, in its order."""


@dataclass(frozen=True)
class Instants:
    """N instants as skyfield holds them, and their rotation into the ecliptic of date."""

    whole: FloatArray
    tt_fraction: FloatArray
    tdb_fraction: FloatArray
    ecliptic: FloatArray
    """(3, 3, N) rotation matrices, ICRS to the true ecliptic and equinox of date."""

    @classmethod
    def of(cls, t: Time) -> Instants:
        """Read a 1-D skyfield Time (with whatever nutation angles it carries)."""
        return cls(
            whole=np.asarray(t.whole, dtype=np.float64),
            tt_fraction=np.asarray(t.tt_fraction, dtype=np.float64),
            tdb_fraction=np.asarray(t.tdb_fraction, dtype=np.float64),
            ecliptic=np.asarray(ecliptic_frame.rotation_at(t), dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.whole.size)


def _chain_positions(
    chains: Sequence[Chain], wholes: Sequence[FloatArray], fractions: Sequence[FloatArray]
) -> FloatArray:
    """Return (3, len(chains), N): each chain's position at its own N TDB instants."""
    n = wholes[0].size
    first = [Block(c[0], w, f) for c, w, f in zip(chains, wholes, fractions, strict=True)]
    rest = [(i, chain[1:]) for i, chain in enumerate(chains) if len(chain) > 1]
    if any(len(tail) > 1 for _, tail in rest):
        raise ValueError("chains of more than two segments are not supported")
    second = [Block(tail[0], wholes[i], fractions[i]) for i, tail in rest]
    p, _ = evaluate(first + second)
    positions = p[:, : len(chains) * n].reshape(3, len(chains), n)
    if rest:
        # In place, like skyfield's VectorSum: p = p1, then p += p2.
        positions[:, [i for i, _ in rest]] += p[:, len(chains) * n :].reshape(3, len(rest), n)
    return positions


class _AtInstants:
    """Every segment involved, evaluated once at the instants themselves."""

    def __init__(self, sky: Sky, bodies: Sequence[Chain], t: Instants, node: bool) -> None:
        segments: dict[int, Segment] = {}
        moon = ((sky.moon,),) if node else ()
        for chain in (sky.earth, *moon, *bodies, *(d.chain for d in sky.deflectors)):
            for segment in chain:
                segments.setdefault(id(segment), segment)
        order = list(segments)
        p, v = evaluate([Block(segments[k], t.whole, t.tdb_fraction) for k in order], True)
        assert v is not None
        n = len(t)
        self._column = {k: slice(i * n, (i + 1) * n) for i, k in enumerate(order)}
        self._p, self._v = p, v

    def position(self, segment: Segment) -> FloatArray:
        """Return a segment's (3, N) position, AU."""
        return self._p[:, self._column[id(segment)]]

    def velocity(self, segment: Segment) -> FloatArray:
        """Return a segment's (3, N) velocity, AU/day."""
        return self._v[:, self._column[id(segment)]]

    def chain(self, chain: Chain) -> tuple[FloatArray, FloatArray]:
        """Return a chain's position and velocity, summed in skyfield's order."""
        p, v = self.position(chain[0]).copy(), self.velocity(chain[0]).copy()
        for segment in chain[1:]:
            p += self.position(segment)
            v += self.velocity(segment)
        return p, v


def _light_time_corrected(
    bodies: Sequence[Chain], t: Instants, at_t: _AtInstants, observer: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return astrometric positions (3, B, N) and light times (B, N), as `observe()` does."""
    target = np.stack([at_t.chain(chain)[0] for chain in bodies], axis=1)
    distance = length_of(target - observer[:, None, :])
    light_time0 = np.zeros_like(distance)
    light_time = np.empty_like(distance)
    active = np.arange(len(bodies))
    for _ in range(_LIGHT_TIME_ITERATIONS):
        light_time[active] = distance[active] / C_AUDAY
        delta = light_time[active] - light_time0[active]
        # skyfield iterates each body until its largest change over all instants is tiny.
        active = active[np.max(np.abs(delta), axis=1, initial=0.0) >= _LIGHT_TIME_TOLERANCE]
        if active.size == 0:
            return target - observer[:, None, :], light_time
        fractions = [t.tdb_fraction - light_time[b] for b in active]
        moved = _chain_positions([bodies[b] for b in active], [t.whole] * active.size, fractions)
        target[:, active] = moved
        distance[active] = length_of(moved - observer[:, None, :])
        light_time0[active] = light_time[active]
    raise ValueError("light-travel time failed to converge")


def _deflect(
    sky: Sky,
    t: Instants,
    at_t: _AtInstants,
    position: FloatArray,
    observer: FloatArray,
    copies: int,
) -> None:
    """Apply `Astrometric.apparent()`'s deflections in place to (3, copies*N) positions."""
    whole = np.tile(t.whole, copies)
    tt_fraction = np.tile(t.tt_fraction, copies)
    tlt = length_of(position) / C_AUDAY
    # skyfield finds each deflector's closest approach to the ray after bending the ray by
    # the previous deflectors; here all three come from the unbent ray, so one pass finds
    # them. The bend (under 2e-8 rad) moves those instants by under 1e-9 days, which changes
    # a longitude by at most one unit in the last place (1 value in 200,000 in a test).
    close_whole, close_tt = [], []
    for deflector in sky.deflectors:
        now = np.tile(at_t.chain(deflector.chain)[0], (1, copies))
        dlt = light_time_difference(position, now - observer)
        # `t - clip(dlt, 0, tlt)` in skyfield: a TT Time, whose TDB fraction is then derived.
        w, f = np.divmod(np.clip(dlt, 0.0, tlt), 1.0)
        close_whole.append(whole - w)
        close_tt.append(tt_fraction - f)
    close_tdb = [
        tt + tdb_minus_tt(w, tt) / DAY_S for w, tt in zip(close_whole, close_tt, strict=True)
    ]
    then = _chain_positions([d.chain for d in sky.deflectors], close_whole, close_tdb)
    for i, deflector in enumerate(sky.deflectors):
        position += _compute_deflection(position, observer - then[:, i], deflector.reciprocal_mass)


def _ecliptic_longitude(rotation: FloatArray, position: FloatArray) -> FloatArray:
    """Return longitudes in the ecliptic of date, degrees in [0, 360) (as frame_latlon)."""
    _, _, lon = to_spherical(mxv(rotation, position))
    degrees: FloatArray = np.mod(lon * 360.0 / tau, 360.0)
    return degrees


def apparent_longitudes(sky: Sky, t: Instants, bodies: Sequence[Chain]) -> FloatArray:
    """Return (B, N) apparent geocentric ecliptic longitudes, degrees, for each body."""
    return _longitudes(sky, t, bodies, _AtInstants(sky, bodies, t, node=False))


def _longitudes(sky: Sky, t: Instants, bodies: Sequence[Chain], at_t: _AtInstants) -> FloatArray:
    """Return (B, N) apparent longitudes from the segments already evaluated at t."""
    n, copies = len(t), len(bodies)
    observer, observer_velocity = at_t.chain(sky.earth)
    astrometric, light_time = _light_time_corrected(bodies, t, at_t, observer)
    position = astrometric.reshape(3, copies * n)
    observer_tiled = np.tile(observer, (1, copies))
    _deflect(sky, t, at_t, position, observer_tiled, copies)
    add_aberration(position, np.tile(observer_velocity, (1, copies)), light_time.reshape(-1))
    rotation = np.tile(t.ecliptic, (1, 1, copies))
    return _ecliptic_longitude(rotation, position).reshape(copies, n)


def _true_node_longitudes(sky: Sky, t: Instants, at_t: _AtInstants) -> FloatArray:
    """Return the Moon's osculating ascending node in the ecliptic of date, degrees."""
    # skyfield's (moon - earth) sums -Earth, -EMB, +EMB, +Moon in that order.
    emb, earth = sky.earth
    p: Any = 0.0
    v: Any = 0.0
    for segment, sign in ((earth, -1.0), (emb, -1.0), (emb, 1.0), (sky.moon, 1.0)):
        p = p + (at_t.position(segment) if sign > 0 else -at_t.position(segment))
        v = v + (at_t.velocity(segment) if sign > 0 else -at_t.velocity(segment))
    r, w = mxv(t.ecliptic, p), mxv(t.ecliptic, v)
    h = np.cross(r, w, axis=0)
    node: FloatArray = np.degrees(np.arctan2(h[0], -h[1]))
    return node % 360.0


def longitudes_with_node(
    sky: Sky, t: Instants, bodies: Sequence[Chain]
) -> tuple[FloatArray, FloatArray]:
    """Return the bodies' (B, N) apparent longitudes and the (N,) true node longitudes."""
    at_t = _AtInstants(sky, bodies, t, node=True)
    return _longitudes(sky, t, bodies, at_t), _true_node_longitudes(sky, t, at_t)
