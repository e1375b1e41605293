"""The OpenAI provider: the official `openai` client, streaming chat completions.

Works with any OpenAI-compatible server (`OPENAI_BASE_URL`). Retries live in
one place, the bus (nak with backoff honouring `Retry-After`), so the SDK's
own retries are off: a 429 storm is not multiplied. The one exception is a
429: it is waited out within the delivery (every replica held back by the
shared limiter), so a provider's rate limit does not use up delivery attempts.
The SDK's timeout is per read, so the whole call is also bounded with `asyncio.timeout`. One client
per process (one event loop), on aiohttp, with a connection pool as large
as the replica's concurrency.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx2
import openai
import orjson
from openai import AsyncOpenAI
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_before_delay,
)

from services.reader.limiter import SharedLimiter
from services.reader.prompt import build_prompt
from services.reader.providers.base import Generation, TextSink
from shared.bus.outcomes import Permanent, Transient
from shared.events.chart import Chart
from shared.events.reading_generated import Usage
from shared.logging import get_logger
from shared.metrics import (
    LLM_CALL_SECONDS,
    LLM_CALLS,
    LLM_FIRST_TOKEN_SECONDS,
    LLM_IN_FLIGHT,
    LLM_TOKENS,
)
from shared.settings import ReaderSettings

log = get_logger(__name__)

EXPECTED_COMPLETION_TOKENS = 1200  # reserved against READER_TPM until usage is known


# OpenAI's header for a request id chosen by the client (up to 512 ASCII characters).
REQUEST_ID_HEADER = "X-Client-Request-Id"


class RateLimited(Transient):
    """The provider answered 429: every replica should hold back."""


def _log_rate_limited(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    log.info("LLM rate limited; trying again within this delivery",
             retry_after_s=getattr(exc, "delay_s", None), attempt=state.attempt_number)  # fmt: skip


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: ReaderSettings, limiter: SharedLimiter | None = None) -> None:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self.model = settings.openai_model
        self._total_timeout_s = settings.openai_timeout_s
        self._rate_limit_wait_s = settings.reader_rate_limit_wait_s
        self._limiter = limiter
        pool = max(100, settings.reader_concurrency)
        self._client = AsyncOpenAI(
            api_key=key or "not-set",
            base_url=settings.openai_base_url or None,
            timeout=openai.Timeout(settings.openai_timeout_s, connect=5.0),
            max_retries=0,
            # aiohttp as the transport: the default pool scans every connection for
            # each request, which caps a replica near 100 calls/s at 1,000 in flight.
            # Idle connections are kept 30 s (not 5): calls come in waves seconds
            # apart, and a connection dropped between two waves is dialled again.
            http_client=openai.DefaultAioHttpClient(
                limits=httpx2.Limits(
                    max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=30.0
                )
            ),
        )
        self._in_flight = LLM_IN_FLIGHT.labels(self.name)

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink, *, call_id: str
    ) -> Generation:
        """The reading's text. A 429 is waited out here, within the same delivery (the
        consume loop keeps the message in progress), for up to `READER_RATE_LIMIT_WAIT_S`:
        a provider's rate limit does not use up the event's delivery attempts."""
        messages = build_prompt(chart, agent, language)
        estimate = sum(len(m["content"]) for m in messages) // 4 + EXPECTED_COMPLETION_TOKENS
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RateLimited),
            wait=self._rate_limit_wait,
            stop=stop_before_delay(self._rate_limit_wait_s),
            before_sleep=_log_rate_limited,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._generate_once(messages, estimate, on_text, call_id)
        raise AssertionError("unreachable: tenacity reraises the last RateLimited")

    def _rate_limit_wait(self, state: RetryCallState) -> float:
        """Seconds to sleep before the next try: none when the shared limiter holds every
        replica back until the provider's Retry-After (the next `acquire` waits for it)."""
        if self._limiter is not None and self._limiter.shared:
            return 0.0
        exc = state.outcome.exception() if state.outcome is not None else None
        return exc.delay_s or 1.0 if isinstance(exc, RateLimited) else 1.0

    async def _generate_once(
        self, messages: list[dict[str, str]], estimate: int, on_text: TextSink, call_id: str
    ) -> Generation:
        if self._limiter is not None:
            await self._limiter.acquire(estimate)
        self._in_flight.inc()
        started = time.monotonic()
        outcome = "ok"
        try:
            gen = await self._call(messages, on_text, started, call_id)
        except asyncio.CancelledError:
            # The reading was cancelled (or the replica is draining): the stream is closed
            # and the call abandoned. Its token estimate stays reserved, as for a failed call.
            outcome = "cancelled"
            raise
        except Exception as exc:
            outcome = _outcome_of(exc)
            if isinstance(exc, RateLimited) and self._limiter is not None:
                await self._limiter.push_back(exc.delay_s or 1.0)
            raise
        finally:
            self._in_flight.dec()
            LLM_CALLS.labels(self.name, outcome).inc()
            LLM_CALL_SECONDS.labels(self.name).observe(time.monotonic() - started)
        used = gen.usage.prompt_tokens + gen.usage.completion_tokens
        LLM_TOKENS.labels(self.name, gen.model, "prompt").inc(gen.usage.prompt_tokens)
        LLM_TOKENS.labels(self.name, gen.model, "completion").inc(gen.usage.completion_tokens)
        if self._limiter is not None and used:
            await self._limiter.settle(estimate, used)
        return gen

    async def _call(
        self, messages: list[dict[str, str]], on_text: TextSink, started: float, call_id: str
    ) -> Generation:
        parts: list[str] = []
        usage = Usage()
        model = self.model
        try:
            async with asyncio.timeout(self._total_timeout_s):
                # The SDK sends the request (auth, base URL, pool, status errors); what it
                # spends most CPU on at a thousand calls in flight is skipped: the messages
                # (plain strings already) go in `extra_body` rather than through its
                # type-driven transform of the params (a fifth of the replica's CPU), and
                # the stream's lines are parsed here instead of into a pydantic object
                # each (another fifth). The body sent is the same.
                # Closed on every way out (an error, a timeout, a cancelled reading), so
                # an abandoned call releases its connection and the provider stops at once.
                async with self._client.chat.completions.with_streaming_response.create(
                    model=self.model,
                    messages=[],  # replaced by extra_body["messages"]
                    stream=True,
                    extra_body={"messages": messages, "stream_options": {"include_usage": True}},
                    extra_headers={REQUEST_ID_HEADER: call_id},
                ) as response:
                    await self._heed_limit_headers(response.headers)
                    async for line in response.iter_lines():
                        chunk = _data_of(line)
                        if chunk is None:
                            continue
                        model = chunk.get("model") or model
                        if chunk.get("usage"):
                            usage = Usage(
                                prompt_tokens=chunk["usage"].get("prompt_tokens") or 0,
                                completion_tokens=chunk["usage"].get("completion_tokens") or 0,
                            )
                        for choice in chunk.get("choices") or ():
                            if choice.get("finish_reason") == "content_filter":
                                raise Permanent(
                                    "content_filtered", "the provider filtered the reading"
                                )
                            text = (choice.get("delta") or {}).get("content")
                            if text:
                                if not parts:
                                    LLM_FIRST_TOKEN_SECONDS.labels(self.name).observe(
                                        time.monotonic() - started
                                    )
                                parts.append(text)
                                await on_text(text)
        except TimeoutError:
            raise Transient(f"LLM call exceeded {self._total_timeout_s:.0f}s") from None
        except openai.APIStatusError as exc:
            raise _classify(exc) from None
        except (openai.APIConnectionError, openai.APIResponseValidationError) as exc:
            raise Transient(f"LLM connection problem: {type(exc).__name__}") from None
        text = "".join(parts)
        if not text.strip():
            raise Transient("LLM returned an empty reading")
        return Generation(text=text, model=model, usage=usage, composed_offline=False)

    async def _heed_limit_headers(self, headers: Mapping[str, str]) -> None:
        """The provider says its budget is spent: hold every replica back until it resets."""
        if self._limiter is not None:
            wait = exhausted_for(headers)
            if wait:
                await self._limiter.push_back(wait)

    async def close(self) -> None:
        await self._client.close()


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def reset_seconds(value: str | None) -> float | None:
    """`x-ratelimit-reset-*` (`1s`, `6m0s`, `20ms`, `1h2m3.5s`, or plain seconds) -> seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def exhausted_for(headers: Mapping[str, str]) -> float | None:
    """Seconds until the provider's spent budget (requests or tokens) resets, else None."""
    waits = []
    for kind in ("requests", "tokens"):
        remaining = headers.get(f"x-ratelimit-remaining-{kind}")
        if remaining is not None and remaining.strip() in ("0", "0.0"):
            reset = reset_seconds(headers.get(f"x-ratelimit-reset-{kind}"))
            waits.append(min(reset if reset is not None else 1.0, 600.0))
    return max(waits) if waits else None


def _data_of(line: str) -> dict[str, Any] | None:
    """The JSON object of one `data:` line of the stream; None for anything else.

    An `error` object in the stream (the provider failed mid-answer) is a
    transient failure; a line that is not JSON is one too (a broken proxy).
    """
    if not line.startswith("data:"):
        return None  # blank separators, comments (`: keep-alive`), `event:` lines
    payload = line[5:].strip()
    if not payload or payload == "[DONE]":
        return None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise Transient("LLM stream sent a line that is not JSON") from None
    if not isinstance(chunk, dict):
        raise Transient("LLM stream sent something other than an object")
    if chunk.get("error"):
        raise Transient("LLM stream reported an error mid-answer")
    return chunk


def _classify(exc: openai.APIStatusError) -> Exception:
    """Map an HTTP error from the provider to a bus outcome (never leaking the key)."""
    status = exc.status_code
    if status == 429:
        return RateLimited(f"LLM answered {status}", delay_s=_retry_after(exc))
    if status >= 500 or status == 408:
        return Transient(f"LLM answered {status}", delay_s=_retry_after(exc))
    code = {401: "llm_unauthorized", 403: "llm_forbidden", 404: "llm_model_not_found"}.get(
        status, "llm_bad_request"
    )
    return Permanent(code, f"the LLM provider refused the request ({status})")


def _outcome_of(exc: Exception) -> str:
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, Permanent):
        return "filtered" if exc.code == "content_filtered" else "refused"
    reason = str(exc)
    if "exceeded" in reason:
        return "timeout"
    if "connection" in reason:
        return "connection_error"
    if "empty" in reason:
        return "empty"
    return "server_error"


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """`Retry-After` in seconds; else when the provider's spent budget resets."""
    headers = exc.response.headers if exc.response is not None else {}
    value = headers.get("retry-after")
    if not value:
        return exhausted_for(headers)
    try:
        return min(max(float(value), 0.0), 600.0)
    except ValueError:
        return exhausted_for(headers)
