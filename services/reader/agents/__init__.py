"""The four reading agents, loaded from their text files.

An agent is a lens on the same chart: `personality` (self-understanding), `business`
(work, decisions, collaboration), `relationship` (love, friendship, family) and `crisis`
(grounding; gentle and practical). Its text is data, one directory per agent next to
this file:

- `<agent>/agent.toml`: `prompt_version` (recorded with every reading), the section
  order, the offline composer's centers style, and what the LLM is told (focus, tone,
  extra rules, a brief per section), in English;
- `<agent>/en.toml`, `<agent>/de.toml`: the title and section headings (LLM and offline
  reading), and the offline composer's intro, closing, notes and advice per type;
- `common/`: the system and user prompt templates and the rules every agent shares
  (`prompt.toml`), and how the prompt names each language (`en.toml`, `de.toml`).

The files are read once, at import, and checked: a missing or unknown key, a section
missing or given twice, a language file that lacks a type's advice or a template field
that `services.reader.prompt` does not fill fails the import with the file and key
named. `tests/reader/test_agent_versions.py` pins a hash of each agent's files (its
directory and `common/`) to its `prompt_version`: change the text, bump the version.
`services.reader.prompt` builds the LLM messages from an agent, `services.reader.offline`
writes the offline reading.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Formatter
from types import MappingProxyType
from typing import Any, Final, Literal, cast, get_args

from services.reader.knowledge import Text
from shared.events.reading_requested import Agent, Language
from shared.hd.properties import TYPES

SectionKey = Literal[
    "overview", "conscious", "unconscious", "drives", "centers", "cross", "focus", "closing"
]
SECTION_KEYS: Final[tuple[SectionKey, ...]] = get_args(SectionKey)

CentersStyle = Literal["full", "grounding"]

AGENT_NAMES: Final[tuple[Agent, ...]] = get_args(Agent)
"""The agents, each with its directory of text files."""

LANGUAGES: Final[Mapping[str, Language]] = MappingProxyType({"en": "en", "de": "de"})
"""The supported reading languages."""

_DATA: Final[Traversable] = files(__name__)


@dataclass(frozen=True, slots=True)
class Section:
    key: SectionKey
    heading: Text
    brief: str
    """What the LLM writes in this section (English)."""


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    name: Agent
    prompt_version: str
    """`"<agent>/<n>"`; recorded with every reading written with this definition."""
    title: Text
    focus: str
    """What the reading is about, for the LLM (English)."""
    tone: str
    """How it should sound, for the LLM (English)."""
    rules: tuple[str, ...]
    """Extra rules for the LLM (English), after the common ones."""
    sections: tuple[Section, ...]
    """The reading's sections, in order."""
    intro: Text
    closing: Text
    conscious_note: Text
    unconscious_note: Text
    centers_note: Text
    type_advice: Mapping[str, Text]
    """Per type key: the type seen through this agent's lens."""
    no_type_advice: Text
    """Used instead of `type_advice` while the chart carries no type."""
    authority_lead: Text
    """Leads into the authority's practice sentence."""
    centers_style: CentersStyle = "full"
    """`full`: every center with its sentence, and the channels; `grounding`: the defined
    centers named as stable ground, the open ones with their sentence, no channels."""


@dataclass(frozen=True, slots=True)
class CommonPrompt:
    """`common/`: the prompt templates and rules every agent shares."""

    system: str
    """The system message; `{agent}`, `{focus}`, `{tone}`, `{language}`, `{language_rule}`,
    `{title}`, `{sections}` and `{rules}` are filled in."""
    section: str
    """One line of `{sections}`: `{number}`, `{heading}`, `{brief}`."""
    rule: str
    """One line of `{rules}`: `{rule}`."""
    user: str
    """The user message: `{agent}`, `{language}` and `{facts}` are filled in."""
    rules: tuple[str, ...]
    """The rules every agent gets, before its own."""
    language_names: Mapping[Language, str]
    """How the prompt names each language ("English", "German")."""
    language_rules: Mapping[Language, str]
    """What the prompt asks of a reading in each language."""


# --- Loading and checking the files ----------------------------------------------------------


def text_files(agent: str, root: Traversable = _DATA) -> Mapping[str, Traversable]:
    """Every file an agent's text comes from, by path under `root`: its directory's, then
    `common/`'s. What `tests/reader/test_agent_versions.py` hashes."""
    if agent not in AGENT_NAMES:
        raise ValueError(f"unknown agent {agent!r}; known: {', '.join(AGENT_NAMES)}")
    found: dict[str, Traversable] = {}
    for directory in (agent, "common"):
        for file in sorted(root.joinpath(directory).iterdir(), key=lambda f: f.name):
            if file.name.endswith(".toml"):
                found[f"{directory}/{file.name}"] = file
    return MappingProxyType(found)


class _File:
    """One TOML table of a file, read with its keys checked and named in errors."""

    def __init__(self, where: str, table: Mapping[str, Any]) -> None:
        self.where = where
        self.table = table
        self.used: set[str] = set()

    @classmethod
    def read(cls, root: Traversable, *path: str) -> _File:
        file = root.joinpath(*path)
        where = str(file)
        with file.open("rb") as handle:
            try:
                return cls(where, tomllib.load(handle))
            except tomllib.TOMLDecodeError as e:
                raise ValueError(f"{where}: {e}") from None

    def _get(self, key: str) -> object:
        self.used.add(key)
        if key not in self.table:
            raise ValueError(f"{self.where}: missing key {key!r}")
        return self.table[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{self.where}: {key!r} must be a non-empty string")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"{self.where}: {key!r} must be a list of non-empty strings")
        return tuple(value)

    def template(self, key: str, fields: frozenset[str]) -> str:
        """A `str.format` template that may use only `fields`."""
        value = self.text(key)
        try:
            used = {field for _, field, _, _ in Formatter().parse(value) if field is not None}
        except ValueError as e:
            raise ValueError(f"{self.where}: {key!r}: {e}") from None
        unknown = sorted(used - fields)
        if unknown:
            raise ValueError(
                f"{self.where}: {key!r} uses unknown fields {', '.join(unknown)}; "
                f"known: {', '.join(sorted(fields))}"
            )
        return value

    def table_of(self, key: str) -> _File:
        value = self._get(key)
        if not isinstance(value, dict):
            raise ValueError(f"{self.where}: [{key}] must be a table")
        return _File(f"{self.where} [{key}]", value)

    def done(self) -> None:
        """Refuse keys nothing read (a typo would otherwise be silently ignored)."""
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise ValueError(f"{self.where}: unknown keys {', '.join(unknown)}")


def _texts(by_language: Mapping[Language, _File], key: str) -> Text:
    return Text(en=by_language["en"].text(key), de=by_language["de"].text(key))


def load_agent(name: Agent, root: Traversable = _DATA) -> AgentDefinition:
    """The agent `name` from its directory under `root`; `ValueError` naming file and key."""
    agent = _File.read(root, name, "agent.toml")
    langs = {lang: _File.read(root, name, f"{lang}.toml") for lang in LANGUAGES.values()}

    version = agent.text("prompt_version")
    if not re.fullmatch(rf"{name}/[1-9][0-9]*", version):
        raise ValueError(f"{agent.where}: prompt_version must be '{name}/<n>', got {version!r}")
    order = agent.texts("sections")
    if sorted(order) != sorted(SECTION_KEYS):
        raise ValueError(
            f"{agent.where}: sections must list each of {', '.join(SECTION_KEYS)} once"
        )
    style = agent.text("centers_style")
    if style not in get_args(CentersStyle):
        raise ValueError(f"{agent.where}: centers_style must be 'full' or 'grounding'")
    briefs = agent.table_of("briefs")
    headings = {lang: f.table_of("headings") for lang, f in langs.items()}
    advice = {lang: f.table_of("type_advice") for lang, f in langs.items()}
    sections = tuple(
        Section(cast(SectionKey, key), _texts(headings, key), briefs.text(key)) for key in order
    )
    definition = AgentDefinition(
        name=name,
        prompt_version=version,
        title=_texts(langs, "title"),
        focus=agent.text("focus"),
        tone=agent.text("tone"),
        rules=agent.texts("rules"),
        sections=sections,
        intro=_texts(langs, "intro"),
        closing=_texts(langs, "closing"),
        conscious_note=_texts(langs, "conscious_note"),
        unconscious_note=_texts(langs, "unconscious_note"),
        centers_note=_texts(langs, "centers_note"),
        type_advice=MappingProxyType({kind: _texts(advice, kind) for kind in TYPES}),
        no_type_advice=_texts(langs, "no_type_advice"),
        authority_lead=_texts(langs, "authority_lead"),
        centers_style=cast(CentersStyle, style),
    )
    for table in (agent, briefs, *langs.values(), *headings.values(), *advice.values()):
        table.done()
    return definition


_SYSTEM_FIELDS: Final = frozenset(
    {"agent", "focus", "tone", "language", "language_rule", "title", "sections", "rules"}
)


def load_common(root: Traversable = _DATA) -> CommonPrompt:
    """`common/` under `root`; `ValueError` naming file and key."""
    prompt = _File.read(root, "common", "prompt.toml")
    langs = {lang: _File.read(root, "common", f"{lang}.toml") for lang in LANGUAGES.values()}
    common = CommonPrompt(
        system=prompt.template("system", _SYSTEM_FIELDS),
        section=prompt.template("section", frozenset({"number", "heading", "brief"})),
        rule=prompt.template("rule", frozenset({"rule"})),
        user=prompt.template("user", frozenset({"agent", "language", "facts"})),
        rules=prompt.texts("rules"),
        language_names=MappingProxyType({lang: f.text("name") for lang, f in langs.items()}),
        language_rules=MappingProxyType({lang: f.text("rule") for lang, f in langs.items()}),
    )
    for table in (prompt, *langs.values()):
        table.done()
    return common


AGENTS: Final[Mapping[str, AgentDefinition]] = MappingProxyType(
    {name: load_agent(name) for name in AGENT_NAMES}
)
"""The four agents by name."""

COMMON: Final[CommonPrompt] = load_common()
"""What every agent's prompt shares."""


def get_agent(name: str) -> AgentDefinition:
    """The agent called `name`; `ValueError` naming the known agents otherwise."""
    try:
        return AGENTS[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r}; known: {', '.join(AGENTS)}") from None


def prompt_version(agent: str) -> str:
    """The prompt version of `agent`, recorded with each reading (`"personality/1"`)."""
    return get_agent(agent).prompt_version


def resolve_language(language: str) -> Language:
    """`language` as a supported `Language`; `ValueError` otherwise."""
    try:
        return LANGUAGES[language]
    except KeyError:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}") from None
