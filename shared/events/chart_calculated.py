"""`chart.calculated`: the chart is computed; the reader takes it."""

from __future__ import annotations

from pydantic import Field

from shared.events.base import ReadingEvent
from shared.events.chart import Chart
from shared.events.reading_requested import ReadingOptions

TYPE = "chart.calculated"
SCHEMA_VERSION = "1.1"  # 1.1: `priority` (from ReadingOptions)


class ChartCalculated(ReadingEvent, ReadingOptions):
    chart: Chart
    duration_s: float = Field(ge=0, description="Compute time of the chart.")
