"""The nine centers, their gates and the motors (SPEC section 4)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

Center = Literal[
    "head", "ajna", "throat", "g", "heart", "spleen", "solar_plexus", "sacral", "root"
]  # fmt: skip

CENTER_GATES: Final[Mapping[Center, tuple[int, ...]]] = MappingProxyType(
    {
        "head": (64, 61, 63),
        "ajna": (47, 24, 4, 17, 43, 11),
        "throat": (62, 23, 56, 35, 12, 45, 33, 8, 31, 20, 16),
        "g": (1, 13, 25, 46, 2, 15, 10, 7),
        "heart": (21, 40, 26, 51),
        "spleen": (48, 57, 44, 50, 32, 28, 18),
        "solar_plexus": (6, 37, 22, 36, 30, 55, 49),
        "sacral": (3, 42, 9, 59, 14, 29, 27, 34, 5),
        "root": (53, 60, 52, 19, 39, 41, 58, 38, 54),
    }
)
"""Every center's gates; the key order is the order centers are listed in a chart."""

CENTERS: Final[tuple[Center, ...]] = tuple(CENTER_GATES)
"""The nine centers, in the order of a chart."""

GATE_CENTER: Final[Mapping[int, Center]] = MappingProxyType(
    {gate: center for center, gates in CENTER_GATES.items() for gate in gates}
)
"""The center of each of the 64 gates."""

MOTORS: Final[frozenset[Center]] = frozenset({"sacral", "solar_plexus", "heart", "root"})
