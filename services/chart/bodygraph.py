"""A chart's derived fields in the contract's shape, from `shared.hd.derive`.

The Human Design tables and rules (centers, channels, type, authority, definition, profile,
cross) live in `shared.hd`; this module only maps the 26 activations' gates and the two
Sun lines onto the `Chart` fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from shared.events.chart import BODIES
from shared.hd.derive import bodygraph, incarnation_cross, profile

_SUN: Final = BODIES.index("sun")
_EARTH: Final = BODIES.index("earth")


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
