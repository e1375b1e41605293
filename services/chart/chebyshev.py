"""Positions from several JPL (DE440) Chebyshev segments in one NumPy pass.

jplephem evaluates one segment per call, and each call is a few dozen small NumPy
operations whatever the number of instants: with a dozen segments per step the fixed cost
dominates small batches. Here the columns of many (segment, instants) blocks go through a
single pass, with jplephem's arithmetic operation for operation, so every value equals the
one `jplephem.spk.Segment.compute_and_differentiate` returns (divided by the AU in km, as
skyfield's `ChebyshevPosition` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from skyfield.constants import AU_KM

FloatArray = NDArray[np.float64]

_T0: Final = 2451545.0
_S_PER_DAY: Final = 86400.0


@dataclass(frozen=True, eq=False)
class Segment:
    """One type 2 SPK segment: position coefficients for a center -> target vector."""

    init: float
    """Start of the first record, TDB seconds from J2000."""
    interval: float
    """Length of each record, seconds."""
    coefficients: FloatArray
    """(terms, 3, records), highest order term first (jplephem's own layout)."""

    @classmethod
    def of(cls, spk_segment: Any) -> Segment:
        """Wrap a jplephem segment (its coefficients stay memory-mapped)."""
        init, interval, coefficients = spk_segment._data
        return cls(float(init), float(interval), coefficients)

    @property
    def records(self) -> int:
        """Number of records (intervals) in the segment."""
        return int(self.coefficients.shape[2])


@dataclass(frozen=True)
class Block:
    """One segment to evaluate at some instants (TDB as whole day + fraction)."""

    segment: Segment
    whole: FloatArray
    fraction: FloatArray


def _columns(
    blocks: Sequence[Block], counts: Sequence[int]
) -> tuple[FloatArray, FloatArray, Any, Any, Any]:
    """Return every column's TDB (whole, fraction) and its segment's init, interval, records."""
    if len(blocks) == 1:  # scalars broadcast to the same values, without building arrays
        (block,) = blocks
        segment = block.segment
        return block.whole, block.fraction, segment.init, segment.interval, segment.records
    whole = np.concatenate([b.whole for b in blocks])
    fraction = np.concatenate([b.fraction for b in blocks])
    init, interval, records = (np.empty(whole.size), np.empty(whole.size), np.empty(whole.size))
    start = 0
    for block, count in zip(blocks, counts, strict=True):
        stop = start + count
        init[start:stop] = block.segment.init
        interval[start:stop] = block.segment.interval
        records[start:stop] = block.segment.records
        start = stop
    return whole, fraction, init, interval, records


def evaluate(
    blocks: Sequence[Block], velocity: bool = False
) -> tuple[FloatArray, FloatArray | None]:
    """Return positions (3, N) in AU and, if asked, velocities in AU/day, blocks in order."""
    counts = [b.whole.size for b in blocks]
    whole, fraction, init, interval, records = _columns(blocks, counts)

    # Keeping fractions strictly separate from whole numbers (as jplephem does).
    index1, offset1 = np.divmod((whole - _T0) * _S_PER_DAY - init, interval)
    index2, offset2 = np.divmod(fraction * _S_PER_DAY, interval)
    index3, offset = np.divmod(offset1 + offset2, interval)
    index = (index1 + index2 + index3).astype(int)
    if (index < 0).any() or (index > records).any():
        raise ValueError("instant outside the ephemeris segments (DE440: 1549-12-31 to 2650-01-25)")
    last = index == records  # the very end of a segment belongs to its last record
    if last.any():
        index[last] -= 1
        offset[last] += np.broadcast_to(interval, last.shape)[last]

    # Gather each column's coefficients; shorter series are padded with leading zero terms,
    # which leave Clenshaw's recurrence at exactly 0.0 until their first real term.
    terms = max(b.segment.coefficients.shape[0] for b in blocks)
    coefficients = np.zeros((terms, 3, whole.size))
    start = 0
    for block, count in zip(blocks, counts, strict=True):
        stop = start + count
        own = block.segment.coefficients
        coefficients[terms - own.shape[0] :, :, start:stop] = own[:, :, index[start:stop]]
        start = stop

    s = 2.0 * offset / interval - 1.0
    s2 = 2.0 * s
    w0: Any = 0.0
    w1: Any = 0.0
    ws = []
    for coefficient in coefficients[:-1]:
        w2 = w1
        w1 = w0
        w0 = coefficient + (s2 * w1 - w2)
        ws.append(w1)
    position: FloatArray = (coefficients[-1] + (s * w0 - w1)) / AU_KM
    if not velocity:
        return position, None

    dw0: Any = 0.0
    dw1: Any = 0.0
    for w in ws:
        dw2 = dw1
        dw1 = dw0
        dw0 = 2.0 * w + dw1 * s2 - dw2
    rates = w0 + s * dw0 - dw1
    rates /= interval
    rates *= 2.0
    rates *= _S_PER_DAY
    rate: FloatArray = rates / AU_KM
    return position, rate
