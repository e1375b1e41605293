"""Published charts (tests/data/published-cases.json): activations and every derived property."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events.chart import Chart
from tests.published import CASES, compute_cases, label

WITH_ACTIVATIONS = [c for c in CASES if c["expect"].get("activations")]
SIMPLE_KEYS = ("type", "strategy", "authority", "profile", "definition", "channels")
DERIVED_KEYS = (*SIMPLE_KEYS, "channels_include", "centers", "incarnation_cross")
WITH_DERIVED = [c for c in CASES if any(key in c["expect"] for key in DERIVED_KEYS)]
WITH_CROSS_OR_PROFILE = [
    c
    for c in CASES
    if "gates" in c["expect"].get("incarnation_cross", {}) or "profile" in c["expect"]
]


@pytest.fixture(scope="module")
def charts() -> dict[str, Chart]:
    """Compute every published case in one batch."""
    return compute_cases()


@pytest.mark.parametrize("case", WITH_ACTIVATIONS, ids=label)
def test_activations(case: dict[str, Any], charts: dict[str, Chart]) -> None:
    expected: dict[str, dict[str, str]] = case["expect"]["activations"]
    chart = charts[case["label"]]
    got = {
        side: {
            body: f"{act.gate}.{act.line}"
            for body, act in getattr(chart.activations, side)
            if body in expected.get(side, {})
        }
        for side in expected
    }
    assert got == expected


@pytest.mark.parametrize("case", WITH_CROSS_OR_PROFILE, ids=label)
def test_cross_and_profile(case: dict[str, Any], charts: dict[str, Chart]) -> None:
    expect = case["expect"]
    gates = expect.get("incarnation_cross", {}).get("gates")
    profile = expect.get("profile")
    personality = charts[case["label"]].activations.personality
    design = charts[case["label"]].activations.design
    if gates is not None:
        sun_earth = [personality.sun, personality.earth, design.sun, design.earth]
        assert [a.gate for a in sun_earth] == gates
    if profile is not None:
        assert f"{personality.sun.line}/{design.sun.line}" == profile


@pytest.mark.parametrize("case", WITH_DERIVED, ids=label)
def test_derived_properties(case: dict[str, Any], charts: dict[str, Chart]) -> None:
    """Each property the source states, as the chart itself reports it."""
    expect = case["expect"]
    chart = charts[case["label"]]
    got: dict[str, Any] = {}
    want: dict[str, Any] = {}
    for key in SIMPLE_KEYS:
        if key in expect:
            got[key], want[key] = getattr(chart, key), expect[key]
    if "channels_include" in expect:
        assert chart.channels is not None
        got["channels_include"] = sorted(set(expect["channels_include"]) & set(chart.channels))
        want["channels_include"] = sorted(expect["channels_include"])
    if "centers" in expect:
        # {"defined": [...], "open": [...]} as in the contract, or a bare list of defined ones.
        assert chart.centers is not None
        centers = expect["centers"]
        for side, names in (centers if isinstance(centers, dict) else {"defined": centers}).items():
            got[f"centers.{side}"] = set(getattr(chart.centers, side))
            want[f"centers.{side}"] = set(names)
    if "incarnation_cross" in expect:
        assert chart.incarnation_cross is not None
        for part in expect["incarnation_cross"]:
            got[f"cross.{part}"] = getattr(chart.incarnation_cross, part)
            want[f"cross.{part}"] = expect["incarnation_cross"][part]
    assert got == want


def test_every_expected_property_is_checked() -> None:
    unchecked = {key for case in CASES for key in case["expect"]} - {"activations", *DERIVED_KEYS}
    assert not unchecked, f"published cases state {sorted(unchecked)}, which no test checks"
