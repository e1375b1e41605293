"""Publishing through a leader election: the publisher sends again while the stream cannot
answer, within its budget, and every event is stored exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from shared import names
from shared.bus.connect import server_list
from shared.bus.publish import Publisher
from shared.bus.topology import ensure_stream
from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.events import chart_calculated
from shared.metrics import PUBLISH_RETRIES
from tests import factories as f

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_cluster(
    tmp_path: Path,
) -> AsyncIterator[tuple[EmbeddedNatsCluster, JetStreamContext]]:
    """A cluster of its own: the test kills the stream's leader."""
    cluster = EmbeddedNatsCluster(tmp_path / "nats", size=3)
    await asyncio.to_thread(cluster.start)
    nc = await nats.connect(server_list(cluster.url), max_reconnect_attempts=-1)
    try:
        js = nc.jetstream()
        await ensure_stream(js, 3)
        yield cluster, js
    finally:
        await nc.close()
        await asyncio.to_thread(cluster.stop)


async def test_events_published_while_the_leader_dies_are_all_stored_once(own_cluster) -> None:
    cluster, js = own_cluster
    info = await js.stream_info(names.STREAM)
    assert info.cluster is not None and info.cluster.leader
    publisher = Publisher(js, service="test", timeout_s=30)
    events = [f.calculated(f"r{i}") for i in range(20)]
    retried = PUBLISH_RETRIES.labels("test", chart_calculated.TYPE)
    before = retried._value.get()

    await asyncio.to_thread(cluster.node(info.cluster.leader).kill)
    await asyncio.gather(*(publisher.publish(e) for e in events))
    await asyncio.gather(*(publisher.publish(e) for e in events))  # again: dropped as duplicates

    assert retried._value.get() > before, "the election was never hit: nothing was retried"
    stored = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter(chart_calculated.TYPE)
    )
    assert stored.state.subjects == {names.subject_for(chart_calculated.TYPE, f"r{i}"): 1
                                     for i in range(20)}  # fmt: skip
