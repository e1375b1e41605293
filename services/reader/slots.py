"""The replica's LLM call slots (READER_CONCURRENCY), closed to new calls once it drains.

The consume loop holds more charts than there are slots (READER_PREFETCH);
those wait here for a slot. Once the replica drains (SIGTERM), no new call
starts: a chart that has no slot yet, or is still waiting for one, is
released at once (`Release`: a nak without delay), so another replica takes
it now instead of this one starting a call the drain timeout would cut.
Calls already running keep their slots and finish.

A free slot goes to a waiting high-priority chart before any normal one
(`PrioritySlots`), so high work held by the replica overtakes the normal work
waiting beside it; among equals, first come first served.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from shared.bus.outcomes import Release
from shared.metrics import CALL_SLOT_WAITERS
from shared.names import NORMAL, PRIORITIES


class PrioritySlots:
    """A semaphore whose waiters are served by priority (`PRIORITIES` order), then FIFO."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {p: deque() for p in PRIORITIES}

    def locked(self) -> bool:
        return self._free <= 0

    def waiting(self, priority: str) -> int:
        return sum(1 for w in self._waiters[priority] if not w.done())

    async def acquire(self, priority: str = NORMAL) -> None:
        if self._free > 0 and not any(self.waiting(p) for p in self._ahead_of(priority)):
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiters[priority]
        queue.append(waiter)
        self._gauge(priority)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted, then cancelled: the slot goes to the next one
            raise
        finally:
            if waiter in queue:
                queue.remove(waiter)
            self._gauge(priority)

    def release(self) -> None:
        self._free += 1
        for priority in PRIORITIES:
            queue = self._waiters[priority]
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    self._free -= 1
                    waiter.set_result(None)
                    self._gauge(priority)
                    return
            self._gauge(priority)

    def _ahead_of(self, priority: str) -> tuple[str, ...]:
        """The priorities served before `priority`, and `priority` itself (FIFO)."""
        return PRIORITIES[: PRIORITIES.index(priority) + 1]

    def _gauge(self, priority: str) -> None:
        CALL_SLOT_WAITERS.labels(priority).set(self.waiting(priority))


class CallSlots:
    def __init__(self, calls: int | None, stopping: asyncio.Event | None = None) -> None:
        self._free = PrioritySlots(calls) if calls else None  # None: no cap
        self._stopping = stopping if stopping is not None else asyncio.Event()

    @property
    def draining(self) -> bool:
        return self._stopping.is_set()

    @asynccontextmanager
    async def call(self, *, releasable: bool = True, priority: str = NORMAL) -> AsyncIterator[None]:
        """Hold a slot for one call.

        Raises `Release` (holding nothing) when the replica drains before the slot
        is granted. Not `releasable` (a message JetStream would not deliver again):
        waits for a slot even while draining, since a release would lose it. A waiting
        `high` chart gets the next free slot before any waiting `normal` one.
        """
        await self._take(releasable, priority)
        try:
            yield
        finally:
            if self._free is not None:
                self._free.release()

    async def _take(self, releasable: bool, priority: str) -> None:
        free = self._free
        if not releasable:
            if free is not None:
                await free.acquire(priority)
            return
        if self.draining:
            raise Release("draining: no new LLM call")
        if free is None:
            return
        if not free.locked():
            await free.acquire(priority)  # a slot is free: granted without waiting
            return
        waiting = asyncio.ensure_future(free.acquire(priority))
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


async def _give_back(free: PrioritySlots, waiting: asyncio.Future[Any]) -> None:
    """Stop waiting for a slot; one granted meanwhile goes back to the others."""
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    if not waiting.cancelled() and waiting.exception() is None:
        free.release()
