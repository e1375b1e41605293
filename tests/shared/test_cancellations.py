"""`CancelledReadings` on a real NATS server: catch-up, live cancels, versions, reconnects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext

from shared import names
from shared.bus.cancellations import CancelledReadings
from shared.bus.publish import Publisher
from tests import factories as f

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


@pytest.fixture
async def publisher(js: JetStreamContext) -> Publisher:
    return Publisher(js, service="tests")


@pytest.fixture
async def watcher(js: JetStreamContext) -> AsyncIterator[CancelledReadings]:
    w = CancelledReadings(idle_heartbeat_s=0.5)
    yield w
    await w.stop()


async def eventually(check: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_cancels_before_start_are_known_once_start_returns(
    js: JetStreamContext, publisher: Publisher, watcher: CancelledReadings
) -> None:
    a, b = f.new_id(), f.new_id()
    await publisher.publish(f.cancelled(a, version=2))
    await publisher.publish(f.cancelled(b))
    await publisher.publish(f.requested(a, version=3))  # other events are not read
    await watcher.start(js)
    assert watcher.caught_up and len(watcher) == 2
    # A cancel covers its version and every lower one; a regeneration runs.
    assert watcher.is_cancelled(a, 1) and watcher.is_cancelled(a, 2)
    assert not watcher.is_cancelled(a, 3)
    assert watcher.is_cancelled(b, 1) and not watcher.is_cancelled(f.new_id(), 1)


async def test_cancels_after_start_arrive_and_wake_watchers(
    js: JetStreamContext, publisher: Publisher, watcher: CancelledReadings
) -> None:
    await watcher.start(js)  # an empty stream: nothing to wait for
    assert watcher.caught_up and len(watcher) == 0
    rid = f.new_id()
    with watcher.watch(rid, 2) as v2, watcher.watch(rid, 3) as v3:
        await publisher.publish(f.cancelled(rid, version=2))
        await asyncio.wait_for(v2.wait(), timeout=5)
        assert not v3.is_set()
    assert watcher.cancelled_version(rid) == 2
    # An older (or repeated) cancel never lowers what is known.
    await publisher.publish(f.cancelled(rid, version=1))
    other = f.new_id()
    await publisher.publish(f.cancelled(other))
    await eventually(lambda: watcher.is_cancelled(other, 1))
    assert watcher.cancelled_version(rid) == 2
    with watcher.watch(rid, 1) as already:
        assert already.is_set()


async def test_the_consumer_comes_back_after_it_is_lost(
    js: JetStreamContext, publisher: Publisher, watcher: CancelledReadings
) -> None:
    """Server side loss of the ephemeral consumer (a broker restart): nats-py re-creates it."""
    first = f.new_id()
    await publisher.publish(f.cancelled(first))
    await watcher.start(js)
    assert watcher._sub is not None
    consumer = watcher._sub._consumer
    await js.delete_consumer(names.STREAM, consumer)
    later = f.new_id()
    await publisher.publish(f.cancelled(later))
    await eventually(lambda: watcher.is_cancelled(later, 1), timeout=15)
    assert watcher.is_cancelled(first, 1) and len(watcher) == 2


def test_memory_is_bounded_by_count_and_by_age() -> None:
    now = time.time()
    w = CancelledReadings(max_readings=3, max_age_s=60.0)
    for i in range(5):
        w.add(f"r{i}", 1, at=now - 50 + i)
    assert len(w) == 3 and not w.is_cancelled("r1", 1) and w.is_cancelled("r4", 1)
    # Past the age limit (the stream's max_age: nothing they cancel can come any more).
    w.add("r4", 2, at=now + 20)
    w.add("r5", 1, at=now + 20)
    w._trim(now + 75)
    assert len(w) == 2 and w.cancelled_version("r4") == 2 and w.is_cancelled("r5", 1)
