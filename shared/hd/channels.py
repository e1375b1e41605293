"""The 36 channels: two gates and the centers they join (SPEC section 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from shared.hd.centers import Center


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
"""The channels by key ("1-8" ... "47-64")."""


def channel_key(first: int, second: int) -> str:
    """The key of the channel between two gates, low-high, whatever their order."""
    low, high = sorted((first, second))
    return f"{low}-{high}"


def find_channel(key: str) -> Channel | None:
    """The channel written `key` ("10-20", also "20-10"); None if there is no such channel."""
    first, sep, second = key.partition("-")
    if not sep or not first.strip().isdigit() or not second.strip().isdigit():
        return None
    return CHANNELS_BY_KEY.get(channel_key(int(first), int(second)))
