"""The batched ephemeris path gives skyfield's own results (chebyshev.py, apparent.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from skyfield.api import load_file
from skyfield.constants import AU_KM
from skyfield.framelib import ecliptic_frame

from services.chart import ephemeris
from services.chart.chebyshev import Block, Segment, evaluate

# The same instant can differ by a few 1e-12 degrees between batch sizes in skyfield itself
# (vectorised NumPy maths); anything beyond that would be a real difference.
TOLERANCE_DEGREES = 1e-10


# Julian dates (TT) around the births supported, 1800 to 2199, and their design moments.
FIRST_JD, LAST_JD = 2378400.5, 2524958.5  # 1799-09-01 and 2200-01-02


@pytest.fixture(scope="module")
def kernel() -> Any:
    return load_file(str(ephemeris.kernel_path()))


def random_times(n: int, seed: int) -> Any:
    jd = np.random.default_rng(seed).uniform(FIRST_JD, LAST_JD, n)
    return ephemeris.timescale().tt_jd(np.floor(jd), jd - np.floor(jd))


def test_one_segment_per_body_covers_the_supported_dates(kernel: Any) -> None:
    pairs = [(s.center, s.target) for s in kernel.spk.segments]
    assert len(set(pairs)) == len(pairs)
    for s in kernel.spk.segments:
        assert s.start_jd < FIRST_JD < LAST_JD < s.end_jd


@pytest.mark.parametrize("span", ["supported", "whole"])
def test_chebyshev_pass_equals_jplephem_bit_for_bit(kernel: Any, span: str) -> None:
    rng = np.random.default_rng(3)
    segments = kernel.spk.segments
    blocks, positions, velocities = [], [], []
    for spk_segment in segments:
        first, last = (
            (FIRST_JD, LAST_JD)
            if span == "supported"
            else (spk_segment.start_jd, spk_segment.end_jd)
        )
        # Random instants, and the first and last instant of the range (the last record).
        whole = np.concatenate([np.floor(rng.uniform(first + 1, last - 1, 6)) + 0.5, [first, last]])
        fraction = np.concatenate([rng.uniform(-0.6, 0.6, 6), [0.0, 0.0]])
        blocks.append(Block(Segment.of(spk_segment), whole, fraction))
        p, v = spk_segment.compute_and_differentiate(whole, fraction)
        positions.append(p / AU_KM)
        velocities.append(v / AU_KM)
    p, v = evaluate(blocks, velocity=True)
    assert np.array_equal(p, np.concatenate(positions, axis=1))
    assert v is not None and np.array_equal(v, np.concatenate(velocities, axis=1))


def angle_gap(a: Any, b: Any) -> float:
    return float(np.max(np.abs((a - b + 180.0) % 360.0 - 180.0)))


@pytest.mark.parametrize("n", [1, 7, 40])
def test_longitudes_equal_skyfields_apparent_places(kernel: Any, n: int) -> None:
    t = random_times(n, seed=n)
    ours = ephemeris.longitudes(t)
    earth = kernel["earth"]
    observer = earth.at(t)
    for name, target in [
        ("sun", "sun"),
        ("moon", "moon"),
        ("mercury", "mercury"),
        ("venus", "venus"),
        ("mars", "mars barycenter"),
        ("jupiter", "jupiter barycenter"),
        ("saturn", "saturn barycenter"),
        ("uranus", "uranus barycenter"),
        ("neptune", "neptune barycenter"),
        ("pluto", "pluto barycenter"),
    ]:
        _, lon, _ = observer.observe(kernel[target]).apparent().frame_latlon(ecliptic_frame)
        assert angle_gap(ours[:, ephemeris.COLUMN[name]], lon.degrees) < TOLERANCE_DEGREES, name
    r, v = (kernel["moon"] - earth).at(t).frame_xyz_and_velocity(ecliptic_frame)
    h = np.cross(r.au, v.au_per_d, axis=0)
    node = np.degrees(np.arctan2(h[0], -h[1])) % 360.0
    assert angle_gap(ours[:, ephemeris.COLUMN["north_node"]], node) < TOLERANCE_DEGREES
