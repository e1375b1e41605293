"""The wheel (SPEC section 2): boundaries, opposites and exactness."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.chart.wheel import (
    BASES_PER_CIRCLE,
    BASES_PER_COLOR,
    GATE_DEGREES,
    LINE_DEGREES,
    decompose,
    opposite,
    wheel,
    wheel_index,
)
from shared.hd.gates import GATE_ORDER

OPPOSITE_PAIRS = [(41, 31), (51, 57), (4, 49), (23, 43), (26, 45), (6, 36), (14, 8), (29, 30),
                  (53, 54), (42, 32), (17, 18), (38, 39), (61, 62)]  # fmt: skip


def exact_index(lon: float) -> int:
    """Reference base index in exact rational arithmetic."""
    return math.floor((Fraction(lon) - 302) * 192) % BASES_PER_CIRCLE


def position(lon: float) -> tuple[int, int, int, int, int]:
    """Return (gate, line, color, tone, base) of one longitude."""
    p = wheel([lon])
    return int(p.gate[0]), int(p.line[0]), int(p.color[0]), int(p.tone[0]), int(p.base[0])


def test_gate_41_begins_at_302_degrees() -> None:
    assert position(302.0) == (41, 1, 1, 1, 1)


def test_just_below_302_is_the_last_base_of_gate_60() -> None:
    assert position(float(np.nextafter(302.0, 0.0))) == (60, 6, 6, 6, 5)
    assert position(301.99)[:2] == (60, 6)


def test_every_gate_starts_on_its_boundary() -> None:
    starts = np.array([(302 + GATE_DEGREES * i) % 360 for i in range(64)])
    assert wheel(starts).gate.tolist() == list(GATE_ORDER)
    assert set(wheel(starts).line.tolist()) == {1}
    below = wheel(np.nextafter(starts, -np.inf))
    assert below.gate.tolist() == [GATE_ORDER[i - 1] for i in range(64)]
    assert set(below.line.tolist()) == {6}


def test_every_line_starts_on_its_boundary() -> None:
    starts = np.array([(302 + LINE_DEGREES * j) % 360 for j in range(384)])
    positions = wheel(starts)
    assert positions.line.tolist() == [j % 6 + 1 for j in range(384)]
    assert positions.gate.tolist() == [GATE_ORDER[j // 6] for j in range(384)]
    below = wheel(np.nextafter(starts, -np.inf))
    assert below.line.tolist() == [(j - 1) % 6 + 1 for j in range(384)]


def test_known_positions() -> None:
    assert position(358.25)[:2] == (25, 1)  # gate 25 begins at 28 deg 15' Pisces
    assert position(float(np.nextafter(358.25, 0.0)))[:2] == (36, 6)
    assert position(0.0)[:2] == (25, 2)
    assert position(359.9999999)[:2] == (25, 2)
    assert position(19.264721)[:2] == (51, 5)  # Ra Uru Hu's personality Sun


def test_gates_are_a_permutation_of_1_to_64() -> None:
    assert sorted(GATE_ORDER) == list(range(1, 65))


@pytest.mark.parametrize(("a", "b"), OPPOSITE_PAIRS)
def test_opposite_gates_are_32_places_apart(a: int, b: int) -> None:
    assert (GATE_ORDER.index(a) - GATE_ORDER.index(b)) % 64 == 32


def test_vectorised_shapes_and_input_checks() -> None:
    lons = np.linspace(0.0, 359.0, 26).reshape(2, 13)
    positions = wheel(lons)
    assert all(a.shape == (2, 13) for a in positions)
    with pytest.raises(ValueError):
        wheel([float("nan")])
    with pytest.raises(ValueError):
        decompose([BASES_PER_CIRCLE])


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0.0, max_value=360.0, exclude_max=True))
def test_every_longitude_maps_to_exactly_one_valid_division(lon: float) -> None:
    k = int(wheel_index([lon])[0])
    assert k == exact_index(lon)
    gate, line, color, tone, base = position(lon)
    assert gate in GATE_ORDER and 1 <= line <= 6 and 1 <= color <= 6
    assert 1 <= tone <= 6 and 1 <= base <= 5
    # The longitude lies in [start, end) of its gate and line, in exact arithmetic.
    x = (Fraction(lon) - 302) % 360
    g = GATE_ORDER.index(gate)
    line_start = Fraction(45, 8) * g + Fraction(15, 16) * (line - 1)
    assert Fraction(45, 8) * g <= x < Fraction(45, 8) * (g + 1)
    assert line_start <= x < line_start + Fraction(15, 16)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-720.0, max_value=720.0))
def test_index_is_exact_for_any_float(lon: float) -> None:
    assert int(wheel_index([lon])[0]) == exact_index(lon)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=360 * 2**40 - 1))
def test_earth_is_32_gates_from_the_sun(n: int) -> None:
    sun = n / 2**40  # exactly representable, and so is sun + 180
    earth = (sun + 180.0) % 360.0
    k_sun, k_earth = wheel_index([sun, earth])
    assert k_earth == opposite(k_sun)
    (s_gate, e_gate), lines, colors = wheel([sun, earth])[:3]
    assert (GATE_ORDER.index(e_gate) - GATE_ORDER.index(s_gate)) % 64 == 32
    assert lines[0] == lines[1] and colors[0] == colors[1]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=BASES_PER_CIRCLE // BASES_PER_COLOR - 1))
def test_color_boundaries_go_to_the_side_that_starts_there(j: int) -> None:
    k = j * BASES_PER_COLOR
    lon = float((302 + Fraction(k, 192)) % 360)  # color boundaries are exact binary fractions
    assert int(wheel_index([lon])[0]) == k
    assert int(wheel_index([np.nextafter(lon, -np.inf)])[0]) == (k - 1) % BASES_PER_CIRCLE
