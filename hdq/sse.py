"""A small Server-Sent Events reader (the parsing rules of the WHATWG HTML standard).

`SseParser` turns lines into events and remembers the last event id and the
server's `retry:` hint across events, which is what a reconnect needs.
`read_events` drives it over an aiohttp response body.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseParser:
    """Feed it one line at a time (without its line ending); it returns complete events."""

    last_event_id: str | None = None
    retry_ms: int | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _has_data: bool = False

    def feed(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's heartbeat
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None  # unknown fields are ignored

    def _dispatch(self) -> SseEvent | None:
        event, data, has_data = self._event or "message", self._data, self._has_data
        self._event, self._data, self._has_data = "", [], False
        if not has_data:
            return None
        return SseEvent(event=event, data="\n".join(data), id=self.last_event_id)


def split_lines(chunk: str) -> list[str]:
    """The lines of one `readline()` result: CRLF, LF and a lone CR all end a line."""
    body = chunk[:-2] if chunk.endswith("\r\n") else chunk.rstrip("\n")
    return body.split("\r")


async def read_events(resp: aiohttp.ClientResponse, parser: SseParser) -> AsyncIterator[SseEvent]:
    """The events of one SSE response, until the server ends it (or the connection drops:
    then aiohttp's error propagates, and `parser` still knows where to resume)."""
    first = True
    while True:
        raw = await resp.content.readline()
        if not raw:
            return
        text = raw.decode("utf-8", errors="replace")
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        for line in split_lines(text):
            event = parser.feed(line)
            if event is not None:
                yield event
