"""A local OpenAI-compatible HTTP server for tests: real HTTP, scripted behaviour.

Speaks `POST /v1/chat/completions` (streamed and not) the way the OpenAI API
does, and can answer 429 with Retry-After, 5xx, 401, malformed bodies, or
hang, so the official `openai` client is exercised for real.

Every call is logged as a `CallRecord` in `Script.call_log`: its
`X-Client-Request-Id` (the reader sends `<reading_id>:v<version>`), when it
started and ended, and how it ended (`streaming` while open, `completed`,
`cut` when the client went away first, `refused` for an error answer).
`GET /_calls` serves the log as JSON, so a server run as a subprocess (the
CLI, for benchmarks) can be read too (`fetch_call_log`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from shared.embedded.process import free_port

REQUEST_ID_HEADER = "X-Client-Request-Id"

Outcome = Literal["streaming", "completed", "cut", "refused"]


@dataclass
class CallRecord:
    """One call as the server saw it."""

    request_id: str | None  # the `X-Client-Request-Id` header, if sent
    started: float  # time.time() at arrival
    ended: float | None = None  # time.time() when it ended; None while streaming
    # streaming: still open; completed: the whole answer, `[DONE]` included, was written
    # and the response ended; cut: the client went away first; refused: an error answer.
    outcome: Outcome = "streaming"

    def end(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.ended = time.time()


@dataclass
class Script:
    mode: str = "ok"  # ok | 429 | 500 | 401 | 400 | malformed | garbled | error | hang | empty
    text: str = "Your chart shows a clear, steady design."
    chunk_size: int = 8
    first_token_delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    retry_after: str = "7"
    times: int | None = None  # `mode` answers only the first `times` calls, then "ok"
    calls: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    call_times: list[float] = field(default_factory=list)  # time.time() at arrival
    active: int = 0  # responses being streamed right now
    peak_active: int = 0  # the most ever streamed at once
    headers: dict[str, str] = field(default_factory=dict)  # e.g. x-ratelimit-* on answers
    call_log: list[CallRecord] = field(default_factory=list)  # every call, in arrival order

    def calls_by_request(self) -> dict[str, list[CallRecord]]:
        """The logged calls by request id, in arrival order; calls sent without one left out."""
        out: dict[str, list[CallRecord]] = {}
        for call in self.call_log:
            if call.request_id is not None:
                out.setdefault(call.request_id, []).append(call)
        return out


SCRIPT = web.AppKey("script", Script)


@functools.lru_cache(maxsize=4096)
def _chunk(model: str, content: str | None, finish: str | None = None) -> bytes:
    """One `data:` line; encoded once per distinct chunk (benchmarks stream thousands)."""
    body = {
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": {"content": content} if content is not None else {},
                     "finish_reason": finish}],
    }  # fmt: skip
    return f"data: {json.dumps(body)}\n\n".encode()


@functools.lru_cache(maxsize=64)
def _usage(model: str) -> bytes:
    usage = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
    }
    return f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode()


async def _completions(request: web.Request) -> web.StreamResponse:
    script: Script = request.app[SCRIPT]
    script.call_times.append(time.time())
    record = CallRecord(request.headers.get(REQUEST_ID_HEADER), time.time())
    script.call_log.append(record)
    try:
        resp = await _answer(script, request)
    except BaseException:
        # The client went away (a reset while writing, or aiohttp cancelled the handler
        # on its disconnect, sleeping included) or the answer broke off: not completed.
        record.end("cut")
        raise
    record.end("refused" if resp.status >= 400 or script.mode == "malformed" else "completed")
    return resp


async def _answer(script: Script, request: web.Request) -> web.StreamResponse:
    body = await request.json()
    script.calls.append(body)
    script.auth_headers.append(request.headers.get("Authorization", ""))
    model = body.get("model", "test-model")
    mode = script.mode if script.times is None or len(script.calls) <= script.times else "ok"
    if mode == "429":
        return web.json_response(
            {"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}},
            status=429, headers={"Retry-After": script.retry_after},
        )  # fmt: skip
    if mode in ("500", "401", "400"):
        return web.json_response({"error": {"message": "no", "type": "x"}},
                                 status=int(mode))  # fmt: skip
    if mode == "hang":
        await asyncio.sleep(3600)
    if script.mode == "malformed":
        return web.Response(text="{this is not json", content_type="application/json")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", **script.headers})
    await resp.prepare(request)
    script.active += 1
    script.peak_active = max(script.peak_active, script.active)
    try:
        await _stream_answer(script, resp, model)
    finally:
        script.active -= 1
    return resp


async def _call_log(request: web.Request) -> web.Response:
    """`GET /_calls`: the call log as a JSON list of `CallRecord` fields."""
    return web.json_response([asdict(c) for c in request.app[SCRIPT].call_log])


async def _stream_answer(script: Script, resp: web.StreamResponse, model: str) -> None:
    if script.first_token_delay_s:
        await asyncio.sleep(script.first_token_delay_s)
    text = "" if script.mode == "empty" else script.text
    held: list[bytes] = []  # with no delay between chunks, they go out in one write
    for i in range(0, len(text), script.chunk_size):
        if i and script.chunk_delay_s:
            await asyncio.sleep(script.chunk_delay_s)
        held.append(_chunk(model, text[i : i + script.chunk_size]))
        if script.mode == "garbled":  # a broken proxy mangles the stream mid-answer
            held.append(b'data: {"choices": [{"delta\n\n')
        if script.mode == "error":  # the provider gives up mid-answer, as OpenAI reports it
            held.append(b'data: {"error": {"message": "overloaded", "type": "server"}}\n\n')
        if script.chunk_delay_s:
            await resp.write(b"".join(held))
            held.clear()
    held += [_chunk(model, None, "stop"), _usage(model)]
    await resp.write(b"".join(held))
    await resp.write_eof()


def _app(script: Script) -> web.Application:
    app = web.Application()
    app[SCRIPT] = script
    app.router.add_post("/v1/chat/completions", _completions)
    app.router.add_get("/_calls", _call_log)
    return app


async def fetch_call_log(base_url: str) -> list[CallRecord]:
    """The call log of a server at `base_url` (`http://host:port`, `/v1` allowed)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    async with aiohttp.ClientSession() as session, session.get(f"{root}/_calls") as resp:
        resp.raise_for_status()
        return [CallRecord(**c) for c in await resp.json()]


@asynccontextmanager
async def fake_openai(script: Script) -> AsyncIterator[str]:
    """Serve `script` on a free port; yields the base URL (`http://127.0.0.1:N/v1`)."""
    # handler_cancellation: a client that goes away ends its call at once, even one that
    # is sleeping (a first-token delay, a hang), so the log records the cut when it happens.
    runner = web.AppRunner(_app(script), shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def main() -> None:
    """`python -m tests.reader.fake_openai --port N --first-token-delay 2`: serve until
    killed. The answer is `--text` in pieces of `--chunk-size` characters, the first after
    `--first-token-delay` s, each next `--chunk-delay` s later (0: all in one write)."""
    import argparse

    parser = argparse.ArgumentParser(description="A local OpenAI-compatible test server.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    parser.add_argument("--chunk-size", type=int, default=60, help="characters per piece")
    parser.add_argument("--text", default="Your chart describes a steady, generous design. " * 6)
    args = parser.parse_args()
    if args.chunk_size < 1:
        parser.error("--chunk-size must be at least 1")
    script = Script(text=args.text, chunk_size=args.chunk_size,
                    first_token_delay_s=args.first_token_delay,
                    chunk_delay_s=args.chunk_delay)  # fmt: skip
    web.run_app(_app(script), host="127.0.0.1", port=args.port, print=None, access_log=None,
                handler_cancellation=True)  # fmt: skip


if __name__ == "__main__":
    main()
