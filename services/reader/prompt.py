"""The LLM messages for a reading: an agent's text (`services.reader.agents`) around the
chart's facts (`services.reader.facts`).

The templates and the rules every agent shares are in `agents/common/prompt.toml`; this
module only fills them in.
"""

from __future__ import annotations

from services.reader.agents import COMMON, AgentDefinition, get_agent, resolve_language
from services.reader.facts import chart_facts
from shared.events.chart import Chart
from shared.events.reading_requested import Language


def system_prompt(agent: AgentDefinition, language: Language) -> str:
    """The system message for an LLM writing `agent`'s reading in `language`."""
    sections = "\n".join(
        COMMON.section.format(number=n, heading=s.heading.get(language), brief=s.brief)
        for n, s in enumerate(agent.sections, start=1)
    )
    rules = "\n".join(COMMON.rule.format(rule=rule) for rule in (*COMMON.rules, *agent.rules))
    return COMMON.system.format(
        agent=agent.name,
        focus=agent.focus,
        tone=agent.tone,
        language=COMMON.language_names[language],
        language_rule=COMMON.language_rules[language],
        title=agent.title.get(language),
        sections=sections,
        rules=rules,
    )


def build_prompt(chart: Chart, agent: str, language: str) -> list[dict[str, str]]:
    """OpenAI chat messages for `agent`'s reading of `chart` in `language`: system, then user.

    The user message carries the chart facts only (no birth date, time or place: the
    reading does not need them, so they are not sent to the provider).
    """
    definition = get_agent(agent)
    lang = resolve_language(language)
    user = COMMON.user.format(
        agent=definition.name,
        language=COMMON.language_names[lang],
        facts=chart_facts(chart, lang),
    )
    return [
        {"role": "system", "content": system_prompt(definition, lang)},
        {"role": "user", "content": user},
    ]
