"""The bus on a real NATS server: topology, dedup, and every outcome of the consume loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from shared import names
from shared.bus.consumer import ConsumeLoop, Incoming, Produced
from shared.bus.context import Context, Delivery
from shared.bus.outcomes import Permanent, Release, Transient
from shared.bus.publish import Publisher
from shared.bus.topology import (
    CHART,
    READER,
    STATUS,
    ConsumerSpec,
    ensure_consumer,
    ensure_stream,
    stream_config,
)
from shared.events.reading_delta import ReadingDelta
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import decode
from tests import factories as f
from tests.bus import stream_replicas

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

FAST = ConsumerSpec(
    durable="test-worker",
    filter_subjects=(names.subject_filter("reading.requested"),),
    ack_wait_s=3.0,
    max_deliver=3,
    max_ack_pending=100,
)


async def collect(js: JetStreamContext, subject: str, want: int, timeout: float = 10) -> list[Any]:
    """Read events on `subject` from the stream until `want` arrived."""
    sub = await js.subscribe(subject, ordered_consumer=True)
    out: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(out) < want:
                msg = await sub.next_msg(timeout=timeout)
                out.append(decode(msg.data))
    finally:
        await sub.unsubscribe()
    return out


async def test_topology_is_idempotent_and_matches_the_declaration(js: JetStreamContext) -> None:
    await ensure_stream(js, stream_replicas())
    await ensure_stream(js, stream_replicas())
    info = await js.stream_info(names.STREAM)
    declared = stream_config()
    assert info.config.subjects == declared.subjects
    assert info.config.retention == declared.retention
    assert info.config.duplicate_window == declared.duplicate_window
    assert info.config.num_replicas == stream_replicas()
    for spec in (CHART, READER, STATUS):
        await ensure_consumer(js, spec)
        await ensure_consumer(js, spec)
        live = await js.consumer_info(names.STREAM, spec.durable)
        assert live.config.ack_wait == spec.ack_wait_s
        assert live.config.max_deliver == spec.max_deliver
        assert live.config.max_ack_pending == spec.max_ack_pending


async def test_publishing_the_same_event_twice_stores_it_once(js: JetStreamContext) -> None:
    pub = Publisher(js, service="test")
    event = f.requested(f.new_id())
    first = await pub.publish(event)
    second = await pub.publish(event)
    assert not first.duplicate
    assert second.duplicate
    assert second.seq == first.seq
    info = await js.stream_info(names.STREAM)
    assert info.state.messages == 1


async def run_loop(js: JetStreamContext, handler: Any, *, batch: bool = False,
                   concurrency: int = 8) -> ConsumeLoop:  # fmt: skip
    await ensure_consumer(js, FAST)
    kwargs = {"batch_handler": handler} if batch else {"handler": handler}
    loop = ConsumeLoop(js, FAST, service="test", publisher=Publisher(js, service="test"),
                       concurrency=concurrency, batch_size=concurrency, fails_as="chart",
                       poll_s=0.2, **kwargs)  # fmt: skip
    loop.start()
    return loop


async def test_outputs_are_published_then_the_input_acked(js: JetStreamContext) -> None:
    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        return [f.calculated(data.reading_id).data]

    loop = await run_loop(js, handler)
    rids = [f.new_id() for _ in range(5)]
    pub = Publisher(js, service="test")
    for rid in rids:
        await pub.publish(f.requested(rid))
    out = await collect(js, names.subject_filter("chart.calculated"), 5)
    assert sorted(e.subject for e in out) == sorted(rids)
    # Wrapped by the loop: the publisher's source, the deterministic id.
    assert {e.source for e in out} == {"/services/test"}
    assert {e.id for e in out} == {f.calculated(rid).id for rid in rids}
    await loop.stop(5)
    info = await js.consumer_info(names.STREAM, FAST.durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_emitted_events_are_stored_before_the_returned_ones_and_live_text_is_sent(
    nc: NATS, js: JetStreamContext
) -> None:
    rid = f.new_id()
    pieces: list[bytes] = []

    async def heard(msg: Msg) -> None:
        pieces.append(msg.data)

    listening = await nc.subscribe(names.live_text_subject(rid), cb=heard)

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        await ctx.emit(f.started(data.reading_id).data)  # stored now, with the awaited ack
        await ctx.send_live(ReadingDelta(reading_id=data.reading_id, index=0, text="Hello"))
        return [f.generated(data.reading_id).data]

    await ensure_consumer(js, FAST)
    loop = ConsumeLoop(js, FAST, service="test", publisher=Publisher(js, service="reader"),
                       handler=handler, nc=nc, poll_s=0.2)  # fmt: skip
    loop.start()
    try:
        await Publisher(js, service="test").publish(f.requested(rid))
        out = await collect(js, names.STREAM_SUBJECTS[0], 3)
    finally:
        await loop.stop(5)
        await nc.flush()
        await listening.unsubscribe()
    assert [e.type for e in out] == ["reading.requested", "reading.started", "reading.generated"]
    assert [e.source for e in out[1:]] == ["/services/reader"] * 2
    assert [ReadingDelta.model_validate_json(p).text for p in pieces] == ["Hello"]


async def test_a_loop_that_fails_no_readings_terms_without_reading_failed(
    js: JetStreamContext,
) -> None:
    handled = asyncio.Event()

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        handled.set()
        raise Permanent("bad", "no retry helps")

    await ensure_consumer(js, FAST)
    loop = ConsumeLoop(js, FAST, service="test", publisher=Publisher(js, service="test"),
                       handler=handler, poll_s=0.2)  # fmt: skip
    loop.start()
    await Publisher(js, service="test").publish(f.requested(f.new_id()))
    await js.publish(names.subject_for("reading.requested", f.new_id()), b"\x00garbage")
    try:
        await asyncio.wait_for(handled.wait(), 10)
        async with asyncio.timeout(10):
            while True:
                info = await js.consumer_info(names.STREAM, FAST.durable)
                if not info.num_pending and not info.num_ack_pending:
                    break
                await asyncio.sleep(0.05)
    finally:
        await loop.stop(5)
    failed = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter("reading.failed")
    )
    assert not failed.state.subjects
    assert info.num_redelivered == 0  # termed, not retried


async def test_transient_failure_is_retried_after_its_delay(js: JetStreamContext) -> None:
    attempts: list[float] = []

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) == 1:
            raise Transient("busy", delay_s=0.5)
        return [f.calculated(data.reading_id).data]

    loop = await run_loop(js, handler)
    rid = f.new_id()
    await Publisher(js, service="test").publish(f.requested(rid))
    out = await collect(js, names.subject_filter("chart.calculated"), 1)
    await loop.stop(5)
    assert out[0].subject == rid
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.45  # the nak delay, not an immediate redelivery


async def test_permanent_failure_terms_and_publishes_reading_failed(js: JetStreamContext) -> None:
    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        raise Permanent("place_not_found", "no place called Atlantis")

    loop = await run_loop(js, handler)
    rid = f.new_id()
    await Publisher(js, service="test").publish(f.requested(rid, version=3))
    out = await collect(js, names.subject_filter("reading.failed"), 1)
    await loop.stop(5)
    assert out[0].subject == rid
    assert out[0].id == f"{rid}:reading.failed:v3"
    assert out[0].source == "/services/test"
    data = out[0].data
    assert (data.version, data.stage, data.code) == (3, "chart", "place_not_found")
    assert data.message == "no place called Atlantis"
    info = await js.consumer_info(names.STREAM, FAST.durable)
    assert info.num_ack_pending == 0 and info.num_redelivered == 0


async def test_running_out_of_deliveries_ends_as_retries_exhausted(js: JetStreamContext) -> None:
    calls = 0

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        nonlocal calls
        calls += 1
        raise Transient("still down", delay_s=0.1)

    loop = await run_loop(js, handler)
    await Publisher(js, service="test").publish(f.requested(f.new_id(), version=2))
    out = await collect(js, names.subject_filter("reading.failed"), 1)
    await loop.stop(5)
    assert (out[0].data.code, out[0].data.version) == ("retries_exhausted", 2)
    assert out[0].data.message == f"gave up after {FAST.max_deliver} attempts: still down"
    assert calls == FAST.max_deliver


async def test_a_released_event_is_handed_back_and_never_fails(js: JetStreamContext) -> None:
    seen: list[Delivery] = []

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        seen.append(ctx.delivery)
        raise Release("not for this worker")

    loop = await run_loop(js, handler)
    ack = await Publisher(js, service="test").publish(f.requested(f.new_id()))
    async with asyncio.timeout(15):
        while len(seen) < FAST.max_deliver:
            await asyncio.sleep(0.05)
    await loop.stop(5)
    # The handler sees which delivery it handles; each release brings the event back ...
    assert [(d.stream_seq, d.attempt, d.redelivered, d.last) for d in seen] == [
        (ack.seq, 1, False, False), (ack.seq, 2, True, False), (ack.seq, 3, True, True),
    ]  # fmt: skip
    # ... and none is a failure, not even the one on the last delivery.
    failed = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter("reading.failed")
    )
    assert not failed.state.subjects


async def test_poison_is_dead_lettered_at_once_and_does_not_block(js: JetStreamContext) -> None:
    seen: list[str] = []

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        seen.append(data.reading_id)
        return []

    loop = await run_loop(js, handler)
    bad_id = f.new_id()
    await js.publish(names.subject_for("reading.requested", bad_id), b"\x00garbage")
    good_id = f.new_id()
    await Publisher(js, service="test").publish(f.requested(good_id))
    out = await collect(js, names.subject_filter("reading.failed"), 1)
    await asyncio.sleep(0.3)
    await loop.stop(5)
    assert out[0].subject == bad_id and out[0].data.code == "undecodable"
    assert seen == [good_id]


async def test_in_flight_never_exceeds_the_concurrency(js: JetStreamContext) -> None:
    running = peak = done = 0

    async def handler(data: ReadingRequested, ctx: Context) -> Produced:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        done += 1
        return []

    loop = await run_loop(js, handler, concurrency=4)
    pub = Publisher(js, service="test")
    await asyncio.gather(*(pub.publish(f.requested(f.new_id())) for _ in range(40)))
    async with asyncio.timeout(15):
        while done < 40:
            await asyncio.sleep(0.05)
    await loop.stop(5)
    assert peak == 4


async def test_batch_handler_gets_stream_sequences(js: JetStreamContext) -> None:
    batches: list[list[int]] = []

    async def handler(batch: Sequence[Incoming[ReadingRequested]]) -> list[Produced]:
        batches.append([i.ctx.delivery.stream_seq for i in batch])
        return [[] for _ in batch]

    pub = Publisher(js, service="test")
    acks = [await pub.publish(f.requested(f.new_id())) for _ in range(10)]
    loop = await run_loop(js, handler, batch=True, concurrency=16)
    async with asyncio.timeout(10):
        while sum(len(b) for b in batches) < 10:
            await asyncio.sleep(0.05)
    await loop.stop(5)
    assert sorted(s for b in batches for s in b) == [a.seq for a in acks]
    assert len(batches) < 10  # taken in batches, not one by one


async def test_stop_releases_work_that_does_not_finish_in_time(js: JetStreamContext) -> None:
    started = asyncio.Event()
    second_run = asyncio.Event()

    async def stuck(data: ReadingRequested, ctx: Context) -> Produced:
        started.set()
        await asyncio.sleep(600)
        return []

    async def quick(data: ReadingRequested, ctx: Context) -> Produced:
        second_run.set()
        return []

    slow_ack = ConsumerSpec(durable="test-release", filter_subjects=FAST.filter_subjects,
                            ack_wait_s=60.0, max_deliver=3, max_ack_pending=100)  # fmt: skip
    await ensure_consumer(js, slow_ack)
    pub = Publisher(js, service="test")
    first = ConsumeLoop(js, slow_ack, service="test", publisher=pub, handler=stuck, poll_s=0.2)
    first.start()
    await pub.publish(f.requested(f.new_id()))
    await asyncio.wait_for(started.wait(), 10)
    await first.stop(0.2)
    # Released with a nak: another worker gets it now, not after the 60 s AckWait.
    second = ConsumeLoop(js, slow_ack, service="test", publisher=pub, handler=quick, poll_s=0.2)
    second.start()
    await asyncio.wait_for(second_run.wait(), 20)
    await second.stop(5)
