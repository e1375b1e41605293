"""Call slots: once the replica drains, a chart waiting for a slot is released, none lost."""

from __future__ import annotations

import asyncio

import pytest

from services.reader.slots import CallSlots
from shared.bus.outcomes import Release


async def started(task: asyncio.Task[None]) -> None:
    """Let `task` run up to where it waits."""
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()


async def test_a_chart_waiting_for_a_slot_is_released_when_the_replica_drains() -> None:
    stopping = asyncio.Event()
    slots = CallSlots(1, stopping)
    running_may_end = asyncio.Event()
    calls: list[str] = []

    async def call(name: str) -> None:
        async with slots.call():
            calls.append(name)
            await running_may_end.wait()

    running = asyncio.create_task(call("running"))
    await started(running)
    waiting = asyncio.create_task(call("waiting"))
    await started(waiting)
    stopping.set()
    with pytest.raises(Release):
        async with asyncio.timeout(5):
            await waiting  # at once: the running call still holds the only slot
    assert not running.done()
    running_may_end.set()
    await running  # the call that had a slot finishes normally
    with pytest.raises(Release):
        await call("after the drain began")
    assert calls == ["running"]


async def test_on_its_last_delivery_a_chart_waits_for_a_slot_even_while_draining() -> None:
    stopping = asyncio.Event()
    slots = CallSlots(1, stopping)
    running_may_end = asyncio.Event()
    calls: list[str] = []

    async def call(name: str, releasable: bool) -> None:
        async with slots.call(releasable=releasable):
            calls.append(name)
            await running_may_end.wait()

    running = asyncio.create_task(call("running", True))
    await started(running)
    last = asyncio.create_task(call("last delivery", False))  # a release would lose it
    await started(last)
    stopping.set()
    await started(last)
    running_may_end.set()
    await asyncio.gather(running, last)
    assert calls == ["running", "last delivery"]


async def test_a_chart_cancelled_while_waiting_takes_no_slot_with_it() -> None:
    slots = CallSlots(1)
    running_may_end = asyncio.Event()

    async def call() -> None:
        async with slots.call():
            await running_may_end.wait()

    running = asyncio.create_task(call())
    await started(running)
    waiting = asyncio.create_task(call())  # cancelled while waiting: the drain timed out
    await started(waiting)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    running_may_end.set()
    await running
    # The slot is free again: the next call gets it.
    async with asyncio.timeout(1), slots.call():
        pass
