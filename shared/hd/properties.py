"""The values of a chart's type, strategy, authority and definition (SPEC section 5)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, get_args

ChartType = Literal["manifestor", "generator", "manifesting_generator", "projector", "reflector"]
Strategy = Literal["to_inform", "to_respond", "wait_for_the_invitation", "wait_a_lunar_cycle"]
Authority = Literal[
    "emotional", "sacral", "splenic", "ego_manifested", "ego_projected", "self_projected",
    "mental", "lunar",
]  # fmt: skip
Definition = Literal["none", "single", "split", "triple_split", "quadruple_split"]

STRATEGY_OF_TYPE: Final[Mapping[ChartType, Strategy]] = MappingProxyType(
    {
        "manifestor": "to_inform",
        "generator": "to_respond",
        "manifesting_generator": "to_respond",
        "projector": "wait_for_the_invitation",
        "reflector": "wait_a_lunar_cycle",
    }
)
"""The strategy each type follows."""

TYPES: Final[tuple[ChartType, ...]] = tuple(STRATEGY_OF_TYPE)
"""The five types."""

STRATEGIES: Final[tuple[Strategy, ...]] = tuple(dict.fromkeys(STRATEGY_OF_TYPE.values()))
"""The four strategies."""

AUTHORITIES: Final[tuple[Authority, ...]] = get_args(Authority)
"""The eight authorities, in the order of the rules that assign them."""

DEFINITIONS: Final[tuple[Definition, ...]] = get_args(Definition)
"""Definition by number of connected components (9 centers allow at most 4 of 2+ centers)."""


def strategy_of(chart_type: str | None) -> Strategy | None:
    """The strategy a type follows; None without a type or for a value that is not one."""
    return next((s for kind, s in STRATEGY_OF_TYPE.items() if kind == chart_type), None)
