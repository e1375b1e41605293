"""The agents' text files: complete, checked when read, and shipped with the package."""

from __future__ import annotations

import fnmatch
import shutil
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from services.reader.agents import (
    AGENT_NAMES,
    AGENTS,
    COMMON,
    SECTION_KEYS,
    load_agent,
    load_common,
)
from shared.hd.properties import TYPES

ROOT = Path(__file__).resolve().parents[2]
AGENTS_DIR = Path(str(files("services.reader.agents")))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the agents' directory to break."""
    target = tmp_path / "agents"
    shutil.copytree(AGENTS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_every_agent_has_every_section_heading_and_type_in_both_languages() -> None:
    assert tuple(AGENTS) == AGENT_NAMES
    for agent in AGENTS.values():
        assert sorted(s.key for s in agent.sections) == sorted(SECTION_KEYS)
        assert tuple(agent.type_advice) == TYPES
        assert agent.prompt_version.startswith(f"{agent.name}/")
        for section in agent.sections:
            assert section.heading.en and section.heading.de and section.brief
    assert set(COMMON.language_names) == set(COMMON.language_rules) == {"en", "de"}


def test_every_text_file_is_package_data() -> None:
    """pyproject's package-data ships every file (the image installs the wheel)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    patterns = [*package_data.get("*", []), *package_data.get("services.reader.agents", [])]
    text_files = sorted(p.relative_to(AGENTS_DIR) for p in AGENTS_DIR.rglob("*.toml"))
    assert len(text_files) == 3 * len(AGENT_NAMES) + 3
    for path in text_files:
        assert any(fnmatch.fnmatch(str(path), pattern) for pattern in patterns), path


def test_a_copy_loads_like_the_original(copy: Path) -> None:
    assert load_agent("crisis", copy) == AGENTS["crisis"]
    assert load_common(copy) == COMMON


def test_a_missing_key_names_file_and_key(copy: Path) -> None:
    path = copy / "business" / "de.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("closing = ", "closin = ", 1), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"business/de\.toml: missing key 'closing'"):
        load_agent("business", copy)


def test_an_unknown_key_is_refused(copy: Path) -> None:
    path = copy / "relationship" / "en.toml"
    path.write_text(path.read_text(encoding="utf-8") + 'alien = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"relationship/en\.toml \[type_advice\]: unknown keys"):
        load_agent("relationship", copy)


def test_sections_must_each_be_listed_once(copy: Path) -> None:
    path = copy / "personality" / "agent.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"drives", ', '"overview", ', 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"personality/agent\.toml: sections must list each"):
        load_agent("personality", copy)


def test_a_prompt_version_of_another_agent_is_refused(copy: Path) -> None:
    path = copy / "crisis" / "agent.toml"
    text = path.read_text(encoding="utf-8")
    for wrong in ('"business/1"', '"crisis/one"', '"crisis/1b"'):
        path.write_text(text.replace('"crisis/1"', wrong), encoding="utf-8")
        with pytest.raises(ValueError, match="prompt_version must be 'crisis/<n>'"):
            load_agent("crisis", copy)


def test_broken_toml_names_the_file(copy: Path) -> None:
    path = copy / "common" / "de.toml"
    path.write_text('name = "German\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"common/de\.toml: "):
        load_common(copy)


def test_a_template_with_an_unknown_field_is_refused(copy: Path) -> None:
    path = copy / "common" / "prompt.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{tone}", "{mood}", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"'system' uses unknown fields mood; known: agent"):
        load_common(copy)
