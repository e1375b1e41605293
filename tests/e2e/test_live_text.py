"""Live text on the real services: pieces travel outside the stream, and what users see
does not get worse.

- SSE clients on either of two status replicas see the text grow, piece by piece;
- a client that reconnects mid-reading with its `Last-Event-ID` gets the text so far
  and then the rest, and ends with exactly the durable text;
- a status replica restarted mid-reading loses no reading and serves the text so far
  (asked of the reader writing it);
- the stream holds no piece of text: one `reading.generated` per reading.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from nats.js import JetStreamContext

from hdq.sse import SseEvent, SseParser, read_events
from shared import names
from shared.embedded.process import free_port
from shared.events import reading_delta, reading_generated
from shared.launcher import ServiceProcess, Stack
from tests.e2e.helpers import post_reading, wait_status
from tests.e2e.test_reader_llm import llm_stack
from tests.reader.fake_openai import Script

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.cluster]

# About 8 s of text in 80 pieces of 12 characters: a reading is mid-stream for long enough
# (a status replica restarts meanwhile).
TEXT = "Steady words arrive one after another, each in its time. " * 16
SLOW = Script(text=TEXT, chunk_size=12, first_token_delay_s=0.3, chunk_delay_s=0.1)


@pytest.fixture
async def stack(nats_url, database_url, tmp_path: Path, js) -> AsyncIterator[Stack]:
    async with llm_stack(nats_url, database_url, tmp_path, SLOW) as st:
        yield st


@pytest.fixture
async def second_status(stack: Stack) -> AsyncIterator[str]:
    port = free_port()
    svc = ServiceProcess("status", {**stack.services["status"].env, "STATUS_PORT": str(port)},
                         port)  # fmt: skip
    svc.start()
    try:
        async with asyncio.timeout(60):
            while not await asyncio.to_thread(svc.ready):
                await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(svc.stop, 10)


class Follower:
    """An SSE client as a browser's EventSource is: it keeps the text placed by offset and
    reconnects with the last event id it saw."""

    def __init__(self, http: aiohttp.ClientSession, base: str, rid: str) -> None:
        self.http, self.url = http, f"{base}/v1/readings/{rid}/events"
        self.parser = SseParser()
        self.text, self.attempt = "", ""
        self.texts: list[str] = []  # the text as shown after each piece
        self.events: list[SseEvent] = []
        self.final: str | None = None

    async def follow(self, *, pieces: int | None = None) -> None:
        """Read until the reading ends (or, with `pieces`, until that many arrived)."""
        headers = {"Last-Event-ID": self.parser.last_event_id or ""}
        async with self.http.get(self.url, headers=headers) as resp:
            assert resp.status == 200, resp.status
            async for ev in read_events(resp, self.parser):
                self.events.append(ev)
                self._take(ev)
                if self.final is not None:
                    return
                if pieces is not None and len(self.texts) >= pieces:
                    return  # the connection drops here, mid-reading

    def _take(self, ev: SseEvent) -> None:
        data: dict[str, Any] = json.loads(ev.data)
        if ev.event == reading_delta.TYPE:
            if data["attempt"] != self.attempt:
                self.attempt, self.text = data["attempt"], ""
            assert data["offset"] <= len(self.text), "a gap in the text"
            self.text = self.text[: data["offset"]] + data["text"]
            self.texts.append(self.text)
        elif ev.event == reading_generated.TYPE:
            self.final = data["text"]


async def test_clients_on_both_replicas_see_the_text_grow(
    stack: Stack, second_status: str, http: aiohttp.ClientSession, js: JetStreamContext
) -> None:
    intake = f"http://127.0.0.1:{stack.settings.intake_port}"
    status = f"http://127.0.0.1:{stack.settings.status_port}"
    rid = await post_reading(http, intake)
    followers = [Follower(http, base, rid) for base in (status, second_status, status)]
    await asyncio.gather(*(f.follow() for f in followers))
    for f in followers:
        assert f.final == TEXT and f.text == TEXT
        assert len(f.texts) >= 5, "the text did not grow piece by piece"
        assert all(a == b[: len(a)] for a, b in zip(f.texts, f.texts[1:], strict=False))
    stored = await js.stream_info(names.STREAM, subjects_filter=f"hd.*.*.{rid}")
    per_type = {parsed[0]: n for subject, n in (stored.state.subjects or {}).items()
                if (parsed := names.parse_subject(subject))}  # fmt: skip
    assert reading_delta.TYPE not in per_type and per_type[reading_generated.TYPE] == 1


async def test_a_client_that_reconnects_mid_reading_gets_the_text_so_far_then_the_rest(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    intake = f"http://127.0.0.1:{stack.settings.intake_port}"
    status = f"http://127.0.0.1:{stack.settings.status_port}"
    rid = await post_reading(http, intake)
    f = Follower(http, status, rid)
    await f.follow(pieces=3)  # then the connection drops
    seen = f.text
    assert seen and f.parser.last_event_id and f.parser.last_event_id.count(".") == 2
    await asyncio.sleep(1.0)  # the reader writes on meanwhile
    resumed_at = len(f.events)
    await f.follow()  # reconnects with Last-Event-ID, like EventSource
    again = [e for e in f.events[resumed_at:] if e.event == reading_delta.TYPE]
    first = json.loads(again[0].data)
    assert first["offset"] == len(seen), "resumed from elsewhere than where it stopped"
    assert len(first["text"]) > 12, "the text written meanwhile did not come at once"
    assert f.final == TEXT and f.text == TEXT


async def test_a_status_replica_restarted_mid_reading_loses_nothing(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    intake = f"http://127.0.0.1:{stack.settings.intake_port}"
    status = f"http://127.0.0.1:{stack.settings.status_port}"
    rid = await post_reading(http, intake)
    f = Follower(http, status, rid)
    await f.follow(pieces=2)
    stack.services["status"].kill()  # SIGKILL mid-reading
    stack.services["status"].start()
    async with asyncio.timeout(60):
        while not await asyncio.to_thread(stack.services["status"].ready):
            await asyncio.sleep(0.05)
    late = Follower(http, status, rid)  # a new client, on the restarted replica
    await asyncio.gather(f.follow(), late.follow())
    assert f.final == TEXT and f.text == TEXT
    assert late.final == TEXT and late.text == TEXT
    assert late.texts and len(late.texts[0]) > 24, "no text so far for a client that came late"
    body = await wait_status(http, status, rid, {"completed"})
    assert body["reading"]["text"] == TEXT
