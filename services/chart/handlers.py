"""Handle batches of `reading.requested`: one vectorised chart computation per batch."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from typing import Any

from services.chart.compute import compute_charts
from services.chart.errors import ChartError
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import BatchHandler, Delivered, Outputs
from shared.bus.outcomes import Permanent
from shared.events.chart_calculated import ChartCalculated
from shared.events.envelope import Envelope
from shared.events.reading_failed import ReadingFailed
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.logging import get_logger
from shared.metrics import EVENTS_SKIPPED

log = get_logger(__name__)

SOURCE = "/services/chart"
SKIPPED_CANCELLED = EVENTS_SKIPPED.labels("chart", "cancelled")


async def handle_batch(
    batch: Sequence[Delivered], cancelled: CancelledReadings | None = None
) -> list[Outputs | BaseException]:
    """Compute the batch's charts; a cancelled request is acked with nothing published."""
    skip = [
        cancelled is not None
        and cancelled.is_cancelled(d.event.data.reading_id, d.event.data.version)
        for d in batch
    ]
    live = [d for d, skipped in zip(batch, skip, strict=True) if not skipped]
    computed = iter(await _compute(live) if live else [])
    results: list[Outputs | BaseException] = []
    for d, skipped in zip(batch, skip, strict=True):
        if skipped:
            req: ReadingRequested = d.event.data
            log.info("reading cancelled; skipped", reading_id=req.reading_id, version=req.version)
            SKIPPED_CANCELLED.inc()
            results.append([])
        else:
            results.append(next(computed))
    return results


def batch_handler(cancelled: CancelledReadings) -> BatchHandler:
    """`handle_batch` that skips the requests `cancelled` knows about."""
    return functools.partial(handle_batch, cancelled=cancelled)


async def _compute(batch: Sequence[Delivered]) -> list[Outputs | BaseException]:
    requests: list[ReadingRequested] = [d.event.data for d in batch]
    started = time.perf_counter()
    # In a worker thread: the event loop keeps fetching, heartbeating and serving /metrics.
    charts = await asyncio.to_thread(compute_charts, [r.birth for r in requests])
    per_chart = (time.perf_counter() - started) / max(1, len(requests))
    results: list[Outputs | BaseException] = []
    for req, chart in zip(requests, charts, strict=True):
        if isinstance(chart, ChartError):
            results.append(Permanent(chart.code, chart.message))
            continue
        out = ChartCalculated(
            reading_id=req.reading_id, version=req.version, agent=req.agent,
            language=req.language, user_id=req.user_id, chart=chart, duration_s=per_chart,
            priority=req.priority,
        )  # fmt: skip
        results.append([make_event(out, source=SOURCE)])
    log.debug("chart batch", size=len(requests), per_chart_ms=round(per_chart * 1000, 3))
    return results


def failure(reading_id: str, version: int, code: str, message: str) -> Envelope[Any]:
    return make_event(
        ReadingFailed(
            reading_id=reading_id, version=version, stage="chart", code=code, message=message
        ),
        source=SOURCE,
    )
