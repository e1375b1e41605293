"""shared.hd: the tables of SPEC sections 2 and 4, and the derivation of section 5 on
hand-built sets of active gates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.hd.centers import CENTER_GATES, CENTERS, GATE_CENTER, MOTORS, Center
from shared.hd.channels import CHANNELS, CHANNELS_BY_KEY, channel_key, find_channel
from shared.hd.crosses import ANGLES
from shared.hd.derive import bodygraph, incarnation_cross, profile
from shared.hd.gates import GATE_ORDER, GATES
from shared.hd.profiles import PROFILE_ANGLES, PROFILES
from shared.hd.properties import (
    AUTHORITIES,
    DEFINITIONS,
    STRATEGIES,
    STRATEGY_OF_TYPE,
    TYPES,
    ChartType,
    Strategy,
)

# --- the tables --------------------------------------------------------------------------


def test_every_gate_is_in_exactly_one_center() -> None:
    gates = [g for center_gates in CENTER_GATES.values() for g in center_gates]
    assert sorted(gates) == list(range(1, 65))
    assert CENTERS == (
        "head", "ajna", "throat", "g", "heart", "spleen", "solar_plexus", "sacral", "root",
    )  # fmt: skip
    assert {"sacral", "solar_plexus", "heart", "root"} == MOTORS


def test_channel_table() -> None:
    assert len(CHANNELS) == 36
    assert [c.gates for c in CHANNELS] == sorted({c.gates for c in CHANNELS})
    for channel in CHANNELS:
        low, high = channel.gates
        assert low < high
        # The centers written in the SPEC's channel list are the centers of the gates.
        assert channel.centers == (GATE_CENTER[low], GATE_CENTER[high])
        assert channel.centers[0] != channel.centers[1]


def test_channel_lookup() -> None:
    assert channel_key(20, 10) == "10-20"
    assert find_channel("20-10") is CHANNELS_BY_KEY["10-20"]
    assert find_channel(" 10 - 20 ") is CHANNELS_BY_KEY["10-20"]
    for text in ("10-11", "10", "a-b", "", "10-20-30"):
        assert find_channel(text) is None


def test_value_tables() -> None:
    assert tuple(range(1, 65)) == GATES
    assert tuple(PROFILE_ANGLES) == PROFILES
    assert set(STRATEGIES) == set(STRATEGY_OF_TYPE.values()) and len(STRATEGIES) == 4
    assert len(TYPES) == 5 and len(AUTHORITIES) == 8 and len(DEFINITIONS) == 5
    # The type hints name the same values as the tables, in the same order.
    assert (get_args(Center), get_args(ChartType), get_args(Strategy)) == (
        CENTERS,
        TYPES,
        STRATEGIES,
    )
    assert len(ANGLES) == 3 and set(PROFILE_ANGLES.values()) == set(ANGLES)


# --- type, strategy, authority and definition --------------------------------------------


def test_reflector_without_channels() -> None:
    # Gates in most centers, but no two that make a channel: a lone gate defines nothing.
    graph = bodygraph([41, 19, 13, 64, 24, 62, 21, 48, 6, 3, 41])
    assert graph.active_gates == (3, 6, 13, 19, 21, 24, 41, 48, 62, 64)
    assert graph.channels == () and graph.defined == ()
    assert graph.open == CENTERS
    assert (graph.type, graph.strategy) == ("reflector", "wait_a_lunar_cycle")
    assert (graph.authority, graph.definition) == ("lunar", "none")


def test_manifestor_through_another_center() -> None:
    # 25-51 (g-heart) and 10-20 (g-throat): the heart reaches the throat through the g.
    graph = bodygraph([25, 51, 10, 20])
    assert [c.key for c in graph.channels] == ["10-20", "25-51"]
    assert graph.defined == ("throat", "g", "heart")
    assert graph.connected("heart", "throat")
    assert (graph.type, graph.strategy) == ("manifestor", "to_inform")
    assert (graph.authority, graph.definition) == ("ego_manifested", "single")


def test_projector_when_the_motor_does_not_reach_the_throat() -> None:
    # 25-51 (g-heart) and 11-56 (ajna-throat): two groups, the heart's has no throat.
    graph = bodygraph([25, 51, 11, 56])
    assert (graph.type, graph.strategy) == ("projector", "wait_for_the_invitation")
    assert (graph.authority, graph.definition) == ("ego_projected", "split")
    assert not graph.connected("heart", "throat")


@pytest.mark.parametrize(
    ("gates", "kind"),
    [
        ([5, 15], "generator"),  # sacral-g, no throat
        ([5, 15, 11, 56], "generator"),  # throat defined, but not with a motor
        ([20, 34], "manifesting_generator"),  # sacral-throat directly
        ([5, 15, 1, 8], "manifesting_generator"),  # sacral-g-throat
        ([27, 50, 16, 48], "manifesting_generator"),  # sacral-spleen-throat
        ([5, 15, 30, 41, 35, 36], "manifesting_generator"),  # root-solar plexus-throat
    ],
)
def test_generator_or_manifesting_generator(gates: list[int], kind: str) -> None:
    graph = bodygraph(gates)
    assert "sacral" in graph.defined
    assert (graph.type, graph.strategy) == (kind, "to_respond")


@pytest.mark.parametrize(
    ("gates", "expected"),
    [
        # Each row also holds what the later rules would pick, to show the priority.
        ([6, 59, 18, 58, 21, 45], ("emotional", "manifesting_generator")),
        ([37, 40, 25, 51, 1, 8], ("emotional", "manifestor")),
        ([5, 15, 18, 58, 21, 45], ("sacral", "manifesting_generator")),
        ([18, 58, 21, 45, 1, 8], ("splenic", "manifestor")),
        ([26, 44, 1, 8], ("splenic", "projector")),
        ([21, 45, 1, 8, 4, 63], ("ego_manifested", "manifestor")),
        ([25, 51, 11, 56], ("ego_projected", "projector")),
        ([1, 8, 4, 63, 24, 61], ("self_projected", "projector")),
        ([7, 31, 17, 62], ("self_projected", "projector")),
        ([11, 56, 4, 63], ("mental", "projector")),
        ([47, 64], ("mental", "projector")),
        ([23, 43], ("mental", "projector")),
        ([1, 9, 33], ("lunar", "reflector")),
    ],
)
def test_authority_rules_in_priority_order(gates: list[int], expected: tuple[str, str]) -> None:
    graph = bodygraph(gates)
    assert (graph.authority, graph.type) == expected


@pytest.mark.parametrize(
    ("gates", "definition", "groups"),
    [
        ([4, 63, 11, 56], "single", 1),  # head-ajna-throat through the ajna
        ([4, 63, 5, 15], "split", 2),
        ([47, 64, 5, 15, 18, 58], "triple_split", 3),
        ([47, 64, 1, 8, 18, 58, 6, 59], "quadruple_split", 4),
        # Bridged: 10-57 joins the g-throat group to the spleen-root one.
        ([1, 8, 18, 58, 10, 57], "single", 1),
    ],
)
def test_definition(gates: list[int], definition: str, groups: int) -> None:
    graph = bodygraph(gates)
    assert graph.definition == definition
    assert len(graph.components) == groups
    assert set().union(*graph.components) == set(graph.defined)


def test_channels_and_centers_are_listed_in_contract_order() -> None:
    graph = bodygraph([63, 4, 20, 57, 10, 34, 15, 2, 14, 5, 11, 56])
    assert [c.key for c in graph.channels] == [
        "2-14", "4-63", "5-15", "10-20", "10-34", "10-57", "11-56", "20-34", "20-57", "34-57",
    ]  # fmt: skip
    assert graph.defined == ("head", "ajna", "throat", "g", "spleen", "sacral")
    assert graph.open == ("heart", "solar_plexus", "root")


def test_gates_outside_the_wheel_are_rejected() -> None:
    for bad in (0, 65, -3):
        with pytest.raises(ValueError, match=r"1\.\.64"):
            bodygraph([1, 8, bad])


# --- profile and incarnation cross -------------------------------------------------------


@pytest.mark.parametrize(("text", "angle"), sorted(PROFILE_ANGLES.items()))
def test_profiles_and_cross_angles(text: str, angle: str) -> None:
    p_line, d_line = (int(x) for x in text.split("/"))
    assert profile(p_line, d_line) == text
    cross = incarnation_cross(text, 51, 57, 61, 62)
    assert (cross.angle, cross.gates) == (angle, (51, 57, 61, 62))


def test_only_twelve_profiles_occur() -> None:
    assert len(PROFILE_ANGLES) == 12
    for p_line, d_line in ((1, 1), (1, 5), (4, 2), (6, 6), (0, 3)):
        with pytest.raises(ValueError):
            profile(p_line, d_line)
    with pytest.raises(ValueError):
        incarnation_cross("1/1", 1, 2, 3, 4)


# --- an independent reading of SPEC section 5 on random gate sets -----------------------


def reference(gates: Iterable[int]) -> tuple[str, str, str, list[str], list[str]]:
    """SPEC section 5, written as plainly as possible: closure of a reachability relation."""
    active = set(gates)
    channels = [c for c in CHANNELS if set(c.gates) <= active]
    defined: set[Center] = {center for c in channels for center in c.centers}
    reach = {(a, b) for c in channels for a in c.centers for b in c.centers}
    reach |= {(a, a) for a in defined}
    while True:
        more = {(a, d) for a, b in reach for c, d in reach if b == c} - reach
        if not more:
            break
        reach |= more
    to_throat = any((m, "throat") in reach for m in MOTORS)
    if not defined:
        kind = "reflector"
    elif "sacral" in defined:
        kind = "manifesting_generator" if to_throat else "generator"
    else:
        kind = "manifestor" if to_throat else "projector"
    rules: list[tuple[bool, str]] = [
        ("solar_plexus" in defined, "emotional"),
        ("sacral" in defined, "sacral"),
        ("spleen" in defined, "splenic"),
        ("heart" in defined and ("heart", "throat") in reach, "ego_manifested"),
        ("heart" in defined, "ego_projected"),
        (("g", "throat") in reach, "self_projected"),
        (bool(defined), "mental"),
        (True, "lunar"),
    ]
    auth = next(name for applies, name in rules if applies)
    groups = {frozenset(b for a2, b in reach if a2 == a) for a in defined}
    definition = ["none", "single", "split", "triple_split", "quadruple_split"][len(groups)]
    return kind, auth, definition, [c.key for c in channels], [c for c in CENTERS if c in defined]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GATE_ORDER), min_size=0, max_size=26))
def test_matches_a_plain_reading_of_the_spec(gates: list[int]) -> None:
    graph = bodygraph(gates)
    got = (
        graph.type,
        graph.authority,
        graph.definition,
        [c.key for c in graph.channels],
        list(graph.defined),
    )
    assert got == reference(gates)
    assert graph.strategy == STRATEGY_OF_TYPE[graph.type]
    assert set(graph.defined) | set(graph.open) == set(CENTERS)
