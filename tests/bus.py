"""Which NATS the tests run on: one server, or a 3-node cluster (`TEST_NATS_CLUSTER=3`).

With `TEST_NATS_CLUSTER=3` the session fixture starts three clustered
`nats-server` processes instead of one, and every stream, KV bucket and
service of the run uses `STREAM_REPLICAS=3` (set once, at configuration,
so subprocesses inherit it): the production shape, where JetStream answers
some requests differently (a repeated `Nats-Msg-Id` is a duplicate ack, not
an error).
"""

from __future__ import annotations

import contextlib
import os

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared import names
from shared.bus.topology import ensure_stream


def cluster_size() -> int:
    """Nodes of the test broker: 1, or the size `TEST_NATS_CLUSTER` asks for."""
    return int(os.environ.get("TEST_NATS_CLUSTER") or "1")


def stream_replicas() -> int:
    """Replicas of the stream and KV buckets in this run (`STREAM_REPLICAS`, as services read)."""
    return int(os.environ.get("STREAM_REPLICAS") or "1")


async def fresh_stream(js: JetStreamContext) -> None:
    """Delete the pipeline stream and declare it afresh, empty, at this run's replicas."""
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(names.STREAM)
    await ensure_stream(js, stream_replicas())
    # A stream deleted and re-created at once can still hand back old messages on a
    # slow disk: purge, and make sure the test starts from nothing.
    await js.purge_stream(names.STREAM)
    info = await js.stream_info(names.STREAM)
    assert info.state.messages == 0 and info.config.name == names.STREAM
    assert info.config.num_replicas == stream_replicas()
