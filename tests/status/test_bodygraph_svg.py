"""The bodygraph SVG, parsed as XML, for published charts: centers, channels, gates, columns."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from services.status.web.bodygraph_svg import (
    CENTER_SHAPES,
    DESIGN_COLOR,
    GATE_POINTS,
    LABEL_POINTS,
    OPEN_FILL,
    PERSONALITY_COLOR,
    gate_activations,
    render_bodygraph,
)
from shared.events.chart import BODIES, Chart
from shared.hd.centers import CENTER_GATES, CENTERS, GATE_CENTER
from shared.hd.channels import CHANNELS
from shared.hd.derive import bodygraph
from tests import factories as f
from tests.published import CASES, compute_cases, label

NS = "{http://www.w3.org/2000/svg}"
RA = "Ra Uru Hu (founder of the system)"


@pytest.fixture(scope="module")
def charts() -> dict[str, Chart]:
    """Every published case, computed in one batch."""
    return compute_cases()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())  # noqa: S314 - our own output, no entities


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def filled_centers(root: ET.Element) -> set[str]:
    """Centers whose outline is not white (checked against the data attribute too)."""
    out = set()
    for group in by_class(root, "center"):
        polygon = group.find(f"{NS}polygon")
        assert polygon is not None
        filled = polygon.get("fill", "").lower() not in (OPEN_FILL, "white", "none", "")
        assert filled == (group.get("data-defined") == "true"), group.get("data-center")
        if filled:
            out.add(str(group.get("data-center")))
    return out


def side_gates(chart: Chart, side: str) -> set[int]:
    acts = getattr(chart.activations, side)
    return {getattr(acts, body).gate for body in BODIES}


@pytest.mark.parametrize("case", CASES, ids=label)
def test_the_picture_shows_exactly_the_chart(case: dict[str, Any], charts) -> None:
    chart = charts[case["label"]]
    svg = render_bodygraph(chart)
    root = parse(svg)

    assert root.tag == f"{NS}svg"
    assert root.get("viewBox") == "0 0 800 870"

    centers = by_class(root, "center")
    assert [c.get("data-center") for c in centers] == list(CENTERS)
    assert chart.centers is not None
    assert filled_centers(root) == set(chart.centers.defined)

    drawn = [g.get("data-channel") for g in by_class(root, "channel")]
    assert drawn == chart.channels  # one per defined channel, in the chart's order
    assert len([e for e in root.iter() if e.get("data-channel")]) == len(drawn)

    personality, design = side_gates(chart, "personality"), side_gates(chart, "design")
    markers = {int(str(g.get("data-gate"))): g.get("data-activation")
               for g in by_class(root, "gate")}  # fmt: skip
    assert set(markers) == personality | design == set(chart.active_gates or [])
    for gate, side in markers.items():
        expected = ("both" if gate in personality and gate in design
                    else "personality" if gate in personality else "design")  # fmt: skip
        assert side == expected, gate
    for marker in by_class(root, "gate"):
        assert [t.text for t in marker.iter(f"{NS}text")] == [marker.get("data-gate")]
    # Every inactive gate's number is written too, in grey.
    numbers = {int(str(t.text)) for t in by_class(root, "gate-number")}
    assert numbers == set(range(1, 65)) - set(markers)

    activations = by_class(root, "activation")
    assert len(activations) == 26
    for side in ("design", "personality"):
        listed = {a.get("data-planet"): a.get("data-value")
                  for a in activations if a.get("data-side") == side}  # fmt: skip
        acts = getattr(chart.activations, side)
        assert listed == {b: f"{getattr(acts, b).gate}.{getattr(acts, b).line}" for b in BODIES}
    columns = {c.get("data-side"): c for c in by_class(root, "activations")}
    assert columns["design"].get("fill") == DESIGN_COLOR
    assert columns["personality"].get("fill") == PERSONALITY_COLOR
    title_x = {side: float(str(by_class(col, "activations-title")[0].get("x")))
               for side, col in columns.items()}  # fmt: skip
    assert title_x["design"] < 400 < title_x["personality"]  # Design left, Personality right

    assert render_bodygraph(chart) == svg  # deterministic
    assert render_bodygraph(chart.model_dump(mode="json")) == svg  # the dict gives the same


def test_ra_uru_hu(charts) -> None:
    root = parse(render_bodygraph(charts[RA]))
    assert filled_centers(root) == {"g", "throat", "spleen", "ajna", "heart"}
    assert {g.get("data-channel") for g in by_class(root, "channel")} == {
        "10-20", "10-57", "20-57", "23-43", "25-51"
    }  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=label)
def test_channel_halves_take_the_colour_of_their_gates_side(case: dict[str, Any], charts) -> None:
    chart = charts[case["label"]]
    active = gate_activations(chart)
    root = parse(render_bodygraph(chart))
    for group in by_class(root, "channel"):
        low, high = (int(g) for g in str(group.get("data-channel")).split("-"))
        sides = {active[low], active[high]}
        assert group.get("data-activation") == (sides.pop() if len(sides) == 1 else "mixed")
        halves = by_class(group, "channel-half")
        assert [int(str(h.get("data-half"))) for h in halves] == [low, high]
        for half in halves:
            gate = int(str(half.get("data-half")))
            want = PERSONALITY_COLOR if active[gate] == "personality" else DESIGN_COLOR
            assert half.get("stroke") == want
        stripes = by_class(group, "channel-half-stripe")
        assert len(stripes) == sum(active[g] == "both" for g in (low, high))
        assert all(s.get("stroke") == PERSONALITY_COLOR for s in stripes)


def test_a_chart_without_derived_fields_is_derived_from_its_gates() -> None:
    chart = f.chart(seed=5)
    assert chart.channels is None and chart.centers is None
    graph = bodygraph(gate_activations(chart))
    root = parse(render_bodygraph(chart))
    assert filled_centers(root) == set(graph.defined)
    assert [g.get("data-channel") for g in by_class(root, "channel")] == [
        c.key for c in graph.channels
    ]


def test_text_is_escaped() -> None:
    chart = f.chart().model_copy(update={"type": "<script>&", "authority": '"quoted"'})
    root = parse(render_bodygraph(chart))
    desc = root.find(f"{NS}desc")
    assert desc is not None and "<script>&" in str(desc.text)
    assert not [e for e in root.iter() if e.tag.endswith("script")]


def test_no_external_references_or_inline_styles() -> None:
    svg = render_bodygraph(f.chart(seed=3))
    for forbidden in ("href", "url(", "@import", "<style", "style=", "<script", "<image"):
        assert forbidden not in svg
    assert 'font-family="sans-serif"' in svg
    assert "\r" not in svg
    root = parse(svg)
    assert all(e.get("id") is None for e in root.iter())  # nothing to collide when inlined


def on_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> bool:
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    within = (
        min(a[0], b[0]) - 1e-9 <= p[0] <= max(a[0], b[0]) + 1e-9
        and min(a[1], b[1]) - 1e-9 <= p[1] <= max(a[1], b[1]) + 1e-9
    )
    return abs(cross) < 1e-6 * math.dist(a, b) and within


def inside(p: tuple[float, float], polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: strictly inside a simple polygon."""
    x, y = p
    result = False
    for i, (ax, ay) in enumerate(polygon):
        bx, by = polygon[(i + 1) % len(polygon)]
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            result = not result
    return result


def test_every_gate_sits_on_its_centers_outline_with_its_number_inside() -> None:
    assert set(GATE_POINTS) == set(range(1, 65)) == set(LABEL_POINTS)
    for center, gates in CENTER_GATES.items():
        shape = CENTER_SHAPES[center]
        edges = [(shape[i], shape[(i + 1) % len(shape)]) for i in range(len(shape))]
        for gate in gates:
            assert GATE_CENTER[gate] == center
            assert any(on_segment(GATE_POINTS[gate], a, b) for a, b in edges), gate
            assert inside(LABEL_POINTS[gate], shape), gate
    # Distinct anchors: no two gates share a point.
    assert len(set(GATE_POINTS.values())) == 64


def test_every_channel_slot_is_drawn_once() -> None:
    root = parse(render_bodygraph(f.chart()))
    assert [p.get("data-slot") for p in by_class(root, "channel-slot")] == [c.key for c in CHANNELS]
