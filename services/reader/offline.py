"""The offline composer: a real reading without an LLM, from the chart and the knowledge base.

Used when no LLM key is configured. The text is assembled from this project's
Human Design knowledge base (`services.reader.knowledge`) in the shape of one
of the four agents (`services.reader.agents`), in English or German, and its
first line says that it was composed offline, not written by an AI.

`compose` is a pure function: the same chart, agent and language always give
the same text (no randomness, no clock, no I/O).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from services.reader.agents import AgentDefinition, SectionKey, get_agent, resolve_language
from services.reader.facts import cross_of, profile_of
from services.reader.knowledge import Text
from services.reader.knowledge.channels import CHANNELS
from services.reader.knowledge.chart_terms import (
    AUTHORITIES,
    CENTERS,
    CROSS_ANGLES,
    DEFINITIONS,
    STRATEGIES,
    TYPES,
    humanize,
)
from services.reader.knowledge.gates import GATES
from services.reader.knowledge.lines import LINES, PROFILES
from shared.events.chart import Activation, Centers, Chart
from shared.events.reading_requested import Language
from shared.hd.channels import find_channel
from shared.hd.properties import strategy_of

OFFLINE_MODEL: Final = "offline-composer/1"
"""The `model` recorded for an offline reading; bump with any change to the composed text."""

OFFLINE_LABEL: Final[Mapping[Language, str]] = MappingProxyType(
    {
        "en": (
            "Composed offline from the chart and this project's Human Design knowledge base, "
            "not written by an AI."
        ),
        "de": (
            "Offline aus dem Chart und der Human-Design-Wissensbasis dieses Projekts "
            "zusammengestellt, nicht von einer KI geschrieben."
        ),
    }
)
"""The first line of every offline reading."""


# Sentence templates; `{name}` placeholders are filled by `_Writer.say`.
_P: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "type": Text(
            "- Type: {name}. Strategy: {strategy}. {description}",
            "- Typ: {name}. Strategie: {strategy}. {description}",
        ),
        "type_bare": Text("- Type: {name}.", "- Typ: {name}."),
        "signature": Text(
            "  Your signature is {signature}; your not-self theme is {not_self}.",
            "  Dein Signaturgefühl ist {signature}, dein Nicht-Selbst-Thema {not_self}.",
        ),
        "strategy": Text("- Strategy: {strategy}.", "- Strategie: {strategy}."),
        "authority": Text(
            "- Authority: {name}. {description}", "- Autorität: {name}. {description}"
        ),
        "authority_bare": Text("- Authority: {name}.", "- Autorität: {name}."),
        "profile": Text(
            "- Profile: {key}, {name}{note}. {description}",
            "- Profil: {key}, {name}{note}. {description}",
        ),
        "profile_bare": Text("- Profile: {key}{note}.", "- Profil: {key}{note}."),
        "profile_note": Text(
            " (from the lines of your two Suns)", " (aus den Linien deiner beiden Sonnen)"
        ),
        "definition": Text("- {name}: {description}", "- {name}: {description}"),
        "definition_bare": Text("- Definition: {name}.", "- Definition: {name}."),
        "missing": Text(
            "- Not yet calculated for this chart: {items}. This reading works from the 26 "
            "planetary activations and the profile.",
            "- Für dieses Chart noch nicht berechnet: {items}. Diese Deutung stützt sich auf die "
            "26 planetaren Aktivierungen und das Profil.",
        ),
        "sun": Text(
            "Your {side} Sun is in {gate}, line {line}. {keynote}",
            "Deine {side} Sonne steht in {gate}, Linie {line}. {keynote}",
        ),
        "line": Text(
            "Line {line} ({name}) colors this theme: {keynote}",
            "Linie {line} ({name}) färbt dieses Thema: {keynote}",
        ),
        "earth": Text(
            "Your {side} Earth, which grounds it, is in {gate}, line {line}. {keynote}",
            "Deine {side} Erde, die diesem Thema Halt gibt, steht in {gate}, Linie {line}. "
            "{keynote}",
        ),
        "moon": Text(
            "Your Moon, the driving force behind how you live your design, is in {conscious} on "
            "the conscious side and in {unconscious} on the unconscious side.",
            "Dein Mond, die treibende Kraft hinter der Art, wie du dein Design lebst, steht "
            "bewusst in {conscious} und unbewusst in {unconscious}.",
        ),
        "nodes": Text(
            "Your nodes describe the environments that shape you: the South Node in {south_c} "
            "and {south_u} colors the first half of your life, the North Node in {north_c} and "
            "{north_u} the second half, from about the age of 40.",
            "Deine Mondknoten beschreiben die Umfelder, die dich prägen: Der Südknoten in "
            "{south_c} und {south_u} färbt die erste Lebenshälfte, der Nordknoten in {north_c} "
            "und {north_u} die zweite, etwa ab dem 40. Lebensjahr.",
        ),
        "center_defined": Text("- {name} (defined): {text}", "- {name} (definiert): {text}"),
        "center_open": Text("- {name} (open): {text}", "- {name} (offen): {text}"),
        "center_unknown_defined": Text("- {name} (defined).", "- {name} (definiert)."),
        "center_unknown_open": Text("- {name} (open).", "- {name} (offen)."),
        "stable_ground": Text(
            "Stable ground, defined in you: {centers}.",
            "Fester Boden, in dir definiert: {centers}.",
        ),
        "channels": Text("Your defined channels:", "Deine definierten Kanäle:"),
        "channel": Text(
            "- Channel {key}, {name} ({centers}): {keynote}.",
            "- Kanal {key}, {name} ({centers}): {keynote}.",
        ),
        "channel_unknown": Text("- Channel {key}.", "- Kanal {key}."),
        "no_channels": Text(
            "No channel is defined, so all your centers are open.",
            "Kein Kanal ist definiert, daher sind alle deine Zentren offen.",
        ),
        "centers_missing": Text(
            "Which of your centers are defined has not been calculated for this chart yet.",
            "Welche deiner Zentren definiert sind, wurde für dieses Chart noch nicht berechnet.",
        ),
        "channels_missing": Text(
            "Your channels have not been calculated for this chart yet.",
            "Deine Kanäle wurden für dieses Chart noch nicht berechnet.",
        ),
        "cross": Text(
            "Your incarnation cross is formed by your two Suns and two Earths: {angle}, gates "
            "{gates} ({names}). {description}",
            "Dein Inkarnationskreuz wird von deinen beiden Sonnen und Erden gebildet: {angle}, "
            "Tore {gates} ({names}). {description}",
        ),
        "cross_no_angle": Text(
            "Your incarnation cross is formed by your two Suns and two Earths: gates {gates} "
            "({names}). It is the theme your life keeps returning to.",
            "Dein Inkarnationskreuz wird von deinen beiden Sonnen und Erden gebildet: Tore "
            "{gates} ({names}). Es ist das Thema, zu dem dein Leben immer wieder zurückkehrt.",
        ),
        "conscious": Text("conscious", "bewusste"),
        "unconscious": Text("unconscious", "unbewusste"),
        "and": Text("and", "und"),
        "item_type": Text("type", "Typ"),
        "item_strategy": Text("strategy", "Strategie"),
        "item_authority": Text("authority", "Autorität"),
        "item_definition": Text("definition", "Definition"),
    }
)


@dataclass(frozen=True, slots=True)
class _Writer:
    """Everything a section needs: the chart, the agent and the language."""

    chart: Chart
    agent: AgentDefinition
    lang: Language

    def t(self, text: Text) -> str:
        return text.get(self.lang)

    def say(self, phrase: str, **values: object) -> str:
        return _P[phrase].get(self.lang).format(**values)

    def join(self, items: Sequence[str]) -> str:
        """`a, b and c` / `a, b und c`."""
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.say('and')} {items[-1]}"

    def gate_label(self, number: int) -> str:
        """`Gate 51, Shock (The Arousing)`."""
        return GATES[number].label(self.lang)

    def gate_short(self, number: int) -> str:
        """`Gate 51 (Shock)`."""
        word = "Tor" if self.lang == "de" else "Gate"
        return f"{word} {number} ({self.t(GATES[number].name)})"


def compose(chart: Chart, agent: str, language: str) -> str:
    """The offline reading of `chart` by `agent` ("personality", "business", "relationship",
    "crisis") in `language` ("en", "de"); `ValueError` for an unknown agent or language.

    Plain Markdown: the offline label on the first line, a title, an introduction, then
    the agent's sections in its order. Deterministic and free of I/O.
    """
    writer = _Writer(chart, get_agent(agent), resolve_language(language))
    blocks = [
        OFFLINE_LABEL[writer.lang],
        f"# {writer.t(writer.agent.title)}",
        writer.t(writer.agent.intro),
    ]
    for section in writer.agent.sections:
        body = _SECTIONS[section.key](writer)
        if body:
            blocks.append(f"## {writer.t(section.heading)}\n\n{body}")
    return "\n\n".join(blocks)


# --- Sections -------------------------------------------------------------------------------


def _overview(w: _Writer) -> str:
    chart = w.chart
    items: list[str] = []
    missing: list[str] = []

    chart_type = TYPES.get(chart.type) if chart.type else None
    strategy_key = chart.strategy or strategy_of(chart.type)
    strategy = STRATEGIES.get(strategy_key) if strategy_key else None
    strategy_name = w.t(strategy) if strategy else humanize(strategy_key or "")
    if chart_type is not None:
        if strategy_key:
            items.append(
                w.say(
                    "type",
                    name=w.t(chart_type.name),
                    strategy=strategy_name,
                    description=w.t(chart_type.description),
                )
            )
        else:
            items.append(w.say("type_bare", name=w.t(chart_type.name)))
        items.append(
            w.say(
                "signature", signature=w.t(chart_type.signature), not_self=w.t(chart_type.not_self)
            )
        )
    elif chart.type:
        items.append(w.say("type_bare", name=humanize(chart.type)))
        if strategy_key:
            items.append(w.say("strategy", strategy=strategy_name))
    else:
        missing.append(w.say("item_type"))
        if strategy_key:
            items.append(w.say("strategy", strategy=strategy_name))
        else:
            missing.append(w.say("item_strategy"))

    authority = AUTHORITIES.get(chart.authority) if chart.authority else None
    if authority is not None:
        items.append(
            w.say("authority", name=w.t(authority.name), description=w.t(authority.description))
        )
    elif chart.authority:
        items.append(w.say("authority_bare", name=humanize(chart.authority)))
    else:
        missing.append(w.say("item_authority"))

    key = profile_of(chart)
    profile = PROFILES.get(key)
    note = "" if chart.profile else w.say("profile_note")
    if profile is not None:
        items.append(
            w.say(
                "profile",
                key=key,
                name=profile.name(w.lang),
                note=note,
                description=w.t(profile.description),
            )
        )
    else:
        items.append(w.say("profile_bare", key=key, note=note))

    definition = DEFINITIONS.get(chart.definition) if chart.definition else None
    if definition is not None:
        items.append(
            w.say("definition", name=w.t(definition.name), description=w.t(definition.description))
        )
    elif chart.definition:
        items.append(w.say("definition_bare", name=humanize(chart.definition)))
    else:
        missing.append(w.say("item_definition"))

    if missing:
        items.append(w.say("missing", items=w.join(missing)))
    return "\n".join(items)


def _sun_and_earth(w: _Writer, sun: Activation, earth: Activation, side: str, note: Text) -> str:
    side_word = w.say(side)
    sun_gate, earth_gate, line = GATES[sun.gate], GATES[earth.gate], LINES[sun.line]
    paragraph = " ".join(
        (
            w.say(
                "sun",
                side=side_word,
                gate=w.gate_label(sun.gate),
                line=sun.line,
                keynote=w.t(sun_gate.keynote),
            ),
            w.say("line", line=sun.line, name=w.t(line.name), keynote=w.t(line.keynote)),
        )
    )
    earth_text = w.say(
        "earth",
        side=side_word,
        gate=w.gate_label(earth.gate),
        line=earth.line,
        keynote=w.t(earth_gate.keynote),
    )
    return f"{paragraph}\n\n{earth_text}\n\n{w.t(note)}"


def _conscious(w: _Writer) -> str:
    side = w.chart.activations.personality
    return _sun_and_earth(w, side.sun, side.earth, "conscious", w.agent.conscious_note)


def _unconscious(w: _Writer) -> str:
    side = w.chart.activations.design
    return _sun_and_earth(w, side.sun, side.earth, "unconscious", w.agent.unconscious_note)


def _drives(w: _Writer) -> str:
    personality, design = w.chart.activations.personality, w.chart.activations.design
    moon = w.say(
        "moon",
        conscious=w.gate_short(personality.moon.gate),
        unconscious=w.gate_short(design.moon.gate),
    )
    nodes = w.say(
        "nodes",
        south_c=w.gate_short(personality.south_node.gate),
        south_u=w.gate_short(design.south_node.gate),
        north_c=w.gate_short(personality.north_node.gate),
        north_u=w.gate_short(design.north_node.gate),
    )
    return f"{moon}\n\n{nodes}"


def _centers(w: _Writer) -> str | None:
    chart, grounding = w.chart, w.agent.centers_style == "grounding"
    if chart.centers is None and (chart.channels is None or grounding):
        return None
    blocks: list[str] = []
    if chart.centers is not None:
        blocks.append(_center_lines(w, chart.centers, grounding=grounding))
    else:
        blocks.append(w.say("centers_missing"))
    if not grounding:
        blocks.append(_channel_lines(w, chart.channels))
    blocks.append(w.t(w.agent.centers_note))
    return "\n\n".join(block for block in blocks if block)


def _center_lines(w: _Writer, centers: Centers, *, grounding: bool) -> str:
    """One line per center in the order of SPEC.md; with `grounding`, the defined ones in one."""
    state_of = {key: "defined" for key in centers.defined}
    state_of.update({key: "open" for key in centers.open if key not in state_of})
    lines: list[str] = []
    if grounding:
        defined = [w.t(CENTERS[key].name) for key in CENTERS if state_of.get(key) == "defined"]
        defined += [
            humanize(key) for key in state_of if key not in CENTERS and state_of[key] == "defined"
        ]
        if defined:
            lines.append(w.say("stable_ground", centers=w.join(defined)))
    for key, center in CENTERS.items():
        state = state_of.get(key)
        if state == "open":
            lines.append(w.say("center_open", name=w.t(center.name), text=w.t(center.open)))
        elif state == "defined" and not grounding:
            lines.append(w.say("center_defined", name=w.t(center.name), text=w.t(center.defined)))
    for key, state in state_of.items():
        if key not in CENTERS and not (grounding and state == "defined"):
            lines.append(w.say(f"center_unknown_{state}", name=humanize(key)))
    return "\n".join(lines)


def _channel_lines(w: _Writer, channels: list[str] | None) -> str:
    if channels is None:
        return w.say("channels_missing")
    if not channels:
        return w.say("no_channels")
    lines = [w.say("channels")]
    for key in channels:
        channel = find_channel(key)
        if channel is None:
            lines.append(w.say("channel_unknown", key=key))
            continue
        text = CHANNELS[channel.key]
        lines.append(
            w.say(
                "channel",
                key=channel.key,
                name=w.t(text.name),
                centers=" – ".join(w.t(CENTERS[c].name) for c in channel.centers),
                keynote=w.t(text.keynote),
            )
        )
    return "\n".join(lines)


def _cross(w: _Writer) -> str:
    cross = cross_of(w.chart)
    names = [w.t(GATES[g].name) if g in GATES else str(g) for g in cross.gates]
    if len(names) == 4:
        names_text = f"{', '.join(names[:2])} | {', '.join(names[2:])}"
    else:
        names_text = ", ".join(names)
    angle = CROSS_ANGLES.get(cross.angle) if cross.angle else None
    if angle is None:
        return w.say("cross_no_angle", gates=cross.gates_text(), names=names_text)
    return w.say(
        "cross",
        angle=w.t(angle.name),
        gates=cross.gates_text(),
        names=names_text,
        description=w.t(angle.description),
    )


def _focus(w: _Writer) -> str:
    chart, agent = w.chart, w.agent
    advice = agent.type_advice.get(chart.type) if chart.type else None
    parts = [w.t(advice if advice is not None else agent.no_type_advice)]
    authority = AUTHORITIES.get(chart.authority) if chart.authority else None
    if authority is not None:
        parts.append(f"{w.t(agent.authority_lead)} {w.t(authority.practice)}")
    return "\n\n".join(parts)


def _closing(w: _Writer) -> str:
    return w.t(w.agent.closing)


_SECTIONS: Final[Mapping[SectionKey, Callable[[_Writer], str | None]]] = MappingProxyType(
    {
        "overview": _overview,
        "conscious": _conscious,
        "unconscious": _unconscious,
        "drives": _drives,
        "centers": _centers,
        "cross": _cross,
        "focus": _focus,
        "closing": _closing,
    }
)
