"""Live text on real NATS: pieces go out on core NATS (never into the stream), coalesced,
placed by offset, held until the reading is announced, and the text so far is answered by
the replica writing it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from services.reader.deltas import DeltaCoalescer
from shared import names
from shared.bus.live import SendPiece, ask_so_far, read_piece, send_piece, serve_so_far
from shared.events.reading_delta import ReadingDelta

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


@asynccontextmanager
async def heard(nc: NATS, rid: str) -> AsyncIterator[list[ReadingDelta]]:
    """Every piece sent about `rid` while inside, as a status replica hears them."""
    pieces: list[ReadingDelta] = []

    async def on_piece(msg: Msg) -> None:
        piece = read_piece(msg.data)
        assert piece is not None
        pieces.append(piece)

    sub = await nc.subscribe(names.live_text_subject(rid), cb=on_piece)
    await nc.flush()
    try:
        yield pieces
    finally:
        await nc.flush()
        await asyncio.sleep(0.1)  # the last pieces on their way back to us
        await sub.unsubscribe()


def on(nc: NATS) -> SendPiece:
    """Send pieces on this connection, as the consume loop's context does."""
    return functools.partial(send_piece, nc)


def text_of(pieces: list[ReadingDelta]) -> str:
    """What a client that places pieces by offset shows."""
    text = ""
    for p in pieces:
        assert p.offset <= len(text), "a piece beyond the text so far: a gap"
        text = text[: p.offset] + p.text
    return text


async def test_chunks_are_coalesced_and_placed_by_offset(nc: NATS, js: JetStreamContext) -> None:
    async with heard(nc, "r-coalesce") as pieces:
        coalescer = DeltaCoalescer(on(nc), "r-coalesce", 1, interval_s=60, max_chars=10)
        for chunk in ["abc", "def", "ghi", "jkl", "mno"]:
            await coalescer.add(chunk)
        await coalescer.flush()
    # Chunks taken together go out together: one piece per 10 characters at most.
    assert text_of(pieces) == "abcdefghijklmno"
    assert len(pieces) < 5
    assert [p.index for p in pieces] == list(range(len(pieces)))
    # Nothing of it is stored: the stream holds no event for live text.
    assert (await js.stream_info(names.STREAM)).state.messages == 0


async def test_a_retried_attempt_starts_over_and_never_mixes(nc: NATS) -> None:
    async with heard(nc, "r-retry") as pieces:
        first = DeltaCoalescer(on(nc), "r-retry", 1, interval_s=0)
        for chunk in ["The first ", "attempt died"]:
            await first.add(chunk)
        second = DeltaCoalescer(on(nc), "r-retry", 1, interval_s=0)  # redelivered: starts over
        for chunk in ["A second ", "attempt wrote ", "this"]:
            await second.add(chunk)
        await second.flush()
    assert first.attempt != second.attempt
    latest = [p for p in pieces if p.attempt == second.attempt]
    assert latest[0].offset == 0
    assert text_of(latest) == "A second attempt wrote this"


async def test_chunks_of_one_network_read_become_one_piece(nc: NATS) -> None:
    async with heard(nc, "r-one-read") as pieces:
        coalescer = DeltaCoalescer(on(nc), "r-one-read", 1)
        await coalescer.add("An answer ")  # the first chunk goes out at once
        for chunk in ["that came ", "all at once."]:  # then nothing is due before flush
            await coalescer.add(chunk)
        await coalescer.flush()
    assert [p.text for p in pieces] == ["An answer ", "that came all at once."]


async def test_text_waits_for_the_announcement_and_stops_when_abandoned(nc: NATS) -> None:
    announced: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    async with heard(nc, "r-first") as pieces:
        coalescer = DeltaCoalescer(on(nc), "r-first", 1, interval_s=0, after=announced)
        await coalescer.add("First words")
        await nc.flush()
        assert coalescer.so_far() is None  # nobody may see text of a reading not started
        announced.set_result(None)
        await coalescer.add(", then more")
        await nc.flush()
        await asyncio.sleep(0.1)
        assert text_of(pieces) == "First words, then more"
        coalescer.abandon()  # cancelled: what was not sent yet never is
        await coalescer.add(" and never this")
        await coalescer.flush()
    assert text_of(pieces) == "First words, then more"


async def test_the_text_so_far_is_answered_by_the_replica_writing_it(nc: NATS) -> None:
    writing = DeltaCoalescer(on(nc), "r-so-far", 2, interval_s=60)
    for chunk in ["Half of ", "a reading"]:
        await writing.add(chunk)
    known = {"r-so-far": writing}
    other_replica = await serve_so_far(nc, lambda rid: None)  # writes nothing: stays silent
    this_replica = await serve_so_far(nc, lambda rid: known[rid].so_far() if rid in known else None)
    try:
        so_far = await ask_so_far(nc, "r-so-far")
        assert so_far is not None
        assert (so_far.text, so_far.offset, so_far.version, so_far.attempt) == (
            "Half of a reading", 0, 2, writing.attempt)  # fmt: skip
        assert await ask_so_far(nc, "r-nobody-writes", timeout_s=0.2) is None
    finally:
        await other_replica.unsubscribe()
        await this_replica.unsubscribe()
