"""The reader's knowledge base is text keyed by `shared.hd`: the same keys, no more, no fewer.

Every gate, line, channel, center, profile, cross angle, type, strategy, authority,
definition and body of the Human Design domain has its text, and no text is written for
a key the domain does not have. Where the order is the domain's (centers, profiles,
authorities), the knowledge base lists them in that order too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from services.reader.knowledge import channels, chart_terms, gates, lines
from shared.events.chart import BODIES
from shared.hd.centers import CENTERS
from shared.hd.channels import CHANNELS
from shared.hd.crosses import ANGLES
from shared.hd.gates import GATES
from shared.hd.lines import LINES
from shared.hd.profiles import PROFILES
from shared.hd.properties import AUTHORITIES, DEFINITIONS, STRATEGIES, TYPES

# (name, the domain's keys, the knowledge base's table, whether the order must match too)
TABLES: list[tuple[str, Iterable[Any], Mapping[Any, Any], bool]] = [
    ("gates", GATES, gates.GATES, False),
    ("lines", LINES, lines.LINES, False),
    ("channels", [c.key for c in CHANNELS], channels.CHANNELS, False),
    ("centers", CENTERS, chart_terms.CENTERS, True),
    ("profiles", PROFILES, lines.PROFILES, True),
    ("cross angles", ANGLES, chart_terms.CROSS_ANGLES, False),
    ("types", TYPES, chart_terms.TYPES, False),
    ("strategies", STRATEGIES, chart_terms.STRATEGIES, False),
    ("authorities", AUTHORITIES, chart_terms.AUTHORITIES, True),
    ("definitions", DEFINITIONS, chart_terms.DEFINITIONS, False),
    ("bodies", BODIES, chart_terms.BODIES, True),
]


@pytest.mark.parametrize(("name", "domain", "texts", "ordered"), TABLES, ids=[t[0] for t in TABLES])
def test_every_key_has_its_text_and_every_text_a_key(
    name: str, domain: Iterable[Any], texts: Mapping[Any, Any], ordered: bool
) -> None:
    keys = list(domain)
    assert len(set(keys)) == len(keys), f"{name}: a key twice in shared.hd"
    missing = sorted(set(keys) - set(texts), key=str)
    extra = sorted(set(texts) - set(keys), key=str)
    assert not missing, f"{name}: no text in the reader's knowledge base for {missing}"
    assert not extra, f"{name}: text in the reader's knowledge base for unknown keys {extra}"
    if ordered:
        assert list(texts) == keys, f"{name}: not in the order of shared.hd"
