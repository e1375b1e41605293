"""A reading whose last delivery dies with its worker still ends, as `reading.failed`."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from services.status.projection.advisories import MaxDeliveriesWatch
from shared import names
from shared.bus.publish import Publisher
from shared.bus.topology import ConsumerSpec, ensure_consumer
from shared.events.registry import decode
from tests import factories as f

pytestmark = pytest.mark.integration


async def test_exhausted_deliveries_become_reading_failed(nc: NATS, js: JetStreamContext) -> None:
    pub = Publisher(js, service="test")
    watch = MaxDeliveriesWatch(nc, js, pub)
    await watch.start()
    # The chart consumer, made impatient: one delivery, one second to ack it.
    spec = ConsumerSpec(durable=names.CHART_CONSUMER,
                        filter_subjects=(names.subject_filter("reading.requested"),),
                        ack_wait_s=1.0, max_deliver=1, max_ack_pending=10)  # fmt: skip
    await ensure_consumer(js, spec)
    rid = f.new_id()
    await pub.publish(f.requested(rid))
    sub = await js.pull_subscribe_bind(durable=spec.durable, stream=names.STREAM)
    msgs = await sub.fetch(1, timeout=5)
    assert len(msgs) == 1  # taken, and never acknowledged: the worker "died"

    failed = await js.subscribe(names.subject_filter("reading.failed"), ordered_consumer=True)
    try:
        msg = await asyncio.wait_for(failed.next_msg(timeout=15), 20)
    finally:
        await failed.unsubscribe()
        await watch.stop()
    event = decode(msg.data)
    assert event.subject == rid
    assert (event.data.stage, event.data.code) == ("chart", "retries_exhausted")
