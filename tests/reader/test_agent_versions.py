"""Each agent's text is pinned to its `prompt_version`: change the text, bump the version.

The hash covers what the agent's files say (the parsed TOML of `<agent>/*.toml` and
`common/*.toml`, less `prompt_version`), not their layout: a comment or a re-wrapped line
changes nothing. When the text changes, the failure says what to bump and what to pin.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping

import pytest

from services.reader.agents import AGENT_NAMES, AGENTS, text_files

PINS: Mapping[str, tuple[str, str]] = {
    "personality": ("personality/1", "3e7e11b407a9e945"),
    "business": ("business/1", "ae4eedb539c51ec6"),
    "relationship": ("relationship/1", "cc52f7efe31502ca"),
    "crisis": ("crisis/1", "5a02111604f82fb1"),
}
"""Per agent: (prompt_version, hash of its text) as last reviewed."""


def text_hash(agent: str) -> str:
    """16 hex digits of the SHA-256 of the agent's text files' content, by path: not of
    their formatting, nor of `prompt_version` itself (a bump leaves the hash as it is)."""
    content = {
        path: tomllib.loads(file.read_text(encoding="utf-8"))
        for path, file in text_files(agent).items()
    }
    content[f"{agent}/agent.toml"].pop("prompt_version", None)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def pin_problem(agent: str, version: str, digest: str, pins: Mapping[str, tuple[str, str]]) -> str:
    """What is wrong with `agent`'s pin, and what to do; "" if nothing."""
    pin = f"PINS[{agent!r}] in tests/reader/test_agent_versions.py"
    if agent not in pins:
        return f"agent {agent!r} has no pin: add {agent!r}: ({version!r}, {digest!r}) to PINS"
    pinned_version, pinned_digest = pins[agent]
    if version == pinned_version and digest != pinned_digest:
        number = version.rpartition("/")[2]
        bumped = f"{agent}/{int(number) + 1}" if number.isdigit() else f"{agent}/<next>"
        return (
            f"the text of agent {agent!r} changed but its prompt_version is still {version}. "
            f"Bump prompt_version in services/reader/agents/{agent}/agent.toml to {bumped!r} "
            f"and set {pin} to ({bumped!r}, {digest!r}). (A change under common/ changes "
            "every agent's prompt: bump each.)"
        )
    if (version, digest) != (pinned_version, pinned_digest):
        return f"agent {agent!r} is now ({version!r}, {digest!r}): set {pin} to that"
    return ""


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_the_text_is_pinned_to_its_prompt_version(agent: str) -> None:
    problem = pin_problem(agent, AGENTS[agent].prompt_version, text_hash(agent), PINS)
    assert not problem, problem


def test_a_changed_text_without_a_bump_is_reported_with_what_to_do() -> None:
    pins = {"business": ("business/1", "a" * 64)}
    problem = pin_problem("business", "business/1", "b" * 64, pins)
    assert "changed but its prompt_version is still business/1" in problem
    assert "services/reader/agents/business/agent.toml to 'business/2'" in problem
    assert f"('business/2', '{'b' * 64}')" in problem
    bumped = pin_problem("business", "business/2", "b" * 64, pins)
    assert "set PINS['business']" in bumped and "('business/2'" in bumped
    assert pin_problem("business", "business/1", "a" * 64, pins) == ""
    assert "has no pin" in pin_problem("crisis", "crisis/1", "c" * 64, pins)


def test_the_hash_covers_every_file_of_the_agent_and_common() -> None:
    assert list(text_files("crisis")) == [
        "crisis/agent.toml",
        "crisis/de.toml",
        "crisis/en.toml",
        "common/de.toml",
        "common/en.toml",
        "common/prompt.toml",
    ]
    assert len({text_hash(agent) for agent in AGENT_NAMES}) == len(AGENT_NAMES)
