"""The Human Design wheel (SPEC section 2): longitude -> gate, line, color, tone, base."""

# A circle has 69120 bases (64 gates x 6 lines x 6 colors x 6 tones x 5 bases), i.e. 192
# bases per degree, and gate 41 begins at 302 degrees. The base index
# k = floor((longitude - 302) * 192) mod 69120 is computed exactly for every finite float64
# longitude, so a position exactly on a boundary belongs to the division that starts there
# and the float just below it to the division before.

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from shared.hd.gates import GATE_ORDER

IntArray = NDArray[np.int64]

BASES_PER_DEGREE: Final = 192
BASES_PER_CIRCLE: Final = 69120
BASES_PER_GATE: Final = 1080
BASES_PER_LINE: Final = 180
BASES_PER_COLOR: Final = 30
BASES_PER_TONE: Final = 5
HALF_CIRCLE: Final = BASES_PER_CIRCLE // 2
WHEEL_START_DEGREES: Final = 302
GATE_DEGREES: Final = 360 / 64
LINE_DEGREES: Final = GATE_DEGREES / 6

_START: Final = WHEEL_START_DEGREES * BASES_PER_DEGREE
_GATES: Final[IntArray] = np.array(GATE_ORDER, dtype=np.int64)
_MAX_ABS_DEGREES: Final = 1.0e9


class WheelPositions(NamedTuple):
    """Gate, line, color, tone and base arrays, element by element."""

    gate: IntArray
    line: IntArray
    color: IntArray
    tone: IntArray
    base: IntArray


def wheel_index(longitudes: ArrayLike) -> IntArray:
    """Return the exact base index k in [0, 69120) of each longitude in degrees."""
    x = np.asarray(longitudes, dtype=np.float64)
    if not np.all(np.isfinite(x)) or np.any(np.abs(x) > _MAX_ABS_DEGREES):
        raise ValueError("longitudes must be finite degrees")
    # 192 * x = 64 * (3 * x); 3 * x = s + e exactly (Knuth's TwoSum of 2x and x), and
    # scaling by 64 is exact, so floor(192 * x) = floor(64 * s) - [64 * s is whole and e < 0].
    twice = 2.0 * x
    s = twice + x
    b = s - twice
    e = (twice - (s - b)) + (x - b)
    high = 64.0 * s
    whole = np.floor(high)
    below = (high == whole) & (e < 0.0)
    k: IntArray = whole.astype(np.int64) - below.astype(np.int64) - _START
    return k % BASES_PER_CIRCLE


def opposite(k: ArrayLike) -> IntArray:
    """Return the base index 180 degrees away (Earth from Sun, South from North Node)."""
    return np.mod(np.asarray(k, dtype=np.int64) + HALF_CIRCLE, BASES_PER_CIRCLE)


def decompose(k: ArrayLike) -> WheelPositions:
    """Split base indices into gate, line, color, tone and base."""
    k = np.asarray(k, dtype=np.int64)
    if np.any((k < 0) | (k >= BASES_PER_CIRCLE)):
        raise ValueError(f"base index outside [0, {BASES_PER_CIRCLE})")
    return WheelPositions(
        gate=_GATES[k // BASES_PER_GATE],
        line=(k // BASES_PER_LINE) % 6 + 1,
        color=(k // BASES_PER_COLOR) % 6 + 1,
        tone=(k // BASES_PER_TONE) % 6 + 1,
        base=k % BASES_PER_TONE + 1,
    )


def wheel(longitudes: ArrayLike) -> WheelPositions:
    """Return gate, line, color, tone and base for longitudes in degrees (any shape)."""
    return decompose(wheel_index(longitudes))
