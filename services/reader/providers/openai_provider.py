"""The OpenAI provider: the official `openai` client, streaming chat completions.

Works with any OpenAI-compatible server (`OPENAI_BASE_URL`). Retries live in
one place, the bus (nak with backoff honouring `Retry-After`), so the SDK's
own retries are off: a 429 storm is not multiplied. The SDK's timeout is per
read, so the whole call is also bounded with `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio

import openai
from openai import AsyncOpenAI

from services.reader.agents import build_prompt
from services.reader.providers.base import Generation, TextSink
from shared.bus.outcomes import Permanent, Transient
from shared.events.chart import Chart
from shared.events.reading_generated import Usage
from shared.settings import ReaderSettings


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: ReaderSettings) -> None:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self.model = settings.openai_model
        self._total_timeout_s = settings.openai_timeout_s
        # One client per event loop; created inside the loop by the service setup.
        self._client = AsyncOpenAI(
            api_key=key or "not-set",
            base_url=settings.openai_base_url or None,
            timeout=openai.Timeout(settings.openai_timeout_s, connect=5.0),
            max_retries=0,
        )

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink
    ) -> Generation:
        messages = build_prompt(chart, agent, language)
        parts: list[str] = []
        usage = Usage()
        model = self.model
        try:
            async with asyncio.timeout(self._total_timeout_s):
                stream = await self._client.chat.completions.create(  # type: ignore[call-overload]
                    model=self.model,
                    messages=messages,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async for chunk in stream:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        usage = Usage(
                            prompt_tokens=chunk.usage.prompt_tokens or 0,
                            completion_tokens=chunk.usage.completion_tokens or 0,
                        )
                    for choice in chunk.choices:
                        if choice.finish_reason == "content_filter":
                            raise Permanent("content_filtered", "the provider filtered the reading")
                        text = choice.delta.content if choice.delta else None
                        if text:
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

    async def close(self) -> None:
        await self._client.close()


def _classify(exc: openai.APIStatusError) -> Exception:
    """Map an HTTP error from the provider to a bus outcome (never leaking the key)."""
    status = exc.status_code
    if status == 429 or status >= 500 or status == 408:
        return Transient(f"LLM answered {status}", delay_s=_retry_after(exc))
    code = {401: "llm_unauthorized", 403: "llm_forbidden", 404: "llm_model_not_found"}.get(
        status, "llm_bad_request"
    )
    return Permanent(code, f"the LLM provider refused the request ({status})")


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), 600.0)
    except ValueError:
        return None
