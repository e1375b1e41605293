"""chart_properties: the derived fields of a chart, in the contract's shape."""

from __future__ import annotations

from services.chart.bodygraph import chart_properties
from shared.events.chart import BODIES, Chart
from shared.hd.properties import STRATEGY_OF_TYPE


def test_chart_properties_have_the_contract_shape() -> None:
    # Made-up gates in BODIES order: personality Sun 51 / Earth 57, design Sun 61 / Earth 62.
    personality = [51, 57, 10, 1, 2, 21, 20, 36, 25, 43, 23, 64, 38]
    design = [61, 62, 34, 43, 23, 42, 3, 12, 10, 41, 7, 39, 40]
    assert len(personality) == len(design) == len(BODIES)
    fields = chart_properties(personality, design, 5, 1)
    assert fields["profile"] == "5/1"
    assert fields["incarnation_cross"] == {"angle": "left_angle", "gates": [51, 57, 61, 62]}
    assert fields["active_gates"] == sorted(set(personality + design))
    assert fields["channels"] == [
        "10-20", "10-34", "10-57", "20-34", "20-57", "23-43", "25-51", "34-57",
    ]  # fmt: skip
    assert fields["type"] == "manifesting_generator" and fields["definition"] == "single"
    assert fields["strategy"] == STRATEGY_OF_TYPE["manifesting_generator"]
    assert fields["centers"] == {
        "defined": ["ajna", "throat", "g", "heart", "spleen", "sacral"],
        "open": ["head", "solar_plexus", "root"],
    }
    assert fields.keys() <= Chart.model_fields.keys()
