"""Coalesced deltas on a real JetStream: fewer events than chunks, and a retried
attempt's text never mixes with the first attempt's."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext

from services.reader.deltas import DeltaCoalescer
from shared import names
from shared.bus.publish import Publisher
from shared.events.registry import decode

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


async def deltas_on_bus(js: JetStreamContext, rid: str) -> list[tuple[str, int, str]]:
    sub = await js.subscribe(names.subject_for("reading.delta", rid), ordered_consumer=True)
    out: list[tuple[str, int, str]] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                return out
            d = decode(msg.data).data
            out.append((d.attempt, d.index, d.text))
    finally:
        await sub.unsubscribe()


async def test_chunks_are_coalesced(js: JetStreamContext) -> None:
    pub = Publisher(js, service="reader")
    coalescer = DeltaCoalescer(pub, "r-coalesce", 1, interval_s=60, max_chars=10)
    for chunk in ["abc", "def", "ghi", "jkl", "mno"]:
        await coalescer.add(chunk)
    await coalescer.flush()
    got = await deltas_on_bus(js, "r-coalesce")
    # Chunks taken together go out together: one event per 10 characters at most.
    assert "".join(t for _, _, t in got) == "abcdefghijklmno"
    assert [i for _, i, _ in got] == list(range(len(got)))
    assert len(got) < 5


async def test_a_retried_attempt_is_not_swallowed_or_mixed(js: JetStreamContext) -> None:
    pub = Publisher(js, service="reader")
    first = DeltaCoalescer(pub, "r-retry", 1, interval_s=0)
    for chunk in ["The first ", "attempt died"]:
        await first.add(chunk)
        await asyncio.sleep(0.05)  # chunks apart in time: a delta each
    second = DeltaCoalescer(pub, "r-retry", 1, interval_s=0)  # redelivered: starts over
    for chunk in ["A second ", "attempt wrote ", "this"]:
        await second.add(chunk)
        await asyncio.sleep(0.05)
    await second.flush()
    got = await deltas_on_bus(js, "r-retry")
    assert first.attempt != second.attempt
    # Every delta of both attempts is on the bus (none dropped as a duplicate id) ...
    assert len(got) == 5
    # ... and a client that keeps only the latest attempt's text sees the second one whole.
    latest = [t for a, _, t in got if a == got[-1][0]]
    assert "".join(latest) == "A second attempt wrote this"


async def test_chunks_of_one_network_read_become_one_delta(js: JetStreamContext) -> None:
    pub = Publisher(js, service="reader")
    coalescer = DeltaCoalescer(pub, "r-one-read", 1)
    for chunk in ["An answer ", "that came ", "all at once."]:  # no await between them
        await coalescer.add(chunk)
    await coalescer.flush()
    got = await deltas_on_bus(js, "r-one-read")
    assert [t for _, _, t in got] == ["An answer that came all at once."]


async def test_the_first_chunk_is_published_without_waiting_for_more(
    js: JetStreamContext,
) -> None:
    pub = Publisher(js, service="reader")
    coalescer = DeltaCoalescer(pub, "r-first", 1, interval_s=60)
    await coalescer.add("First words")
    async with asyncio.timeout(5):  # long before the 60 s interval, and with no flush
        while not await deltas_on_bus(js, "r-first"):
            pass
    await coalescer.add(" and more")
    coalescer.abandon()  # cancelled: what was not published yet never is
    await asyncio.sleep(0.2)
    assert [t for _, _, t in await deltas_on_bus(js, "r-first")] == ["First words"]
