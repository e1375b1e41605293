"""The twelve profiles and the cross angle each implies (SPEC section 5).

A profile is the personality (conscious) Sun line over the design (unconscious) Sun
line, e.g. "5/1"; the design Sun is 88 degrees behind, so only twelve occur.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from shared.hd.crosses import Angle

PROFILE_ANGLES: Final[Mapping[str, Angle]] = MappingProxyType(
    {
        "1/3": "right_angle", "1/4": "right_angle", "2/4": "right_angle", "2/5": "right_angle",
        "3/5": "right_angle", "3/6": "right_angle", "4/6": "right_angle",
        "4/1": "juxtaposition",
        "5/1": "left_angle", "5/2": "left_angle", "6/2": "left_angle", "6/3": "left_angle",
    }
)  # fmt: skip
"""The 12 profiles that occur, in the conventional order, and their cross angle."""

PROFILES: Final[tuple[str, ...]] = tuple(PROFILE_ANGLES)
"""The twelve profiles ("1/3" ... "6/3"), in the conventional order."""


def profile_key(personality_sun_line: int, design_sun_line: int) -> str:
    """The profile written the conventional way, "p/d", whether or not it occurs."""
    return f"{personality_sun_line}/{design_sun_line}"
