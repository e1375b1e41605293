"""The chart handler on its own: payloads in, payloads or outcomes out, no broker.

Each request comes with an in-memory context (`shared.bus.memory`), as the
consume loop would give it one; what the loop does with the results (wrap,
publish, ack, `reading.failed`) is tested in `tests/shared/test_bus.py`.
"""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.chart.handlers import handle_batch
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import Incoming
from shared.bus.memory import MemoryContext
from shared.bus.outcomes import Permanent
from shared.events.chart_calculated import ChartCalculated
from shared.events.reading_requested import ReadingRequested
from tests import factories as f


def incoming(*requests: ReadingRequested) -> list[Incoming[ReadingRequested]]:
    return [Incoming(r, MemoryContext(stream_seq=n)) for n, r in enumerate(requests, 1)]


def skipped() -> float:
    labels = {"service": "chart", "reason": "cancelled"}
    return REGISTRY.get_sample_value("hd_events_skipped_total", labels) or 0.0


async def test_each_request_gets_its_chart_or_the_reason_it_has_none() -> None:
    rid, bad = f.new_id(), f.new_id()
    fine = ReadingRequested(reading_id=rid, version=3, birth=f.birth(), agent="crisis",
                            language="de", user_id="u-1")  # fmt: skip
    too_early = ReadingRequested(reading_id=bad, birth=f.birth(date="1700-01-01"))
    ok, failed = await handle_batch(incoming(fine, too_early))
    assert isinstance(ok, list)
    [chart] = ok
    assert isinstance(chart, ChartCalculated)
    # What the reader needs travels with the chart, for the same version.
    assert (chart.reading_id, chart.version, chart.agent, chart.language, chart.user_id) == (
        rid, 3, "crisis", "de", "u-1")  # fmt: skip
    assert chart.chart.birth.date == "1948-04-09"
    assert chart.chart.activations.personality.sun.gate in range(1, 65)
    # The loop turns this into `reading.failed` (stage chart); the handler only says why.
    assert isinstance(failed, Permanent)
    assert failed.code == "date_out_of_range"


async def test_a_cancelled_version_is_skipped_and_a_later_one_charted() -> None:
    rid = f.new_id()
    cancelled = CancelledReadings()
    cancelled.add(rid, 1)
    before = skipped()
    first = ReadingRequested(reading_id=rid, version=1, birth=f.birth())
    regenerated = ReadingRequested(reading_id=rid, version=2, birth=f.birth())
    results = await handle_batch(incoming(first, regenerated), cancelled)
    assert results[0] == []  # acked with nothing published
    assert isinstance(results[1], list)
    assert [(c.reading_id, c.version) for c in results[1]] == [(rid, 2)]
    assert skipped() == before + 1
