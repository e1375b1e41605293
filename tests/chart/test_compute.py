"""compute_charts: batching, error isolation and the chart's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from skyfield.timelib import julian_day

from services.chart.compute import ENGINE_VERSION, _birth_times, compute_chart, compute_charts
from services.chart.errors import ChartError
from shared.events.birth import BirthInput
from shared.events.chart import BODIES, Chart
from shared.hd.derive import bodygraph
from shared.hd.gates import GATE_ORDER
from shared.hd.profiles import PROFILE_ANGLES

MONTREAL = {"latitude": 45.5017, "longitude": -73.5673, "name": "Montreal"}


def birth(date: str, time: str, place: dict[str, Any] | None = None, **extra: Any) -> BirthInput:
    """Build a BirthInput (Montreal unless a place is given)."""
    data = {"date": date, "time": time, "place": place or MONTREAL, **extra}
    return BirthInput.model_validate(data)


def parse_utc(text: str) -> datetime:
    """Parse a `...Z` timestamp."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_spec_example_chart() -> None:
    chart = compute_chart(birth("1948-04-09", "00:14", id="ra"))
    assert chart.id == "ra"
    assert chart.birth.utc == "1948-04-09T05:14:00Z" and chart.birth.timezone == "America/Toronto"
    # SPEC section 6 shows 13:28:24; UTC before 1972 and delta T allow a second or two.
    gap = parse_utc(chart.design.utc) - parse_utc("1948-01-12T13:28:24Z")
    assert abs(gap.total_seconds()) <= 2
    sun = chart.activations.personality.sun
    assert (sun.gate, sun.line) == (51, 5) and sun.longitude == pytest.approx(19.3, abs=0.05)
    assert chart.engine.ephemeris == "DE440" and chart.engine.node == "true"
    assert chart.engine.version == ENGINE_VERSION
    assert (chart.type, chart.authority, chart.profile) == ("manifestor", "splenic", "5/1")
    assert chart.channels == ["10-20", "10-57", "20-57", "23-43", "25-51"]
    assert chart.centers is not None
    assert chart.centers.open == ["head", "solar_plexus", "sacral", "root"]
    assert chart.incarnation_cross is not None
    assert chart.incarnation_cross.gates == [51, 57, 61, 62]


def test_all_26_activations_and_the_design_arc() -> None:
    chart = compute_chart(birth("1991-08-13", "13:31", {"latitude": 12.9629, "longitude": 77.5775}))
    for side in (chart.activations.personality, chart.activations.design):
        assert [name for name, _ in side] == list(BODIES)
        for _, act in side:
            assert 0.0 <= act.longitude < 360.0
        for a, b in ((side.sun, side.earth), (side.north_node, side.south_node)):
            assert (GATE_ORDER.index(b.gate) - GATE_ORDER.index(a.gate)) % 64 == 32
            assert (a.line, a.color, a.tone, a.base) == (b.line, b.color, b.tone, b.base)
    arc = chart.activations.personality.sun.longitude - chart.activations.design.sun.longitude
    assert arc % 360 == pytest.approx(88.0, abs=2e-6)
    days = (parse_utc(chart.birth.utc) - parse_utc(chart.design.utc)).total_seconds() / 86400
    assert 85.5 < days < 92.5


def test_a_bad_birth_does_not_affect_the_others() -> None:
    births = [
        birth("1948-04-09", "00:14", id="a"),
        birth("1799-12-31", "12:00", id="old"),
        birth("1990-01-01", "12:00", {"name": "Xyzzy Nowhereville"}, id="lost"),
        birth("2016-07-10", "11:00", {"latitude": 39.7661, "longitude": -105.0772}, id="b"),
    ]
    results = compute_charts(births)
    assert [r.code if isinstance(r, ChartError) else r.id for r in results] == [
        "a",
        "date_out_of_range",
        "place_not_found",
        "b",
    ]
    alone = compute_chart(births[3])
    assert results[3] == alone


def test_batch_equals_single_charts() -> None:
    # 1800 to 2199: births before and after 1972 (UT1 and UTC) in one batch.
    births = [birth(f"{1800 + 21 * i}-{1 + i % 12:02d}-15", f"{i % 24:02d}:07") for i in range(20)]
    batch = compute_charts(births)
    for b, chart in zip(births[::3], batch[::3], strict=True):
        assert chart == compute_chart(b)


def test_civil_time_is_ut1_before_1972_and_utc_from_then() -> None:
    instants = [
        datetime(1800, 1, 1, 12, tzinfo=UTC),
        datetime(1948, 4, 9, 5, 14, tzinfo=UTC),
        datetime(1971, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1972, 1, 1, tzinfo=UTC),
        datetime(2016, 7, 10, 17, tzinfo=UTC),
        datetime(2199, 12, 31, 3, tzinfo=UTC),
    ]
    t = _birth_times(instants)
    calendar = np.array([julian_day(d.year, d.month, d.day) - 0.5 for d in instants])
    seconds_of_day = np.array([d.hour * 3600 + d.minute * 60 + d.second for d in instants])
    tt_minus_civil = (t.whole - calendar) * 86400.0 + t.tt_fraction * 86400.0 - seconds_of_day
    # Delta T (TT - UT1) before 1972; 32.184 s + TAI-UTC (10 s, 36 s, 37 s from 2017) after.
    delta_t = [18.37, 28.33, 42.14]
    assert tt_minus_civil[:3] == pytest.approx(delta_t, abs=0.02)
    assert tt_minus_civil[3:] == pytest.approx([42.184, 68.184, 69.184], abs=1e-4)
    assert np.all(np.abs(t.delta_t[:3] - tt_minus_civil[:3]) < 1e-3)


def test_empty_batch_and_raising_single() -> None:
    assert compute_charts([]) == []
    with pytest.raises(ChartError) as caught:
        compute_chart(birth("2200-01-01", "12:00"))
    assert caught.value.as_dict()["code"] == "date_out_of_range"


def test_derived_fields_follow_the_activations() -> None:
    births = [
        birth(f"{1905 + 3 * i}-{1 + i % 12:02d}-{1 + i % 28:02d}", "06:45") for i in range(48)
    ]
    for chart in compute_charts(births):
        assert isinstance(chart, Chart)
        p, d = chart.activations.personality, chart.activations.design
        gates = {a.gate for _, a in p} | {a.gate for _, a in d}
        graph = bodygraph(gates)
        assert chart.active_gates == sorted(gates)
        assert chart.channels == [c.key for c in graph.channels]
        assert chart.centers is not None and chart.incarnation_cross is not None
        assert (chart.centers.defined, chart.centers.open) == (
            list(graph.defined),
            list(graph.open),
        )
        assert (chart.type, chart.strategy) == (graph.type, graph.strategy)
        assert (chart.authority, chart.definition) == (graph.authority, graph.definition)
        assert chart.profile == f"{p.sun.line}/{d.sun.line}"
        assert chart.incarnation_cross.angle == PROFILE_ANGLES[chart.profile]
        assert chart.incarnation_cross.gates == [p.sun.gate, p.earth.gate, d.sun.gate, d.earth.gate]
