"""Whether the stream can take events now: what `/readyz` asks the bus.

Connected is not enough on a cluster. A stream leader that lost its
followers goes on answering stream info for a while, but can store nothing:
the stream is ready only when its leader and a quorum of its replicas are
current (`StreamInfo.cluster`, as the leader reports it).
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from shared import names

TIMEOUT_S = 1.0  # how long /readyz waits for JetStream before saying it is not ready


async def stream_unavailable(js: JetStreamContext) -> str | None:
    """Why the stream cannot store events right now, or None when it can."""
    try:
        async with asyncio.timeout(TIMEOUT_S):
            info = await js.stream_info(names.STREAM)
    except Exception as exc:
        return f"JetStream stream {names.STREAM} unavailable: {str(exc) or type(exc).__name__}"
    cluster, replicas = info.cluster, info.config.num_replicas or 1
    if replicas == 1 or cluster is None:
        return None
    if not cluster.leader:
        return f"JetStream stream {names.STREAM} unavailable: no leader"
    current = 1 + sum(bool(p.current) and not p.offline for p in cluster.replicas or [])
    if current <= replicas // 2:
        return (f"JetStream stream {names.STREAM} unavailable: no quorum "
                f"({current} of {replicas} replicas current)")  # fmt: skip
    return None
