"""The offline composer, the agents and the LLM prompt, on hand-built charts."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from services.reader.agents import AGENTS, get_agent, prompt_version
from services.reader.knowledge.channels import CHANNELS
from services.reader.knowledge.chart_terms import AUTHORITIES, CENTERS, DEFINITIONS, TYPES
from services.reader.knowledge.gates import GATES
from services.reader.knowledge.lines import LINES, PROFILES
from services.reader.offline import OFFLINE_LABEL, OFFLINE_MODEL, compose
from services.reader.prompt import build_prompt
from shared.events.chart import (
    BODIES,
    Activation,
    Activations,
    Centers,
    Chart,
    ChartActivations,
    Engine,
    IncarnationCross,
    Moment,
    ResolvedBirth,
    ResolvedPlace,
)
from shared.hd.channels import CHANNELS as HD_CHANNELS
from shared.hd.gates import GATE_ORDER

AGENT_NAMES = ("personality", "business", "relationship", "crisis")
LANGUAGES = ("en", "de")

# A chart shaped like Ra Uru Hu's (SPEC.md section 6): Sun 51.5 / Earth 57.5 consciously,
# Sun 61.1 / Earth 62.1 unconsciously. Earth and South Node follow as the opposite points;
# the other gates are chosen so the defined channels are exactly CHANNELS_SET below.
PERSONALITY = {
    "sun": (51, 5), "moon": (10, 3), "north_node": (49, 2), "mercury": (20, 2),
    "venus": (25, 4), "mars": (43, 6), "jupiter": (23, 1), "saturn": (32, 2),
    "uranus": (35, 5), "neptune": (50, 3), "pluto": (12, 6),
}  # fmt: skip
DESIGN = {
    "sun": (61, 1), "moon": (2, 4), "north_node": (30, 1), "mercury": (8, 3),
    "venus": (16, 2), "mars": (31, 5), "jupiter": (13, 6), "saturn": (45, 4),
    "uranus": (56, 1), "neptune": (9, 2), "pluto": (18, 3),
}  # fmt: skip
CHANNELS_SET = ["10-20", "10-57", "20-57", "23-43", "25-51"]
DEFINED_CENTERS = ["ajna", "throat", "g", "heart", "spleen"]
OPEN_CENTERS = ["head", "solar_plexus", "sacral", "root"]


def activation(longitude: float) -> Activation:
    """Gate, line, color, tone and base of a longitude by the wheel of SPEC.md section 2."""
    k = int((longitude - 302.0) % 360.0 / 360.0 * 69120)
    return Activation(
        longitude=round(longitude % 360.0, 6),
        gate=GATE_ORDER[k // 1080],
        line=k // 180 % 6 + 1,
        color=k // 30 % 6 + 1,
        tone=k // 5 % 6 + 1,
        base=k % 5 + 1,
    )


def longitude_of(gate: int, line: int) -> float:
    """A longitude inside `gate`, `line` (0.4 degrees into the line)."""
    return (302.0 + GATE_ORDER.index(gate) * 5.625 + (line - 1) * 0.9375 + 0.4) % 360.0


def side(positions: dict[str, tuple[int, int]]) -> Activations:
    acts: dict[str, Activation] = {}
    for body, (gate, line) in positions.items():
        acts[body] = activation(longitude_of(gate, line))
    acts["earth"] = activation(acts["sun"].longitude + 180.0)
    acts["south_node"] = activation(acts["north_node"].longitude + 180.0)
    return Activations(**acts)


def make_chart(
    *,
    derived: bool = False,
    personality: dict[str, tuple[int, int]] | None = None,
    design: dict[str, tuple[int, int]] | None = None,
) -> Chart:
    """All 26 activations by hand; with `derived`, the derived properties too."""
    chart = Chart(
        birth=ResolvedBirth(
            date="1948-04-09",
            time="00:14",
            timezone="America/Toronto",
            utc_offset="-05:00",
            utc="1948-04-09T05:14:00Z",
            time_note="ok",
            place=ResolvedPlace(
                name="Montreal", country="CA", latitude=45.5017, longitude=-73.5673
            ),
        ),
        design=Moment(utc="1948-01-12T13:28:24Z"),
        activations=ChartActivations(
            personality=side(personality or PERSONALITY), design=side(design or DESIGN)
        ),
        engine=Engine(version="test"),
    )
    if not derived:
        return chart
    return chart.model_copy(
        update={
            "active_gates": sorted(
                {
                    getattr(s, b).gate
                    for s in (chart.activations.personality, chart.activations.design)
                    for b in BODIES
                }
            ),
            "channels": CHANNELS_SET,
            "centers": Centers(defined=DEFINED_CENTERS, open=OPEN_CENTERS),
            "type": "manifestor",
            "strategy": "to_inform",
            "authority": "splenic",
            "profile": "5/1",
            "definition": "single",
            "incarnation_cross": IncarnationCross(angle="left_angle", gates=[51, 57, 61, 62]),
        }
    )


def all_activations(chart: Chart) -> list[Activation]:
    sides = (chart.activations.personality, chart.activations.design)
    return [getattr(s, body) for s in sides for body in BODIES]


# --- The hand-built chart is what it claims to be ------------------------------------------


def test_the_hand_built_chart_is_consistent() -> None:
    chart = make_chart()
    p, d = chart.activations.personality, chart.activations.design
    assert (p.sun.gate, p.sun.line, p.earth.gate, p.earth.line) == (51, 5, 57, 5)
    assert (d.sun.gate, d.sun.line, d.earth.gate, d.earth.line) == (61, 1, 62, 1)
    active = {a.gate for a in all_activations(chart)}
    defined = sorted(c.key for c in HD_CHANNELS if set(c.gates) <= active)
    assert defined == sorted(CHANNELS_SET)


# --- compose ---------------------------------------------------------------------------------


@pytest.mark.parametrize("derived", [False, True])
@pytest.mark.parametrize("agent", AGENT_NAMES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_compose_is_deterministic_and_labelled(derived: bool, agent: str, language: str) -> None:
    first = compose(make_chart(derived=derived), agent, language)
    second = compose(make_chart(derived=derived), agent, language)
    assert first == second
    assert first.splitlines()[0] == OFFLINE_LABEL[language]  # type: ignore[index]
    words = len(first.split())
    assert 250 <= words <= 1400, words
    assert "{" not in first and "}" not in first  # no unfilled template


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_the_two_languages_differ_and_each_carries_its_own_label(agent: str) -> None:
    chart = make_chart(derived=True)
    en, de = compose(chart, agent, "en"), compose(chart, agent, "de")
    assert en != de
    assert en.startswith(OFFLINE_LABEL["en"])
    assert de.startswith(OFFLINE_LABEL["de"])
    assert "not written by an AI" in en and "nicht von einer KI geschrieben" in de
    assert OFFLINE_LABEL["en"] not in de and "not written by an AI" not in de


@pytest.mark.parametrize("derived", [False, True])
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_agent_writes_its_own_reading_with_its_own_headings(
    derived: bool, language: str
) -> None:
    chart = make_chart(derived=derived)
    texts = {agent: compose(chart, agent, language) for agent in AGENT_NAMES}
    for a, b in combinations(AGENT_NAMES, 2):
        assert texts[a] != texts[b], (a, b)
    for agent, text in texts.items():
        definition = get_agent(agent)
        headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
        expected = [
            s.heading.get(language)  # type: ignore[arg-type]
            for s in definition.sections
            if derived or s.key != "centers"
        ]
        assert headings == expected, agent
        assert text.splitlines()[2] == f"# {definition.title.get(language)}"  # type: ignore[arg-type]
        # The closing is the agent's own.
        assert definition.closing.get(language) in text  # type: ignore[arg-type]
        for other in AGENT_NAMES:
            if other != agent:
                assert get_agent(other).closing.get(language) not in text  # type: ignore[arg-type]


def test_agent_specific_focus() -> None:
    chart = make_chart(derived=True)
    business = compose(chart, "business", "en")
    relationship = compose(chart, "relationship", "en")
    crisis = compose(chart, "crisis", "en")
    personality = compose(chart, "personality", "en")
    assert "## Decisions and collaboration" in business and "at work" in business
    assert "## Love, friendship and family" in relationship
    assert "## Living your design" in personality
    # Crisis: grounding first, and where to find help, at the start and at the end.
    assert crisis.index("## What can steady you now") < crisis.index("## Your design at a glance")
    assert "112" in crisis.split("## ")[0] and "988" in crisis
    assert "professional help" in crisis and "therapist" in crisis
    # Crisis keeps the centers short: the defined ones as stable ground, no channel list.
    assert "Stable ground, defined in you: Ajna center, Throat center, G center" in crisis
    assert "- Root center (open): " in crisis and "- Throat center (defined)" not in crisis
    assert "- Channel " not in crisis
    crisis_de = compose(chart, "crisis", "de")
    assert "Telefonseelsorge" in crisis_de and "0800 111 0 111" in crisis_de


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_the_suns_and_earths_appear_with_their_gate_names_and_lines(agent: str) -> None:
    chart = make_chart()
    en = compose(chart, agent, "en")
    assert "Gate 51, Shock (The Arousing), line 5" in en
    assert "Gate 57, Intuitive Clarity (The Gentle), line 5" in en
    assert "Gate 61, Mystery (Inner Truth), line 1" in en
    assert "Gate 62, Details (Preponderance of the Small), line 1" in en
    assert GATES[51].keynote.en in en and LINES[5].keynote.en in en
    de = compose(chart, agent, "de")
    assert "Tor 51, Schock (Das Erregende), Linie 5" in de
    assert "Tor 61, Mysterium (Innere Wahrheit), Linie 1" in de
    assert GATES[51].keynote.de in de and LINES[1].keynote.de in de


@pytest.mark.parametrize("agent", AGENT_NAMES)
@pytest.mark.parametrize("derived", [False, True])
def test_german_is_german(agent: str, derived: bool) -> None:
    de = compose(make_chart(derived=derived), agent, "de")
    for word in ("Tor", "Linie", "Sonne", "Erde", "Mond", "Profil", "deine", "und"):
        assert re.search(rf"\b{word}\b", de, flags=re.IGNORECASE), word
    assert re.search("[äöüß]", de)
    for english in ("Gate", "line", "Sun", "Earth", "Profile", "your", "the", "and", "AI"):
        assert not re.search(rf"\b{english}\b", de, flags=re.IGNORECASE), english


def test_derived_fields_none_still_give_a_full_reading() -> None:
    chart = make_chart()
    assert chart.type is None and chart.profile is None and chart.centers is None
    en = compose(chart, "personality", "en")
    assert "Profile: 5/1, Heretic / Investigator (from the lines of your two Suns)." in en
    assert "Not yet calculated for this chart: type, strategy, authority and definition." in en
    assert "gates 51/57 | 61/62 (Shock, Intuitive Clarity | Mystery, Details)" in en
    assert "Left Angle Cross" in en  # the angle follows from the profile
    assert "## Centers and channels" not in en
    assert "Moon" in en and "Gate 10 (Behavior of the Self)" in en
    assert "the North Node in Gate 49 (Principles)" in en
    de = compose(chart, "personality", "de")
    assert "Profil: 5/1, Häretiker / Forscher (aus den Linien deiner beiden Sonnen)." in de
    assert "Typ, Strategie, Autorität und Definition" in de


def test_the_profile_is_computed_from_the_two_sun_lines() -> None:
    chart = make_chart(
        personality={**PERSONALITY, "sun": (51, 2)}, design={**DESIGN, "sun": (61, 4)}
    )
    en = compose(chart, "business", "en")
    assert "Profile: 2/4, Hermit / Opportunist" in en
    assert PROFILES["2/4"].description.en in en
    assert "Right Angle Cross" in en


def test_derived_fields_set_are_all_used() -> None:
    chart = make_chart(derived=True)
    en = compose(chart, "personality", "en")
    assert "Type: Manifestor. Strategy: To inform." in en
    assert TYPES["manifestor"].description.en in en
    assert "Authority: Splenic." in en and AUTHORITIES["splenic"].practice.en in en
    assert "Profile: 5/1, Heretic / Investigator." in en
    assert DEFINITIONS["single"].description.en in en
    assert "Not yet calculated" not in en
    assert "Left Angle Cross, gates 51/57 | 61/62" in en
    assert "- Throat center (defined): " + CENTERS["throat"].defined.en in en
    assert "- Sacral center (open): " + CENTERS["sacral"].open.en in en
    assert "- Channel 10-20, Awakening (G center – Throat center)" in en
    assert en.count("- Channel ") == 5
    de = compose(chart, "personality", "de")
    assert "Typ: Manifestor. Strategie: Informieren." in de
    assert "- Kehlzentrum (definiert): " in de and "- Sakralzentrum (offen): " in de
    assert "- Kanal 25-51, Initiation (G-Zentrum – Herzzentrum)" in de
    assert "Linkswinkel-Kreuz, Tore 51/57 | 61/62" in de


def test_partial_and_unknown_derived_values_do_not_break_the_reading() -> None:
    chart = make_chart().model_copy(
        update={"type": "generator", "channels": [], "authority": "something_new"}
    )
    en = compose(chart, "relationship", "en")
    assert "Type: Generator. Strategy: To respond." in en
    assert "Authority: something new." in en
    assert "No channel is defined" in en
    assert "not been calculated for this chart yet" in en  # the centers
    assert get_agent("relationship").type_advice["generator"].en in en


def test_unknown_agent_or_language_is_refused() -> None:
    with pytest.raises(ValueError, match="agent"):
        compose(make_chart(), "astrologer", "en")
    with pytest.raises(ValueError, match="language"):
        compose(make_chart(), "personality", "fr")
    with pytest.raises(ValueError, match="agent"):
        build_prompt(make_chart(), "astrologer", "en")


def test_offline_model_and_prompt_versions() -> None:
    assert OFFLINE_MODEL == "offline-composer/1"
    for name in AGENT_NAMES:
        assert prompt_version(name) == f"{name}/1" == AGENTS[name].prompt_version


# --- build_prompt ----------------------------------------------------------------------------


@pytest.mark.parametrize("derived", [False, True])
@pytest.mark.parametrize("agent", AGENT_NAMES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_build_prompt_is_a_system_and_user_pair_with_every_activation(
    derived: bool, agent: str, language: str
) -> None:
    chart = make_chart(derived=derived)
    messages = build_prompt(chart, agent, language)
    assert [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    for act in all_activations(chart):
        assert f"{act.gate}.{act.line}" in user
    assert "51.5 = Gate 51 Shock (The Arousing), line 5 Heretic" in user
    assert user.count("\n- ") >= 26
    assert "Montreal" not in user and "1948" not in user  # no birth data to the provider
    language_name = {"en": "English", "de": "German"}[language]
    assert f"write the whole reading in {language_name}" in system
    for section in get_agent(agent).sections:
        assert f"## {section.heading.get(language)}" in system  # type: ignore[arg-type]
    assert build_prompt(chart, agent, language) == messages


def test_build_prompt_carries_the_derived_properties_when_present() -> None:
    user = build_prompt(make_chart(derived=True), "business", "en")[1]["content"]
    assert "- Type: Manifestor" in user and "- Authority: Splenic" in user
    assert "- Profile: 5/1 (Heretic / Investigator)" in user
    assert "- Incarnation cross: Left Angle Cross, gates 51/57 | 61/62" in user
    assert "10-20 Awakening (G center - Throat center)" in user
    assert "Not calculated" not in user
    bare = build_prompt(make_chart(), "business", "de")[1]["content"]
    assert "Not calculated in this chart version: type, strategy, authority, definition" in bare
    assert "computed from the personality and design Sun lines" in bare
    assert "[de: Tor 51 Schock, Linie 5 Häretiker]" in bare


def test_the_crisis_prompt_asks_for_help_resources_and_gentleness() -> None:
    system = build_prompt(make_chart(), "crisis", "de")[0]["content"]
    assert "Telefonseelsorge" in system and "professional help" in system
    assert "gentle" in system and '"du"' in system


# --- The knowledge base is complete ----------------------------------------------------------


def test_the_knowledge_base_is_complete_in_both_languages() -> None:
    # Which keys there are: tests/reader/test_knowledge_keys.py.
    texts = [t for g in GATES.values() for t in (g.name, g.hexagram, g.keynote)]
    texts += [t for line in LINES.values() for t in (line.name, line.keynote)]
    texts += [p.description for p in PROFILES.values()]
    texts += [t for c in CHANNELS.values() for t in (c.name, c.keynote)]
    texts += [t for c in CENTERS.values() for t in (c.name, c.defined, c.open)]
    texts += [t for a in AUTHORITIES.values() for t in (a.name, a.description, a.practice)]
    texts += [t for ty in TYPES.values() for t in (ty.name, ty.description)]
    for text in texts:
        assert text.en.strip() and text.de.strip()
    keynotes = [g.keynote for g in GATES.values()]
    assert len({k.en for k in keynotes}) == 64 and len({k.de for k in keynotes}) == 64
