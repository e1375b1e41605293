"""The chart service skips a cancelled request (acked, nothing published), not a later version."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from services.chart.handlers import batch_handler
from shared import names
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import ConsumeLoop
from shared.bus.publish import Publisher
from shared.bus.topology import CHART, ensure_consumer
from shared.events.registry import decode
from tests import factories as f

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


def skipped() -> float:
    labels = {"service": "chart", "reason": "cancelled"}
    return REGISTRY.get_sample_value("hd_events_skipped_total", labels) or 0.0


async def test_a_cancelled_request_is_acked_with_no_chart_and_a_later_version_runs(
    js: JetStreamContext,
) -> None:
    pub = Publisher(js, service="tests")
    cancelled_rid, other = f.new_id(), f.new_id()
    await pub.publish(f.cancelled(cancelled_rid, version=1))
    cancelled = CancelledReadings()
    await cancelled.start(js)
    await ensure_consumer(js, CHART)
    loop = ConsumeLoop(js, CHART, service="chart", publisher=pub,
                       batch_handler=batch_handler(cancelled), fails_as="chart")  # fmt: skip
    before = skipped()
    loop.start()
    try:
        await pub.publish(f.requested(cancelled_rid, version=1))
        await pub.publish(f.requested(cancelled_rid, version=2))  # a regeneration
        await pub.publish(f.requested(other))
        async with asyncio.timeout(30):
            while True:
                info = await js.consumer_info(names.STREAM, CHART.durable)
                if not info.num_pending and not info.num_ack_pending and info.delivered.stream_seq:
                    break
                await asyncio.sleep(0.05)
    finally:
        await loop.stop(5)
        await cancelled.stop()
    sub = await js.subscribe(names.STREAM_SUBJECTS[0], ordered_consumer=True)
    seen = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                break
            event = decode(msg.data)
            seen.append((event.type, event.subject, event.data.version))
    finally:
        await sub.unsubscribe()
    outputs = {s for s in seen if s[0] not in ("reading.requested", "reading.cancelled")}
    assert outputs == {
        ("chart.calculated", cancelled_rid, 2),
        ("chart.calculated", other, 1),
    }
    assert skipped() == before + 1
