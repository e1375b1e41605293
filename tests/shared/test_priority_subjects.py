"""Priority subjects on the bus: the status consumer and the SSE follower see every priority,
a lookup finds a reading's latest event at any priority, and each stage's lanes split the
work by priority. Real NATS (also on a 3-node cluster)."""

from __future__ import annotations

import dataclasses

import pytest
from nats.js import JetStreamContext

from shared import names
from shared.bus.lookup import last_event
from shared.bus.publish import Publisher
from shared.bus.topology import CHART, STATUS, ensure_consumer, ensure_stream, stream_config
from shared.events import reading_requested
from shared.events.registry import decode
from tests import factories as f
from tests.bus import stream_replicas

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


async def test_every_priority_reaches_the_status_consumer_and_the_sse_follower(
    js: JetStreamContext,
) -> None:
    pub = Publisher(js, service="tests")
    normal, high = f.new_id(), f.new_id()
    sent = [f.requested(normal), f.requested(high, priority="high"),
            f.calculated(high, priority="high"), f.generated(high)]  # fmt: skip
    for event in sent:
        await pub.publish(event)
    await ensure_consumer(js, STATUS)
    sub = await js.pull_subscribe_bind(durable=STATUS.durable, stream=names.STREAM)
    msgs = await sub.fetch(10, timeout=2)
    assert [decode(m.data).id for m in msgs] == [e.id for e in sent]
    assert [m.subject.split(".")[0] for m in msgs] == ["hd", "hd-high", "hd-high", "hd"]
    follower = await js.subscribe(names.EVERY_EVENT, stream=names.STREAM, ordered_consumer=True)
    try:
        seen = [decode((await follower.next_msg(timeout=2)).data).id for _ in sent]
    finally:
        await follower.unsubscribe()
    assert seen == [e.id for e in sent]


async def test_the_latest_request_is_found_whatever_its_priority(js: JetStreamContext) -> None:
    pub = Publisher(js, service="tests")
    rid = f.new_id()
    await pub.publish(f.requested(rid))
    await pub.publish(f.requested(rid, version=2, priority="high"))
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None and stored.event.data.version == 2
    await pub.publish(f.requested(rid, version=3))
    stored = await last_event(js, reading_requested.TYPE, rid)
    assert stored is not None and stored.event.data.version == 3


async def test_each_lane_holds_only_its_priority(js: JetStreamContext) -> None:
    pub = Publisher(js, service="tests")
    await ensure_consumer(js, CHART)
    for i in range(5):
        await pub.publish(f.requested(f.new_id(), priority="high" if i % 2 else "normal"))
    pending = {
        lane.durable: (await js.consumer_info(names.STREAM, lane.durable)).num_pending
        for lane in CHART.lanes
    }
    assert pending == {names.CHART_HIGH_CONSUMER: 2, names.CHART_CONSUMER: 3}


async def test_an_upgrade_adds_the_high_subjects_and_lanes_and_keeps_each_position(
    js: JetStreamContext,
) -> None:
    """A stream and consumers declared before priorities (subjects `hd.>` only, `status`
    filtering `hd.>`): the new declarations add `hd-high.>`, `chart-high`, `reader-high`
    and the status filter; the old consumers keep their names and what they had pending."""
    await js.delete_stream(names.STREAM)
    before = stream_config(stream_replicas())
    before.subjects = ["hd.>"]
    await js.add_stream(before)
    old_status = dataclasses.replace(STATUS, filter_subjects=("hd.>",))
    for spec in (old_status, dataclasses.replace(CHART, high=None)):
        await js.add_consumer(names.STREAM, config=spec.config())
    pub = Publisher(js, service="tests")
    await pub.publish(f.requested(f.new_id()))

    await ensure_stream(js, stream_replicas())
    for spec in (STATUS, CHART):
        await ensure_consumer(js, spec)
    await pub.publish(f.requested(f.new_id(), priority="high"))
    info = await js.stream_info(names.STREAM)
    assert info.config.subjects == names.STREAM_SUBJECTS
    status = await js.consumer_info(names.STREAM, STATUS.durable)
    assert sorted(status.config.filter_subjects or []) == sorted(names.STREAM_SUBJECTS)
    assert status.num_pending == 2  # the old event and the new high one
    pending = {
        lane.durable: (await js.consumer_info(names.STREAM, lane.durable)).num_pending
        for lane in CHART.lanes
    }
    assert pending == {names.CHART_HIGH_CONSUMER: 1, names.CHART_CONSUMER: 1}
