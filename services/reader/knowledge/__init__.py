"""The Human Design knowledge base the offline composer writes from, in English and German.

Written for this project: the conventional Human Design names (gates, lines,
profiles, types, authorities, centers, channels, cross angles) with keynotes
and descriptions in our own words. Every entry is a `Text`, one string per
supported language, so a reading in either language draws on the same facts.

- `gates`: the 64 gates (name, I Ching hexagram, keynote).
- `lines`: the 6 line archetypes and the 12 profiles.
- `chart_terms`: types, strategies, authorities, definitions, the 9 centers,
  cross angles, bodies and the two sides of the chart.
- `channels`: the 36 channels (name, keynote).

Text only, keyed by `shared.hd`, which holds the tables themselves (a center's gates, a
channel's centers, a type's strategy, a profile's cross angle);
`tests/reader/test_knowledge_keys.py` checks the key sets match. Pure data: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.reading_requested import Language


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of text in every supported language."""

    en: str
    de: str

    def get(self, language: Language) -> str:
        """The text in `language`."""
        return self.de if language == "de" else self.en
