"""Handle batches of `reading.requested`: one vectorised chart computation per batch."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence

from services.chart.compute import compute_charts
from services.chart.errors import ChartError
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import BatchHandler, Incoming, Produced
from shared.bus.outcomes import Permanent
from shared.events.chart_calculated import ChartCalculated
from shared.events.reading_requested import ReadingRequested
from shared.logging import get_logger
from shared.metrics import EVENTS_SKIPPED

log = get_logger(__name__)

SKIPPED_CANCELLED = EVENTS_SKIPPED.labels("chart", "cancelled")

Result = Produced | BaseException


async def handle_batch(
    batch: Sequence[Incoming[ReadingRequested]], cancelled: CancelledReadings | None = None
) -> list[Result]:
    """Compute the batch's charts; a cancelled request is acked with nothing published."""
    skip = [
        cancelled is not None and cancelled.is_cancelled(i.data.reading_id, i.data.version)
        for i in batch
    ]
    live = [i.data for i, skipped in zip(batch, skip, strict=True) if not skipped]
    computed = iter(await _compute(live) if live else [])
    results: list[Result] = []
    for i, skipped in zip(batch, skip, strict=True):
        if skipped:
            i.ctx.log.info("reading cancelled; skipped", version=i.data.version)
            SKIPPED_CANCELLED.inc()
            results.append([])
        else:
            results.append(next(computed))
    return results


def batch_handler(cancelled: CancelledReadings) -> BatchHandler[ReadingRequested]:
    """`handle_batch` that skips the requests `cancelled` knows about."""
    return functools.partial(handle_batch, cancelled=cancelled)


async def _compute(requests: Sequence[ReadingRequested]) -> list[Result]:
    started = time.perf_counter()
    # In a worker thread: the event loop keeps fetching, heartbeating and serving /metrics.
    charts = await asyncio.to_thread(compute_charts, [r.birth for r in requests])
    per_chart = (time.perf_counter() - started) / max(1, len(requests))
    results: list[Result] = []
    for req, chart in zip(requests, charts, strict=True):
        if isinstance(chart, ChartError):
            results.append(Permanent(chart.code, chart.message))
            continue
        results.append([ChartCalculated(
            reading_id=req.reading_id, version=req.version, agent=req.agent,
            language=req.language, user_id=req.user_id, chart=chart, duration_s=per_chart,
            priority=req.priority,
        )])  # fmt: skip
    log.debug("chart batch", size=len(requests), per_chart_ms=round(per_chart * 1000, 3))
    return results
