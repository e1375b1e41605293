"""Call slots by priority: a freed slot goes to a waiting high chart first, then FIFO."""

from __future__ import annotations

import asyncio

from services.reader.slots import CallSlots


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_freed_slot_goes_to_high_before_normal_charts_that_waited_longer() -> None:
    slots = CallSlots(1)
    order: list[str] = []
    gates = {name: asyncio.Event() for name in ("first", "n1", "n2", "h1", "h2")}

    async def call(name: str, priority: str) -> None:
        async with slots.call(priority=priority):
            order.append(name)
            await gates[name].wait()

    tasks = [asyncio.create_task(call("first", "normal"))]
    await settle()
    for name, priority in (("n1", "normal"), ("h1", "high"), ("n2", "normal"), ("h2", "high")):
        tasks.append(asyncio.create_task(call(name, priority)))
        await settle()
    assert order == ["first"]  # one slot: the others wait
    for name in ("first", "h1", "h2", "n1"):
        gates[name].set()
        await settle()
    gates["n2"].set()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    assert order == ["first", "h1", "h2", "n1", "n2"]


async def test_a_cancelled_waiter_gives_its_turn_to_the_next() -> None:
    slots = CallSlots(1)
    order: list[str] = []
    release_first = asyncio.Event()

    async def call(name: str, priority: str) -> None:
        async with slots.call(priority=priority):
            order.append(name)
            if name == "first":
                await release_first.wait()

    first = asyncio.create_task(call("first", "normal"))
    await settle()
    high = asyncio.create_task(call("high", "high"))
    normal = asyncio.create_task(call("normal", "normal"))
    await settle()
    high.cancel()  # e.g. the drain ran out of time while it waited
    await settle()
    release_first.set()
    async with asyncio.timeout(5):
        await asyncio.gather(first, normal)
    assert high.cancelled()
    assert order == ["first", "normal"]
