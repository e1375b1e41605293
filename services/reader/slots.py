"""The replica's LLM call slots (READER_CONCURRENCY), closed to new calls once it drains.

The consume loop holds more charts than there are slots (READER_PREFETCH);
those wait here for a slot. Once the replica drains (SIGTERM), no new call
starts: a chart that has no slot yet, or is still waiting for one, is
released at once (`Release`: a nak without delay), so another replica takes
it now instead of this one starting a call the drain timeout would cut.
Calls already running keep their slots and finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shared.bus.outcomes import Release


class CallSlots:
    def __init__(self, calls: int | None, stopping: asyncio.Event | None = None) -> None:
        self._free = asyncio.Semaphore(calls) if calls else None  # None: no cap
        self._stopping = stopping if stopping is not None else asyncio.Event()

    @property
    def draining(self) -> bool:
        return self._stopping.is_set()

    @asynccontextmanager
    async def call(self, *, releasable: bool = True) -> AsyncIterator[None]:
        """Hold a slot for one call.

        Raises `Release` (holding nothing) when the replica drains before the slot
        is granted. Not `releasable` (a message JetStream would not deliver again):
        waits for a slot even while draining, since a release would lose it.
        """
        await self._take(releasable)
        try:
            yield
        finally:
            if self._free is not None:
                self._free.release()

    async def _take(self, releasable: bool) -> None:
        free = self._free
        if not releasable:
            if free is not None:
                await free.acquire()
            return
        if self.draining:
            raise Release("draining: no new LLM call")
        if free is None:
            return
        if not free.locked():
            await free.acquire()  # a slot is free: granted without waiting
            return
        waiting = asyncio.ensure_future(free.acquire())
        drained = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiting, drained}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the handler itself was cancelled (the drain timed out)
            await _give_back(free, waiting)
            raise
        finally:
            drained.cancel()
        if self.draining:  # also when the slot came at the same moment: no new call
            await _give_back(free, waiting)
            raise Release("draining: no new LLM call")


async def _give_back(free: asyncio.Semaphore, waiting: asyncio.Future[Any]) -> None:
    """Stop waiting for a slot; one granted meanwhile goes back to the others."""
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    if not waiting.cancelled() and waiting.exception() is None:
        free.release()
