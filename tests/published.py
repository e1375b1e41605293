"""The published charts of `tests/data/published-cases.json`, for the tests that check them.

The file is part of the repository (a copy of the project's reference material), so a
fresh clone runs these tests; a missing or empty file fails the run, it never skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from services.chart.compute import compute_charts
from services.chart.errors import ChartError
from shared.events.birth import BirthInput
from shared.events.chart import Chart

CASES_FILE: Final = Path(__file__).resolve().parent / "data" / "published-cases.json"


def _load() -> list[dict[str, Any]]:
    if not CASES_FILE.is_file():
        raise FileNotFoundError(f"published cases not found at {CASES_FILE}: restore it from git")
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
    if not cases:
        raise ValueError(f"{CASES_FILE} holds no cases")
    return cases


CASES: Final = _load()
"""Every published case: `label`, `source`, `input` (a birth) and `expect`."""


def label(case: dict[str, Any]) -> str:
    """Test id of a case."""
    return str(case["label"])


def compute_cases() -> dict[str, Chart]:
    """Compute every published case in one batch, by label; a case that fails fails the test."""
    results = compute_charts([BirthInput.model_validate(case["input"]) for case in CASES])
    charts: dict[str, Chart] = {}
    for case, result in zip(CASES, results, strict=True):
        assert not isinstance(result, ChartError), f"{case['label']}: {result}"
        charts[case["label"]] = result
    return charts
