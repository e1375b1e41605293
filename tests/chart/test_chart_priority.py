"""The chart stage takes high-priority requests before a backlog of normal ones.

Real NATS, the real consume loop and the chart service's batch handler, one
request at a time: the order is read back from the stream (the order in which
`chart.calculated` events were stored), not from a clock.
"""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext

from services.chart.handlers import batch_handler
from shared import names
from shared.bus.cancellations import CancelledReadings
from shared.bus.consumer import ConsumeLoop
from shared.bus.publish import Publisher
from shared.bus.topology import CHART, ensure_consumer
from shared.events.registry import decode
from tests import factories as f

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

NORMAL, HIGH = 20, 2


async def calculated_in_stream_order(js: JetStreamContext) -> list[tuple[str, str]]:
    """(reading id, priority) of every stored `chart.calculated`, in stream order."""
    sub = await js.subscribe(names.EVERY_EVENT, stream=names.STREAM, ordered_consumer=True)
    out: list[tuple[str, str]] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                return out
            event = decode(msg.data)
            if event.type == "chart.calculated":
                prefix = msg.subject.split(".", 1)[0]
                assert (
                    prefix == names.subject_for(event.type, "x", event.data.priority).split(".")[0]
                ), "the chart carries its request's priority, on its priority's subject"
                out.append((event.subject, event.data.priority))
    finally:
        await sub.unsubscribe()


async def test_high_requests_overtake_a_backlog_of_normal_ones(js: JetStreamContext) -> None:
    pub = Publisher(js, service="tests")
    normal = [f.new_id() for _ in range(NORMAL)]
    high = [f.new_id() for _ in range(HIGH)]
    for rid in normal:
        await pub.publish(f.requested(rid))
    for rid in high:  # queued after the whole backlog
        await pub.publish(f.requested(rid, priority="high"))
    cancelled = CancelledReadings()
    await cancelled.start(js)
    await ensure_consumer(js, CHART)
    loop = ConsumeLoop(js, CHART, service="chart", publisher=pub, concurrency=1, batch_size=1,
                       batch_handler=batch_handler(cancelled), fails_as="chart")  # fmt: skip
    loop.start()
    try:
        async with asyncio.timeout(60):
            while True:
                infos = [await js.consumer_info(names.STREAM, s.durable) for s in CHART.lanes]
                if all(not i.num_pending and not i.num_ack_pending for i in infos):
                    break
                await asyncio.sleep(0.05)
    finally:
        await loop.stop(5)
        await cancelled.stop()
    order = await calculated_in_stream_order(js)
    assert sorted(rid for rid, _ in order) == sorted(normal + high), "every request charted once"
    # One slot: the high requests come first although the normal ones were queued before.
    assert order[:HIGH] == [(rid, "high") for rid in high]
    assert [rid for rid, _ in order[HIGH:]] == normal  # the normal ones keep their order
