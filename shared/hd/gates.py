"""The 64 gates and their order on the wheel (SPEC section 2)."""

from __future__ import annotations

from typing import Final

GATE_ORDER: Final[tuple[int, ...]] = (
    41, 19, 13, 49, 30, 55, 37, 63, 22, 36, 25, 17, 21, 51, 42, 3,
    27, 24, 2, 23, 8, 20, 16, 35, 45, 12, 15, 52, 39, 53, 62, 56,
    31, 33, 7, 4, 29, 59, 40, 64, 47, 6, 46, 18, 48, 57, 32, 50,
    28, 44, 1, 43, 14, 34, 9, 5, 26, 11, 10, 58, 38, 54, 61, 60,
)  # fmt: skip
"""Gates in order of increasing longitude, starting at 302 degrees (gate 41)."""

GATES: Final[tuple[int, ...]] = tuple(sorted(GATE_ORDER))
"""The 64 gate numbers, 1 to 64."""
