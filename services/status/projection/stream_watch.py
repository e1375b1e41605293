"""How full the stream is: its bytes and its byte limit, as gauges for the alert.

The stream refuses new events once it holds its `max_bytes` (DiscardNew): from then
on intake answers 503 to every request until events age out (`STREAM_MAX_AGE_S`).
Status polls the stream's info every `INTERVAL_S` and exports `hd_stream_bytes` and
`hd_stream_max_bytes`; `HdStreamNearlyFull` fires well before the limit. Every status
replica exports the same figures (the alert takes their max).
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from shared import names
from shared.logging import get_logger
from shared.metrics import STREAM_BYTES, STREAM_MAX_BYTES
from shared.tasks import stop_task

log = get_logger(__name__)

INTERVAL_S = 15.0
TIMEOUT_S = 5.0


class StreamWatch:
    def __init__(self, js: JetStreamContext, interval_s: float = INTERVAL_S) -> None:
        self._js = js
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._every_interval(), name="stream-watch")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def poll(self) -> int:
        """Read the stream's size and limit into the gauges; return its bytes."""
        # asyncio.timeout, not wait_for: on Python 3.11, wait_for can swallow a cancel that
        # comes as the request completes, and stop() would then wait for ever.
        async with asyncio.timeout(TIMEOUT_S):
            info = await self._js.stream_info(names.STREAM)
        size = int(info.state.bytes or 0)
        STREAM_BYTES.labels(names.STREAM).set(size)
        limit = info.config.max_bytes
        STREAM_MAX_BYTES.labels(names.STREAM).set(-1 if limit is None else limit)
        return size

    async def _every_interval(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception as exc:  # the bus away for a moment: the gauges keep their value
                log.info("stream size not read", error=str(exc) or type(exc).__name__)
            await asyncio.sleep(self._interval_s)
