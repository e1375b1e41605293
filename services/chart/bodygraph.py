"""The bodygraph (SPEC sections 4 and 5): centers, channels and what the active gates define.

Pure functions of the 26 activations' gates (type, authority, definition, ...) and of the
two Sun activations (profile, incarnation cross). Plain Python: a set of gates, 36 channels
to test and sets of centers as 9-bit masks, about 10 microseconds per chart, computed per
chart after the vectorised ephemeris pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from shared.events.chart import BODIES

Center = Literal[
    "head", "ajna", "throat", "g", "heart", "spleen", "solar_plexus", "sacral", "root"
]  # fmt: skip
ChartType = Literal["manifestor", "generator", "manifesting_generator", "projector", "reflector"]
Strategy = Literal["to_inform", "to_respond", "wait_for_the_invitation", "wait_a_lunar_cycle"]
Authority = Literal[
    "emotional", "sacral", "splenic", "ego_manifested", "ego_projected", "self_projected",
    "mental", "lunar",
]  # fmt: skip
Definition = Literal["none", "single", "split", "triple_split", "quadruple_split"]
Angle = Literal["right_angle", "left_angle", "juxtaposition"]

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
GATE_CENTER: Final[Mapping[int, Center]] = MappingProxyType(
    {gate: center for center, gates in CENTER_GATES.items() for gate in gates}
)
"""The center of each of the 64 gates."""

MOTORS: Final[frozenset[Center]] = frozenset({"sacral", "solar_plexus", "heart", "root"})


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel: two gates (low, high) and the centers they sit in, in the same order."""

    gates: tuple[int, int]
    centers: tuple[Center, Center]

    @property
    def key(self) -> str:
        """The channel as a chart lists it, low-high: "10-20"."""
        return f"{self.gates[0]}-{self.gates[1]}"


def _channel(low: int, high: int, first: Center, second: Center) -> Channel:
    """Build a table row."""
    return Channel((low, high), (first, second))


CHANNELS: Final[tuple[Channel, ...]] = (
    _channel(1, 8, "g", "throat"),
    _channel(2, 14, "g", "sacral"),
    _channel(3, 60, "sacral", "root"),
    _channel(4, 63, "ajna", "head"),
    _channel(5, 15, "sacral", "g"),
    _channel(6, 59, "solar_plexus", "sacral"),
    _channel(7, 31, "g", "throat"),
    _channel(9, 52, "sacral", "root"),
    _channel(10, 20, "g", "throat"),
    _channel(10, 34, "g", "sacral"),
    _channel(10, 57, "g", "spleen"),
    _channel(11, 56, "ajna", "throat"),
    _channel(12, 22, "throat", "solar_plexus"),
    _channel(13, 33, "g", "throat"),
    _channel(16, 48, "throat", "spleen"),
    _channel(17, 62, "ajna", "throat"),
    _channel(18, 58, "spleen", "root"),
    _channel(19, 49, "root", "solar_plexus"),
    _channel(20, 34, "throat", "sacral"),
    _channel(20, 57, "throat", "spleen"),
    _channel(21, 45, "heart", "throat"),
    _channel(23, 43, "throat", "ajna"),
    _channel(24, 61, "ajna", "head"),
    _channel(25, 51, "g", "heart"),
    _channel(26, 44, "heart", "spleen"),
    _channel(27, 50, "sacral", "spleen"),
    _channel(28, 38, "spleen", "root"),
    _channel(29, 46, "sacral", "g"),
    _channel(30, 41, "solar_plexus", "root"),
    _channel(32, 54, "spleen", "root"),
    _channel(34, 57, "sacral", "spleen"),
    _channel(35, 36, "throat", "solar_plexus"),
    _channel(37, 40, "solar_plexus", "heart"),
    _channel(39, 55, "root", "solar_plexus"),
    _channel(42, 53, "sacral", "root"),
    _channel(47, 64, "ajna", "head"),
)
"""The 36 channels in ascending order of (low gate, high gate): the order a chart lists them."""

CHANNELS_BY_KEY: Final[Mapping[str, Channel]] = MappingProxyType({c.key: c for c in CHANNELS})

STRATEGIES: Final[Mapping[ChartType, Strategy]] = MappingProxyType(
    {
        "manifestor": "to_inform",
        "generator": "to_respond",
        "manifesting_generator": "to_respond",
        "projector": "wait_for_the_invitation",
        "reflector": "wait_a_lunar_cycle",
    }
)

DEFINITIONS: Final[tuple[Definition, ...]] = (
    "none", "single", "split", "triple_split", "quadruple_split"
)  # fmt: skip
"""Definition by number of connected components (9 centers allow at most 4 of 2+ centers)."""

PROFILE_ANGLES: Final[Mapping[str, Angle]] = MappingProxyType(
    {
        "1/3": "right_angle", "1/4": "right_angle", "2/4": "right_angle", "2/5": "right_angle",
        "3/5": "right_angle", "3/6": "right_angle", "4/6": "right_angle",
        "4/1": "juxtaposition",
        "5/1": "left_angle", "5/2": "left_angle", "6/2": "left_angle", "6/3": "left_angle",
    }
)  # fmt: skip
"""The 12 profiles that occur (the design Sun is 88 degrees behind) and their cross angle."""

_SUN: Final = BODIES.index("sun")
_EARTH: Final = BODIES.index("earth")

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


class IncarnationCross(NamedTuple):
    """The cross's angle and its gates: personality Sun/Earth, design Sun/Earth."""

    angle: Angle
    gates: tuple[int, int, int, int]


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
        strategy=STRATEGIES[kind],
        authority=_authority(defined, throat_group),
        definition=DEFINITIONS[len(groups)],
    )


def profile(personality_sun_line: int, design_sun_line: int) -> str:
    """Profile "p/d" from the two Sun lines, e.g. "5/1"; only the 12 that occur are accepted."""
    text = f"{personality_sun_line}/{design_sun_line}"
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


def chart_properties(
    personality_gates: Sequence[int],
    design_gates: Sequence[int],
    personality_sun_line: int,
    design_sun_line: int,
) -> dict[str, Any]:
    """The derived fields of a `Chart` (contract shape), from both sides' gates in BODIES order."""
    graph = bodygraph((*personality_gates, *design_gates))
    prof = profile(personality_sun_line, design_sun_line)
    cross = incarnation_cross(
        prof,
        personality_gates[_SUN],
        personality_gates[_EARTH],
        design_gates[_SUN],
        design_gates[_EARTH],
    )
    return {
        "active_gates": list(graph.active_gates),
        "channels": [c.key for c in graph.channels],
        "centers": {"defined": list(graph.defined), "open": list(graph.open)},
        "type": graph.type,
        "strategy": graph.strategy,
        "authority": graph.authority,
        "profile": prof,
        "definition": graph.definition,
        "incarnation_cross": {"angle": cross.angle, "gates": list(cross.gates)},
    }
