"""Follow one reading to its end: SSE while it runs, then the final document.

The events stream drives the progress and the text as it is written; a dropped
connection is resumed with `Last-Event-ID`. When the stream ends (a terminal
event, or 204 because it already ended) the reading is fetched; if the
projection has not caught up yet, or the stream could not say (an older
version's end), it is polled until it reaches a terminal state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hdq.client import Client, retry_delay
from hdq.errors import ApiError, Unreachable
from hdq.sse import SseEvent, SseParser, read_events
from shared.states import BY_EVENT, TERMINAL_EVENTS, TERMINAL_STATUSES

# What each event moves a reading to: the table the status service projects with.
STAGE_OF_EVENT: dict[str, tuple[str, int]] = {t: (s.status, s.rank) for t, s in BY_EVENT.items()}
MAX_FAILURES = 8  # consecutive connection failures (or empty streams) before giving up
POLL_INTERVAL_S = 0.5


class Observer(Protocol):
    """What the renderers implement."""

    def stage(self, status: str, progress: int) -> None: ...

    def text(self, text: str) -> None: ...  # the whole text so far

    def note(self, message: str) -> None: ...


@dataclass
class _Tracker:
    version: int
    observer: Observer
    text: str = ""
    attempt: str = ""
    ended: bool = False

    def handle(self, ev: SseEvent) -> None:
        if ev.event not in STAGE_OF_EVENT and ev.event != "reading.delta":
            return  # `hello` and anything this client does not know
        try:
            data = ev.json()
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        version = int(data.get("version") or 1)
        if version < self.version:
            return  # history of an earlier version
        if version > self.version:  # regenerated meanwhile: follow the newest
            self.version, self.text = version, ""
            self.observer.text("")
        if ev.event == "reading.delta":
            attempt = str(data.get("attempt") or "")
            if attempt != self.attempt:  # the reader started over: drop the earlier text
                self.attempt, self.text = attempt, ""
            offset = data.get("offset")
            offset = offset if isinstance(offset, int) and offset >= 0 else len(self.text)
            if offset <= len(self.text):  # the text so far, then this piece
                self.text = self.text[:offset] + str(data.get("text") or "")
                self.observer.text(self.text)
            return
        status, progress = STAGE_OF_EVENT[ev.event]
        self.observer.stage(status, progress)
        if ev.event == "reading.generated" and isinstance(data.get("text"), str):
            self.observer.text(data["text"])
        if ev.event in TERMINAL_EVENTS:
            self.ended = True


async def follow(
    client: Client,
    reading_id: str,
    *,
    version: int,
    events_url: str | None,
    observer: Observer,
    poll_interval_s: float = POLL_INTERVAL_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> dict[str, Any]:
    """Follow the reading until version `version` (or a newer one) ends; its final document."""
    tracker = _Tracker(version, observer)
    parser = SseParser()
    url = events_url or client.events_url(reading_id)
    failures = 0
    while not tracker.ended:
        received = False
        try:
            async with client.event_stream(url, parser.last_event_id) as resp:
                if resp is None:
                    break  # the stream is over: nothing more to follow
                async for ev in read_events(resp, parser):
                    received = True
                    tracker.handle(ev)
                    if tracker.ended:
                        break
        except Unreachable as exc:
            failures += 1
            if failures > MAX_FAILURES:
                raise
            observer.note(f"connection lost ({exc.reason}); reconnecting")
            await sleep(_reconnect_delay(parser, failures))
            continue
        except ApiError as exc:
            if exc.status not in (429, 503) or failures >= MAX_FAILURES:
                raise
            failures += 1
            await sleep(retry_delay(exc.retry_after_s, failures))
            continue
        if tracker.ended:
            break
        # Closed by the server before the end (a slow client, a restart): resume.
        failures = 0 if received else failures + 1
        if failures > MAX_FAILURES:
            break  # the stream keeps closing empty: let the poll below decide
        await sleep(_reconnect_delay(parser, max(failures, 1)))
    return await _final(client, reading_id, tracker, poll_interval_s, sleep)


async def _final(
    client: Client,
    reading_id: str,
    tracker: _Tracker,
    poll_interval_s: float,
    sleep: Callable[[float], Awaitable[None]],
) -> dict[str, Any]:
    failures = 0
    while True:
        try:
            reading = await client.get(reading_id)
        except Unreachable:
            failures += 1
            if failures > MAX_FAILURES:
                raise
            await sleep(retry_delay(None, failures))
            continue
        failures = 0
        status = str(reading.get("status"))
        reading_version = int(reading.get("version") or 1)
        if status in TERMINAL_STATUSES and reading_version >= tracker.version:
            with contextlib.suppress(TypeError, ValueError):
                tracker.observer.stage(status, int(reading.get("progress") or 100))
            return reading
        if not tracker.ended:
            with contextlib.suppress(TypeError, ValueError):
                tracker.observer.stage(status, int(reading.get("progress") or 0))
        await sleep(poll_interval_s)


def _reconnect_delay(parser: SseParser, failures: int) -> float:
    base = parser.retry_ms / 1000 if parser.retry_ms is not None else 1.0
    return float(min(base * 2 ** min(failures - 1, 3), 15.0))
