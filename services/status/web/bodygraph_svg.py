"""The bodygraph picture: a chart rendered as a self-contained SVG document.

Drawn here, from the chart alone: no fonts, images or scripts are fetched (the text uses
the generic `sans-serif` family) and the document carries no `<style>` element or `style`
attribute, only presentation attributes, so a page with a strict Content-Security-Policy
can inline it. The output is deterministic: the same chart always gives the same bytes
(fixed number formatting, fixed drawing order, no generated ids, no clock).

What is drawn, following the usual conventions:

- the nine centers in their conventional shapes and places, a defined center filled with
  its colour and an open one white: `<g class="center" data-center="throat"
  data-defined="true">`;
- all 36 channels as empty tubes (`class="channel-slot"`); a defined channel as a
  `<g class="channel" data-channel="10-20" data-activation="...">` of two halves, each
  half coloured by the side that activates its gate: black for personality, red for
  design, red with black dashes for a gate that both sides activate;
- an active gate whose channel is not defined (a hanging gate) as the half of each of its
  channels on its own side (`class="gate-half"`);
- every gate's number near its center, an active one in a black, red, or half red/half
  black disc: `<g class="gate" data-gate="57" data-activation="personality|design|both">`;
- the 26 activations beside the graph: Design in red on the left, Personality in black on
  the right, each `<g class="activation" data-side=... data-planet=... data-value="51.5">`.

The center and channel tables come from `shared.hd`; only the geometry (where each center
and gate sits) lives here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final, Literal
from xml.sax.saxutils import escape, quoteattr

from shared.events.chart import BODIES, Activation, Activations, Chart
from shared.hd.centers import CENTER_GATES, CENTERS, GATE_CENTER, Center
from shared.hd.channels import CHANNELS, CHANNELS_BY_KEY, Channel
from shared.hd.derive import bodygraph

Point = tuple[float, float]
Side = Literal["personality", "design"]
GateActivation = Literal["personality", "design", "both"]

SVG_NS: Final = "http://www.w3.org/2000/svg"
WIDTH: Final = 800
HEIGHT: Final = 870

PERSONALITY_COLOR: Final = "#1a1a1a"
DESIGN_COLOR: Final = "#c62828"
OPEN_FILL: Final = "#ffffff"
OPEN_STROKE: Final = "#8c8c8c"
DEFINED_STROKE: Final = "#3b3b3b"
SLOT_OUTLINE: Final = "#b8b8b8"
SLOT_FILL: Final = "#ffffff"
INACTIVE_GATE_TEXT: Final = "#8c8c8c"  # on an open (white) center
INACTIVE_GATE_TEXT_DEFINED: Final = "#3d3d3d"  # on a defined (coloured) center
MUTED_TEXT: Final = "#5f5f5f"
CHANNEL_WIDTH: Final = 6.0
SLOT_WIDTH: Final = 8.0
GATE_RADIUS: Final = 7.5
STRIPE_DASH: Final = "4 4"

CENTER_COLORS: Final[Mapping[Center, str]] = MappingProxyType(
    {
        "head": "#f2d14b",
        "ajna": "#6aaa5e",
        "throat": "#c49a6c",
        "g": "#f2d14b",
        "heart": "#d9534f",
        "spleen": "#c49a6c",
        "solar_plexus": "#c49a6c",
        "sacral": "#d9534f",
        "root": "#c49a6c",
    }
)
"""The fill of a defined center (the usual palette: yellow, green, ochre, red)."""

CENTER_LABELS: Final[Mapping[Center, str]] = MappingProxyType(
    {
        "head": "Head",
        "ajna": "Ajna",
        "throat": "Throat",
        "g": "G",
        "heart": "Heart",
        "spleen": "Spleen",
        "solar_plexus": "Solar Plexus",
        "sacral": "Sacral",
        "root": "Root",
    }
)

PLANETS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "sun": ("Sun", "\u2609"),
        "earth": ("Earth", "\u2295"),
        "moon": ("Moon", "\u263d"),
        "north_node": ("North Node", "\u260a"),
        "south_node": ("South Node", "\u260b"),
        "mercury": ("Mercury", "\u263f"),
        "venus": ("Venus", "\u2640\ufe0e"),
        "mars": ("Mars", "\u2642\ufe0e"),
        "jupiter": ("Jupiter", "\u2643"),
        "saturn": ("Saturn", "\u2644"),
        "uranus": ("Uranus", "\u2645"),
        "neptune": ("Neptune", "\u2646"),
        "pluto": ("Pluto", "\u2647"),
    }
)
"""Name and astronomical glyph of each body, in the order of `BODIES`."""


# --- Geometry --------------------------------------------------------------------------


def _along(a: Point, b: Point, t: float) -> Point:
    """The point at fraction `t` of the way from `a` to `b`."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _square(left: float, top: float, size: float) -> tuple[Point, ...]:
    return ((left, top), (left + size, top), (left + size, top + size), (left, top + size))


_CX: Final = 400.0  # the graph's vertical axis

# Vertices of each center's outline, clockwise from the top (or top-left).
_HEAD = ((_CX, 30.0), (_CX + 45, 110.0), (_CX - 45, 110.0))
_AJNA = ((_CX - 45, 140.0), (_CX + 45, 140.0), (_CX, 220.0))
_THROAT = _square(_CX - 50, 255.0, 100.0)
_G = ((_CX, 401.0), (_CX + 42, 445.0), (_CX, 489.0), (_CX - 42, 445.0))
_HEART = ((508.0, 440.0), (548.0, 500.0), (470.0, 500.0))
_SPLEEN = ((185.0, 495.0), (280.0, 560.0), (185.0, 625.0))
_SOLAR_PLEXUS = ((615.0, 495.0), (615.0, 625.0), (520.0, 560.0))
_SACRAL = _square(_CX - 55, 560.0, 110.0)
_ROOT = _square(_CX - 55, 730.0, 110.0)

CENTER_SHAPES: Final[Mapping[Center, tuple[Point, ...]]] = MappingProxyType(
    {
        "head": _HEAD,
        "ajna": _AJNA,
        "throat": _THROAT,
        "g": _G,
        "heart": _HEART,
        "spleen": _SPLEEN,
        "solar_plexus": _SOLAR_PLEXUS,
        "sacral": _SACRAL,
        "root": _ROOT,
    }
)
"""The outline of each center: head and ajna triangles, squares, the G diamond, ..."""


def _gate_points() -> dict[int, Point]:
    head_l, head_r = _HEAD[2], _HEAD[1]
    ajna_l, ajna_r, ajna_tip = _AJNA
    g_top, g_right, g_bottom, g_left = _G
    heart_top, heart_r, heart_l = _HEART
    sp_top, sp_bottom, sp_tip = _SOLAR_PLEXUS
    spl_top, spl_tip, spl_bottom = _SPLEEN
    tx, ty = _THROAT[0]
    sx, sy = _SACRAL[0]
    rx, ry = _ROOT[0]
    return {
        # Head: the base, left to right.
        64: _along(head_l, head_r, 0.2), 61: _along(head_l, head_r, 0.5),
        63: _along(head_l, head_r, 0.8),
        # Ajna: the top edge, then the two sides and the tip.
        47: _along(ajna_l, ajna_r, 0.2), 24: _along(ajna_l, ajna_r, 0.5),
        4: _along(ajna_l, ajna_r, 0.8), 17: _along(ajna_l, ajna_tip, 0.55),
        11: _along(ajna_r, ajna_tip, 0.55), 43: ajna_tip,
        # Throat: top, left side, right side, bottom.
        62: (tx + 22, ty), 23: (tx + 50, ty), 56: (tx + 78, ty),
        16: (tx, ty + 22), 20: (tx, ty + 70),
        35: (tx + 100, ty + 17), 12: (tx + 100, ty + 40), 45: (tx + 100, ty + 65),
        31: (tx + 22, ty + 100), 8: (tx + 50, ty + 100), 33: (tx + 78, ty + 100),
        # G: the diamond's corners and edges.
        1: g_top, 7: _along(g_top, g_left, 0.45), 13: _along(g_top, g_right, 0.45),
        10: g_left, 25: g_right,
        15: _along(g_left, g_bottom, 0.55), 2: g_bottom, 46: _along(g_right, g_bottom, 0.55),
        # Heart: a small triangle right of the G.
        21: heart_top, 51: _along(heart_top, heart_l, 0.4),
        26: _along(heart_l, heart_r, 0.3), 40: _along(heart_l, heart_r, 0.8),
        # Spleen: upper edge from the outer corner to the tip, then the lower edge.
        48: _along(spl_top, spl_tip, 0.2), 57: _along(spl_top, spl_tip, 0.4),
        44: _along(spl_top, spl_tip, 0.6), 50: _along(spl_top, spl_tip, 0.8),
        18: _along(spl_bottom, spl_tip, 0.25), 28: _along(spl_bottom, spl_tip, 0.5),
        32: _along(spl_bottom, spl_tip, 0.75),
        # Solar plexus: the mirror image of the spleen.
        36: _along(sp_top, sp_tip, 0.2), 22: _along(sp_top, sp_tip, 0.4),
        37: _along(sp_top, sp_tip, 0.6), 6: _along(sp_top, sp_tip, 0.85),
        30: _along(sp_bottom, sp_tip, 0.25), 55: _along(sp_bottom, sp_tip, 0.5),
        49: _along(sp_bottom, sp_tip, 0.75),
        # Sacral: top, left side, right side, bottom.
        5: (sx + 27, sy), 14: (sx + 55, sy), 29: (sx + 83, sy),
        34: (sx, sy + 22), 27: (sx, sy + 75), 59: (sx + 110, sy + 65),
        42: (sx + 27, sy + 110), 3: (sx + 55, sy + 110), 9: (sx + 83, sy + 110),
        # Root: top, then the left and right sides, top to bottom.
        53: (rx + 27, ry), 60: (rx + 55, ry), 52: (rx + 83, ry),
        54: (rx, ry + 22), 38: (rx, ry + 55), 58: (rx, ry + 88),
        19: (rx + 110, ry + 22), 39: (rx + 110, ry + 55), 41: (rx + 110, ry + 88),
    }  # fmt: skip


GATE_POINTS: Final[Mapping[int, Point]] = MappingProxyType(_gate_points())
"""Where each gate's channels meet its center (on the center's outline)."""


def _centroid(points: Iterable[Point]) -> Point:
    pts = list(points)
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


_EDGE_INSET: Final = 11.0  # a gate on an edge: its number this far inside, square to the edge
_CORNER_INSET: Final = 14.0  # a gate on a corner: at least this far inside, on the bisector
_MARKER_CLEARANCE: Final = 9.5  # a marker's radius and rim, kept off the outline


def _label_point(center: Center, point: Point) -> Point:
    """Where a gate's number goes: just inside its center, clear of the outline."""
    shape = CENTER_SHAPES[center]
    x, y = point
    for i, (cx, cy) in enumerate(shape):
        if math.isclose(x, cx) and math.isclose(y, cy):  # on a corner: along its bisector
            (px, py), (nx, ny) = shape[i - 1], shape[(i + 1) % len(shape)]
            u = _unit(px - x, py - y)
            v = _unit(nx - x, ny - y)
            bx, by = _unit(u[0] + v[0], u[1] + v[1])
            half_angle = math.acos(max(-1.0, min(1.0, u[0] * v[0] + u[1] * v[1]))) / 2
            inset = max(_CORNER_INSET, _MARKER_CLEARANCE / math.sin(half_angle))
            return (x + bx * inset, y + by * inset)
    mx, my = _centroid(shape)
    for i, (ax, ay) in enumerate(shape):
        bx, by = shape[(i + 1) % len(shape)]
        ex, ey = bx - ax, by - ay
        if abs(ex * (y - ay) - ey * (x - ax)) < 1e-6 * math.hypot(ex, ey):  # on this edge
            nx, ny = _unit(-ey, ex)
            if nx * (mx - x) + ny * (my - y) < 0:
                nx, ny = -nx, -ny
            return (x + nx * _EDGE_INSET, y + ny * _EDGE_INSET)
    raise ValueError(f"gate point {point} is not on the outline of {center}")


def _unit(dx: float, dy: float) -> Point:
    length = math.hypot(dx, dy)
    return (dx / length, dy / length)


def _label_points() -> dict[int, Point]:
    return {gate: _label_point(GATE_CENTER[gate], p) for gate, p in GATE_POINTS.items()}


LABEL_POINTS: Final[Mapping[int, Point]] = MappingProxyType(_label_points())
"""Where each gate's number is written: just inside its center."""


# --- The chart's facts -----------------------------------------------------------------


def gate_activations(chart: Chart) -> dict[int, GateActivation]:
    """Each active gate and which side activates it: personality, design, or both."""
    personality = {getattr(chart.activations.personality, b).gate for b in BODIES}
    design = {getattr(chart.activations.design, b).gate for b in BODIES}
    out: dict[int, GateActivation] = {}
    for gate in sorted(personality | design):
        if gate in personality and gate in design:
            out[gate] = "both"
        else:
            out[gate] = "personality" if gate in personality else "design"
    return out


def _defined(chart: Chart) -> tuple[tuple[Channel, ...], frozenset[Center]]:
    """The defined channels and centers: the chart's own, or derived from its gates."""
    if chart.channels is not None and chart.centers is not None:
        defined = (CHANNELS_BY_KEY[key] for key in chart.channels)
        channels = tuple(sorted(defined, key=attrgetter("gates")))
        centers = frozenset(c for c in CENTERS if c in chart.centers.defined)
        return channels, centers
    graph = bodygraph(gate_activations(chart))
    return graph.channels, frozenset(graph.defined)


def _as_chart(chart: Chart | Mapping[str, Any]) -> Chart:
    if isinstance(chart, Chart):
        return chart
    return Chart.model_validate(chart)


# --- Writing SVG -----------------------------------------------------------------------

Attr = str | float | None


def _n(value: float) -> str:
    """A number with at most two decimals, no trailing zeros, never `-0`."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attrs(attributes: Mapping[str, Attr]) -> str:
    """Attributes in the given order; `data_x` is written `data-x`, `class_` is `class`."""
    parts = []
    for name, value in attributes.items():
        if value is None:
            continue
        key = name.rstrip("_").replace("_", "-")
        text = _n(value) if isinstance(value, (int, float)) else value
        parts.append(f" {key}={quoteattr(text)}")
    return "".join(parts)


def _open(tag: str, **attributes: Attr) -> str:
    return f"<{tag}{_attrs(attributes)}>"


def _el(tag: str, text: str | None = None, /, **attributes: Attr) -> str:
    """One element: empty (`<path .../>`) or with escaped text content."""
    if text is None:
        return f"<{tag}{_attrs(attributes)}/>"
    return f"<{tag}{_attrs(attributes)}>{escape(text)}</{tag}>"


def _line_path(a: Point, b: Point) -> str:
    return f"M{_n(a[0])} {_n(a[1])}L{_n(b[0])} {_n(b[1])}"


def _polygon_points(points: Iterable[Point]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _midpoint(channel: Channel) -> Point:
    return _along(GATE_POINTS[channel.gates[0]], GATE_POINTS[channel.gates[1]], 0.5)


def _side_color(activation: GateActivation) -> str:
    return PERSONALITY_COLOR if activation == "personality" else DESIGN_COLOR


def _half(gate: int, channel: Channel, activation: GateActivation, cls: str) -> list[str]:
    """The half of `channel` from `gate` to the middle, coloured by the gate's activation."""
    d = _line_path(GATE_POINTS[gate], _midpoint(channel))
    out = [_el("path", class_=cls, data_half=str(gate), d=d, fill="none",
               stroke=_side_color(activation), stroke_width=CHANNEL_WIDTH)]  # fmt: skip
    if activation == "both":  # red, with black dashes over it
        out.append(_el("path", class_=f"{cls}-stripe", d=d, fill="none",
                       stroke=PERSONALITY_COLOR, stroke_width=CHANNEL_WIDTH,
                       stroke_dasharray=STRIPE_DASH))  # fmt: skip
    return out


def _channel_activation(a: GateActivation, b: GateActivation) -> str:
    return a if a == b else "mixed"


def _slots() -> list[str]:
    """All 36 channels as empty tubes: a grey outline with a white core."""
    out = [_open("g", class_="channel-slots", fill="none")]
    for channel in CHANNELS:
        d = _line_path(GATE_POINTS[channel.gates[0]], GATE_POINTS[channel.gates[1]])
        out.append(_el("path", class_="channel-slot", data_slot=channel.key, d=d,
                       stroke=SLOT_OUTLINE, stroke_width=SLOT_WIDTH))  # fmt: skip
    for channel in CHANNELS:
        d = _line_path(GATE_POINTS[channel.gates[0]], GATE_POINTS[channel.gates[1]])
        out.append(_el("path", d=d, stroke=SLOT_FILL, stroke_width=SLOT_WIDTH - 3))
    out.append("</g>")
    return out


def _hanging(active: Mapping[int, GateActivation], defined: Iterable[Channel]) -> list[str]:
    """Active gates whose channel is not defined: their half of each of their channels."""
    defined_keys = {c.key for c in defined}
    out = [_open("g", class_="hanging-gates")]
    for channel in CHANNELS:
        if channel.key in defined_keys:
            continue
        for gate in channel.gates:
            if gate in active:
                out.extend(_half(gate, channel, active[gate], "gate-half"))
    out.append("</g>")
    return out


def _channels(active: Mapping[int, GateActivation], defined: Iterable[Channel]) -> list[str]:
    out = [_open("g", class_="channels")]
    for channel in defined:
        low, high = channel.gates
        kind = _channel_activation(active[low], active[high])
        out.append(_open("g", class_="channel", data_channel=channel.key, data_activation=kind))
        out.append(_el("title", f"Channel {channel.key}"))
        out.extend(_half(low, channel, active[low], "channel-half"))
        out.extend(_half(high, channel, active[high], "channel-half"))
        out.append("</g>")
    out.append("</g>")
    return out


def _centers(defined: frozenset[Center]) -> list[str]:
    out = [_open("g", class_="centers", stroke_width=1.5, stroke_linejoin="round")]
    for center in CENTERS:
        is_defined = center in defined
        out.append(_open("g", class_="center", data_center=center,
                         data_defined="true" if is_defined else "false"))  # fmt: skip
        state = "defined" if is_defined else "open"
        out.append(_el("title", f"{CENTER_LABELS[center]} center ({state})"))
        out.append(_el("polygon", points=_polygon_points(CENTER_SHAPES[center]),
                       fill=CENTER_COLORS[center] if is_defined else OPEN_FILL,
                       stroke=DEFINED_STROKE if is_defined else OPEN_STROKE))  # fmt: skip
        out.append("</g>")
    out.append("</g>")
    return out


def _gate_marker(gate: int, activation: GateActivation) -> list[str]:
    """A disc with the gate's number: black, red, or red and black halves for both sides."""
    x, y = LABEL_POINTS[gate]
    r = GATE_RADIUS
    out = [_open("g", class_="gate", data_gate=str(gate), data_activation=activation)]
    out.append(_el("title", f"Gate {gate} ({activation})"))
    if activation == "both":  # left half design (red), right half personality (black)
        top, bottom, radii = f"{_n(x)} {_n(y - r)}", f"{_n(x)} {_n(y + r)}", f"{_n(r)} {_n(r)}"
        out.append(_el("path", d=f"M{top}A{radii} 0 0 0 {bottom}Z", fill=DESIGN_COLOR))
        out.append(_el("path", d=f"M{top}A{radii} 0 0 1 {bottom}Z", fill=PERSONALITY_COLOR))
        out.append(_el("circle", cx=x, cy=y, r=r, fill="none", **_MARKER_RIM))
    else:
        out.append(_el("circle", cx=x, cy=y, r=r, fill=_side_color(activation), **_MARKER_RIM))
    out.append(_el("text", str(gate), x=x, y=y + 3, fill="#ffffff", font_weight="bold",
                   font_size=8.5))  # fmt: skip
    out.append("</g>")
    return out


_MARKER_RIM: Final[Mapping[str, Attr]] = MappingProxyType(
    {"stroke": "#ffffff", "stroke_width": 1.25}
)
"""A white rim, so that a red marker stands out on a red center."""


def _gates(active: Mapping[int, GateActivation], defined: frozenset[Center]) -> list[str]:
    """Every gate's number: grey for an inactive gate, a marker for an active one."""
    out = [_open("g", class_="gate-numbers", text_anchor="middle", font_size=8)]
    for center in CENTERS:
        color = INACTIVE_GATE_TEXT_DEFINED if center in defined else INACTIVE_GATE_TEXT
        for gate in sorted(CENTER_GATES[center]):
            if gate not in active:
                x, y = LABEL_POINTS[gate]
                out.append(_el("text", str(gate), class_="gate-number", x=x, y=y + 3, fill=color))
    out.append("</g>")
    out.append(_open("g", class_="gates", text_anchor="middle"))
    for gate in sorted(active):
        out.extend(_gate_marker(gate, active[gate]))
    out.append("</g>")
    return out


_COLUMN_TOP: Final = 96.0
_ROW_HEIGHT: Final = 52.0


def _activation_column(side: Side, activations: Activations) -> list[str]:
    """One side's 13 activations: Design on the left, Personality mirrored on the right."""
    title = "Design" if side == "design" else "Personality"
    left = side == "design"
    value_x, glyph_x, header_x = (22.0, 150.0, 86.0) if left else (778.0, 650.0, 714.0)
    anchor = "start" if left else "end"
    out = [_open("g", class_="activations", data_side=side, fill=_side_color(side))]
    out.append(_el("text", title, class_="activations-title", x=header_x, y=60,
                   text_anchor="middle", font_size=17, font_weight="bold"))  # fmt: skip
    for i, body in enumerate(BODIES):
        act: Activation = getattr(activations, body)
        name, glyph = PLANETS[body]
        value = f"{act.gate}.{act.line}"
        y = _COLUMN_TOP + i * _ROW_HEIGHT
        out.append(_open("g", class_="activation", data_side=side, data_planet=body,
                         data_value=value))  # fmt: skip
        out.append(_el("title", f"{title} {name}: gate {act.gate}, line {act.line}"))
        out.append(_el("text", glyph, class_="planet-glyph", x=glyph_x, y=y + 6,
                       text_anchor="middle", font_size=20))  # fmt: skip
        out.append(_el("text", value, class_="gate-line", x=value_x, y=y + 6,
                       text_anchor=anchor, font_size=18, font_weight="bold"))  # fmt: skip
        out.append(_el("text", name, class_="planet-name", x=value_x, y=y + 22,
                       text_anchor=anchor, font_size=10.5, fill=MUTED_TEXT))  # fmt: skip
        out.append("</g>")
    out.append("</g>")
    return out


def _legend() -> list[str]:
    out = [_open("g", class_="legend", font_size=12)]
    for side, x, anchor, label in (
        ("design", 22.0, "start", "Design: unconscious"),
        ("personality", 778.0, "end", "Personality: conscious"),
    ):
        step = 1 if anchor == "start" else -1
        color = DESIGN_COLOR if side == "design" else PERSONALITY_COLOR
        out.append(_el("circle", cx=x + 6 * step, cy=826, r=6, fill=color))
        out.append(_el("text", label, x=x + 18 * step, y=830, text_anchor=anchor, fill=color))
    out.append("</g>")
    return out


def _description(chart: Chart, defined: frozenset[Center], channels: Iterable[Channel]) -> str:
    parts = []
    if chart.type:
        parts.append(chart.type.replace("_", " ").capitalize())
    if chart.profile:
        parts.append(f"profile {chart.profile}")
    if chart.authority:
        parts.append(f"{chart.authority.replace('_', ' ')} authority")
    named = [CENTER_LABELS[c] for c in CENTERS if c in defined]
    keys = [c.key for c in channels]
    parts.append("defined centers: " + (", ".join(named) if named else "none"))
    parts.append("channels: " + (", ".join(keys) if keys else "none"))
    return "; ".join(parts) + "."


def render_bodygraph(chart: Chart | Mapping[str, Any]) -> str:
    """The chart's bodygraph as an SVG document (text; deterministic)."""
    model = _as_chart(chart)
    active = gate_activations(model)
    channels, defined = _defined(model)
    root = _open("svg", xmlns=SVG_NS, class_="bodygraph", viewBox=f"0 0 {WIDTH} {HEIGHT}",
                 width=WIDTH, height=HEIGHT, role="img", font_family="sans-serif")  # fmt: skip
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        root,
        _el("title", "Bodygraph"),
        _el("desc", _description(model, defined, channels)),
        _el("rect", class_="background", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#ffffff"),
        *_slots(),
        *_hanging(active, channels),
        *_channels(active, channels),
        *_centers(defined),
        *_gates(active, defined),
        *_activation_column("design", model.activations.design),
        *_activation_column("personality", model.activations.personality),
        *_legend(),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
