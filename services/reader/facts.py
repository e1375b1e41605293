"""What the reader says about a chart, from the chart and `shared.hd`'s tables.

The chart carries its derived properties (type, strategy, authority, profile, definition,
centers, channels, cross) when the chart service computed them; a chart of an older
version may lack some. Only what `shared.hd`'s tables give directly is filled in here:
the strategy from the type, the profile from the two Sun lines and the cross from the Sun
and Earth gates with the profile's angle. Anything else missing is said to be missing,
never guessed.

`chart_facts` is the chart as text for the LLM's user message; the offline composer uses
`profile_of` and `cross_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.reader.knowledge.channels import CHANNELS
from services.reader.knowledge.chart_terms import (
    AUTHORITIES,
    BODIES,
    CENTERS,
    CROSS_ANGLES,
    DEFINITIONS,
    STRATEGIES,
    TYPES,
    humanize,
)
from services.reader.knowledge.gates import GATES
from services.reader.knowledge.lines import LINES, PROFILES
from shared.events.chart import BODIES as BODY_KEYS
from shared.events.chart import Activations, Chart
from shared.events.reading_requested import Language
from shared.hd.channels import find_channel
from shared.hd.crosses import Angle
from shared.hd.profiles import PROFILE_ANGLES, profile_key
from shared.hd.properties import strategy_of


@dataclass(frozen=True, slots=True)
class CrossFacts:
    """The incarnation cross as far as it is known."""

    angle: Angle | None
    """None if it cannot be told (a profile that `shared.hd` does not know)."""
    gates: tuple[int, ...]
    """Personality Sun, personality Earth, design Sun, design Earth."""
    derived: bool
    """True when worked out here because the chart does not carry it."""

    def gates_text(self) -> str:
        """`51/57 | 61/62`."""
        if len(self.gates) == 4:
            p_sun, p_earth, d_sun, d_earth = self.gates
            return f"{p_sun}/{p_earth} | {d_sun}/{d_earth}"
        return "/".join(str(g) for g in self.gates)


def profile_of(chart: Chart) -> str:
    """The chart's profile; from the two Sun lines when the chart does not carry it."""
    if chart.profile:
        return chart.profile
    acts = chart.activations
    return profile_key(acts.personality.sun.line, acts.design.sun.line)


def cross_of(chart: Chart) -> CrossFacts:
    """The chart's incarnation cross; from the Sun/Earth gates and the profile if not carried."""
    if chart.incarnation_cross is not None:
        return CrossFacts(
            chart.incarnation_cross.angle, tuple(chart.incarnation_cross.gates), derived=False
        )
    acts = chart.activations
    gates = (
        acts.personality.sun.gate,
        acts.personality.earth.gate,
        acts.design.sun.gate,
        acts.design.earth.gate,
    )
    return CrossFacts(PROFILE_ANGLES.get(profile_of(chart)), gates, derived=True)


def chart_facts(chart: Chart, language: Language) -> str:
    """The chart as plain-text facts for an LLM: derived properties, then all 26 activations."""
    out: list[str] = ["Derived properties:"]
    missing: list[str] = []

    if chart.type:
        known_type = TYPES.get(chart.type)
        name = known_type.name.en if known_type else humanize(chart.type)
        out.append(f"- Type: {name}")
        if known_type is not None:
            out.append(
                f"- Signature: {known_type.signature.en}; not-self theme: {known_type.not_self.en}"
            )
    else:
        missing.append("type")
    strategy = chart.strategy or strategy_of(chart.type)
    if strategy:
        known_strategy = STRATEGIES.get(strategy)
        out.append(f"- Strategy: {known_strategy.en if known_strategy else humanize(strategy)}")
    else:
        missing.append("strategy")
    if chart.authority:
        known_auth = AUTHORITIES.get(chart.authority)
        out.append(
            f"- Authority: {known_auth.name.en if known_auth else humanize(chart.authority)}"
        )
    else:
        missing.append("authority")

    profile = profile_of(chart)
    known_profile = PROFILES.get(profile)
    notes = [known_profile.name("en")] if known_profile is not None else []
    if not chart.profile:
        notes.append("computed from the personality and design Sun lines")
    profile_text = f"- Profile: {profile}" + (f" ({'; '.join(notes)})" if notes else "")
    out.append(profile_text)

    if chart.definition:
        known_def = DEFINITIONS.get(chart.definition)
        out.append(
            f"- Definition: {known_def.name.en if known_def else humanize(chart.definition)}"
        )
    else:
        missing.append("definition")

    cross = cross_of(chart)
    angle = CROSS_ANGLES.get(cross.angle) if cross.angle else None
    cross_text = (
        f"- Incarnation cross: {angle.name.en + ', ' if angle else ''}gates {cross.gates_text()}"
    )
    if cross.derived:
        cross_text += " (from the Sun and Earth gates; angle from the profile)"
    out.append(cross_text)

    if chart.centers is not None:
        out.append(f"- Defined centers: {_center_names(chart.centers.defined) or 'none'}")
        out.append(f"- Open centers: {_center_names(chart.centers.open) or 'none'}")
    else:
        missing.append("centers")
    if chart.channels is not None:
        out.append(f"- Defined channels: {_channel_names(chart.channels) or 'none'}")
    else:
        missing.append("channels")
    if missing:
        out.append(
            f"- Not calculated in this chart version: {', '.join(missing)}. Do not guess them."
        )

    out.append("")
    out.append("Personality (conscious) activations, gate.line:")
    out.extend(_side_facts(chart.activations.personality, language))
    out.append("")
    out.append("Design (unconscious) activations, gate.line:")
    out.extend(_side_facts(chart.activations.design, language))
    return "\n".join(out)


def _gate_fact(gate: int, line: int, language: Language) -> str:
    known = GATES.get(gate)
    line_info = LINES.get(line)
    text = f"{gate}.{line} = Gate {gate}"
    if known is not None:
        text += f" {known.name.en} ({known.hexagram.en})"
    text += f", line {line}"
    if line_info is not None:
        text += f" {line_info.name.en}"
    if language == "de" and known is not None and line_info is not None:
        text += f" [de: Tor {gate} {known.name.de}, Linie {line} {line_info.name.de}]"
    return text


def _side_facts(side: Activations, language: Language) -> list[str]:
    lines = []
    for body in BODY_KEYS:
        act = getattr(side, body)
        lines.append(f"- {BODIES[body].en}: {_gate_fact(act.gate, act.line, language)}")
    return lines


def _center_names(keys: list[str]) -> str:
    return ", ".join(CENTERS[k].name.en if k in CENTERS else humanize(k) for k in keys)


def _channel_names(keys: list[str]) -> str:
    names = []
    for key in keys:
        channel = find_channel(key)
        if channel is None:
            names.append(key)
        else:
            centers = " - ".join(CENTERS[c].name.en for c in channel.centers)
            names.append(f"{channel.key} {CHANNELS[channel.key].name.en} ({centers})")
    return ", ".join(names)
