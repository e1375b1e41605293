"""Helpers for end-to-end tests: the stack of real service processes, SSE, polling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from shared.launcher import Stack


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


async def read_sse(resp: aiohttp.ClientResponse) -> list[SseEvent]:
    """Read an SSE response until the server closes it."""
    events: list[SseEvent] = []
    fields: dict[str, list[str]] = {}
    async for raw in resp.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if "data" in fields:
                events.append(SseEvent(
                    id=fields["id"][-1] if "id" in fields else None,
                    event=fields.get("event", ["message"])[-1],
                    data="\n".join(fields["data"]),
                ))  # fmt: skip
            fields = {}
            continue
        if line.startswith(":"):
            continue  # heartbeat comment
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value.removeprefix(" "))
    return events


async def post_reading(
    session: aiohttp.ClientSession, intake: str, body: dict[str, Any] | None = None
) -> str:
    payload = body or {
        "birth": {"date": "1948-04-09", "time": "00:14",
                  "place": {"latitude": 45.5017, "longitude": -73.5673, "name": "Montreal"}},
        "agent": "personality", "language": "en",
    }  # fmt: skip
    async with session.post(f"{intake}/v1/readings", json=payload) as resp:
        assert resp.status == 202, await resp.text()
        return str((await resp.json())["id"])


async def wait_status(
    session: aiohttp.ClientSession, status: str, reading_id: str, want: set[str],
    timeout_s: float = 30,
) -> dict[str, Any]:  # fmt: skip
    async with asyncio.timeout(timeout_s):
        while True:
            async with session.get(f"{status}/v1/readings/{reading_id}") as resp:
                if resp.status == 200:
                    body: dict[str, Any] = await resp.json()
                    if body["status"] in want:
                        return body
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running(stack: Stack, stop_timeout_s: float = 15) -> AsyncIterator[Stack]:
    """Start the stack's services, wait until all are ready; stop them on the way out."""
    stack.start_services()
    try:
        assert await asyncio.to_thread(stack.wait_ready, 60), "services did not become ready"
        yield stack
    finally:
        await asyncio.to_thread(stack.stop, stop_timeout_s)
