"""The incarnation cross (SPEC section 5): its three angles and its four gates."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple, get_args

Angle = Literal["right_angle", "left_angle", "juxtaposition"]

ANGLES: Final[tuple[Angle, ...]] = get_args(Angle)
"""The three angles of the incarnation cross."""


class IncarnationCross(NamedTuple):
    """The cross's angle and its gates: personality Sun/Earth, design Sun/Earth."""

    angle: Angle
    gates: tuple[int, int, int, int]
