"""What a chart's gates define (SPEC sections 4 and 5), and its profile and cross.

Pure functions of the 26 activations' gates (channels, centers, type, strategy, authority,
definition) and of the two Sun activations (profile, incarnation cross). Plain Python: a
set of gates, 36 channels to test and sets of centers as 9-bit masks, about 10
microseconds per chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

from shared.hd.centers import CENTERS, GATE_CENTER, MOTORS, Center
from shared.hd.channels import CHANNELS, Channel
from shared.hd.crosses import IncarnationCross
from shared.hd.profiles import PROFILE_ANGLES, profile_key
from shared.hd.properties import (
    DEFINITIONS,
    STRATEGY_OF_TYPE,
    Authority,
    ChartType,
    Definition,
    Strategy,
)

# Sets of centers are bit masks in the order of CENTERS (head = 1, ..., root = 256).
_BIT: Final[Mapping[Center, int]] = MappingProxyType({c: 1 << i for i, c in enumerate(CENTERS)})
_NAMES: Final[tuple[tuple[Center, ...], ...]] = tuple(
    tuple(c for c in CENTERS if mask & _BIT[c]) for mask in range(1 << len(CENTERS))
)
"""The centers of every mask, in the order of CENTERS."""
_ALL_CENTERS: Final = (1 << len(CENTERS)) - 1
_MOTOR_BITS: Final = sum(_BIT[c] for c in MOTORS)
_THROAT, _G, _HEART = _BIT["throat"], _BIT["g"], _BIT["heart"]
_SACRAL, _SPLEEN, _SOLAR_PLEXUS = _BIT["sacral"], _BIT["spleen"], _BIT["solar_plexus"]
_CHANNEL_MASKS: Final[tuple[tuple[int, int, Channel, int], ...]] = tuple(
    (c.gates[0], c.gates[1], c, _BIT[c.centers[0]] | _BIT[c.centers[1]]) for c in CHANNELS
)
"""(low gate, high gate, channel, mask of its two centers) per channel."""


class Bodygraph(NamedTuple):
    """What a set of active gates defines."""

    active_gates: tuple[int, ...]
    """Distinct active gates, ascending."""
    channels: tuple[Channel, ...]
    """Defined channels, in the order of `CHANNELS`."""
    defined: tuple[Center, ...]
    """Defined centers, in the order of `CENTERS`."""
    open: tuple[Center, ...]
    """Open centers, in the order of `CENTERS`."""
    components: tuple[tuple[Center, ...], ...]
    """Connected groups of defined centers (joined by defined channels), by first center."""
    type: ChartType
    strategy: Strategy
    authority: Authority
    definition: Definition

    def connected(self, a: Center, b: Center) -> bool:
        """Whether two defined centers are in the same component (directly or not)."""
        return any(a in group and b in group for group in self.components)


def defined_channels(active: Iterable[int]) -> tuple[Channel, ...]:
    """Return the channels with both gates active, in the order of `CHANNELS`."""
    gates = active if isinstance(active, (set, frozenset)) else frozenset(active)
    return tuple(c for low, high, c, _ in _CHANNEL_MASKS if low in gates and high in gates)


def _components(channel_masks: Iterable[int]) -> list[int]:
    """Merge the channels' center masks into disjoint connected groups."""
    groups: list[int] = []
    for mask in channel_masks:
        kept: list[int] = []
        for group in groups:
            if group & mask:
                mask |= group
            else:
                kept.append(group)
        kept.append(mask)
        groups = kept
    groups.sort(key=lambda group: group & -group)  # by each group's first center
    return groups


def _type(defined: int, throat_group: int) -> ChartType:
    """Type from the defined centers and the group the throat is in (SPEC section 5)."""
    if not defined:
        return "reflector"
    motor_to_throat = bool(throat_group & _MOTOR_BITS)
    if defined & _SACRAL:
        return "manifesting_generator" if motor_to_throat else "generator"
    return "manifestor" if motor_to_throat else "projector"


def _authority(defined: int, throat_group: int) -> Authority:
    """Inner authority: the first rule of SPEC section 5 that applies."""
    if defined & _SOLAR_PLEXUS:
        return "emotional"
    if defined & _SACRAL:
        return "sacral"
    if defined & _SPLEEN:
        return "splenic"
    if defined & _HEART:
        return "ego_manifested" if throat_group & _HEART else "ego_projected"
    if throat_group & _G:
        return "self_projected"
    return "mental" if defined else "lunar"


def bodygraph(gates: Iterable[int]) -> Bodygraph:
    """Derive channels, centers, type, strategy, authority and definition from active gates."""
    active = frozenset(gates)
    if not active.issubset(GATE_CENTER):
        raise ValueError(f"gates must be 1..64, got {sorted(active.difference(GATE_CENTER))}")
    defined_rows = [
        (channel, mask)
        for low, high, channel, mask in _CHANNEL_MASKS
        if low in active and high in active
    ]
    groups = _components(mask for _, mask in defined_rows)
    defined = 0
    throat_group = 0
    for group in groups:
        defined |= group
        if group & _THROAT:
            throat_group = group
    kind = _type(defined, throat_group)
    return Bodygraph(
        active_gates=tuple(sorted(active)),
        channels=tuple(channel for channel, _ in defined_rows),
        defined=_NAMES[defined],
        open=_NAMES[_ALL_CENTERS ^ defined],
        components=tuple(_NAMES[group] for group in groups),
        type=kind,
        strategy=STRATEGY_OF_TYPE[kind],
        authority=_authority(defined, throat_group),
        definition=DEFINITIONS[len(groups)],
    )


def profile(personality_sun_line: int, design_sun_line: int) -> str:
    """Profile "p/d" from the two Sun lines, e.g. "5/1"; only the 12 that occur are accepted."""
    text = profile_key(personality_sun_line, design_sun_line)
    if text not in PROFILE_ANGLES:
        raise ValueError(f"profile {text} does not occur (Sun lines 88 degrees apart)")
    return text


def incarnation_cross(
    profile: str, personality_sun: int, personality_earth: int, design_sun: int, design_earth: int
) -> IncarnationCross:
    """The cross: angle from the profile, gates of the personality and design Sun and Earth."""
    angle = PROFILE_ANGLES.get(profile)
    if angle is None:
        raise ValueError(f"unknown profile {profile!r}")
    return IncarnationCross(angle, (personality_sun, personality_earth, design_sun, design_earth))
