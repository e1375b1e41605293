"""What the agents produce, pinned: the LLM messages and the offline reading for three charts.

One hash per agent and language over both, for a chart without derived properties, one
with all of them and one with values the knowledge base does not know. A failure here
with `test_agent_versions.py` passing means the output changed without the agents' text
changing: the prompt builder, the chart facts, the offline composer or the knowledge
base. If that is intended, set the new hashes below (and bump `OFFLINE_MODEL` for a
change to the offline text, an agent's `prompt_version` for one to its prompt).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from services.reader.agents import AGENT_NAMES, LANGUAGES
from services.reader.offline import compose
from services.reader.prompt import build_prompt
from shared.events.chart import Centers, Chart
from shared.events.chart import IncarnationCross as CrossModel
from shared.hd.derive import bodygraph, incarnation_cross
from tests.factories import chart as factory_chart

GOLDEN = {
    "personality/en": "88e8f67e9c8a7c7c",
    "personality/de": "a8dbf3a3f488a0cb",
    "business/en": "0ff5ce8086732092",
    "business/de": "4f150a6307d553bc",
    "relationship/en": "67f905d5d7fad042",
    "relationship/de": "cd161c7a2c52706e",
    "crisis/en": "c526f2499a0e75be",
    "crisis/de": "a7add54bbb659399",
}
"""Per agent/language: the first 16 hex digits of the SHA-256 of its three outputs."""


def charts() -> list[Chart]:
    bare = factory_chart(1)
    derived = factory_chart(2)
    acts = derived.activations
    gates = [a.gate for side in (acts.personality, acts.design) for a in side.__dict__.values()]
    graph = bodygraph(gates)
    profile = "5/1"
    cross = incarnation_cross(
        profile, acts.personality.sun.gate, acts.personality.earth.gate, acts.design.sun.gate,
        acts.design.earth.gate,
    )  # fmt: skip
    derived = derived.model_copy(
        update={
            "active_gates": list(graph.active_gates),
            "channels": [channel.key for channel in graph.channels],
            "centers": Centers(defined=list(graph.defined), open=list(graph.open)),
            "type": graph.type,
            "strategy": graph.strategy,
            "authority": graph.authority,
            "definition": graph.definition,
            "profile": profile,
            "incarnation_cross": CrossModel(angle=cross.angle, gates=list(cross.gates)),
        }
    )
    unknown = factory_chart(3).model_copy(
        update={
            "type": "alien",
            "authority": "moon_whisper",
            "definition": "quintuple",
            "channels": ["10-20", "99-100", "x"],
            "centers": Centers(defined=["g", "tail"], open=["head", "fin"]),
        }
    )
    return [bare, derived, unknown]


def output_hash(agent: str, language: str) -> str:
    outputs = [
        {"prompt": build_prompt(c, agent, language), "offline": compose(c, agent, language)}
        for c in charts()
    ]
    text = json.dumps(outputs, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_every_agent_and_language_is_pinned() -> None:
    assert set(GOLDEN) == {f"{agent}/{lang}" for agent in AGENT_NAMES for lang in LANGUAGES}


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_the_output_is_what_it_was(key: str) -> None:
    agent, _, language = key.partition("/")
    assert output_hash(agent, language) == GOLDEN[key], (
        f"the output of {key} changed: see this module's docstring"
    )
