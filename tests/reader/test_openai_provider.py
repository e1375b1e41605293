"""The OpenAI provider through the official client against a local compatible server."""

from __future__ import annotations

import contextlib

import pytest
from nats.js.errors import NotFoundError
from pydantic import SecretStr

from services.reader.limiter import BUCKET, Limits, SharedLimiter
from services.reader.providers import OpenAIProvider
from services.reader.providers.openai_provider import reset_seconds
from shared.bus.outcomes import Permanent, Transient
from shared.settings import ReaderSettings
from tests import factories as f
from tests.reader.fake_openai import Script, fake_openai

KEY = "sk-test-not-a-real-key-1234567890"


def provider(base_url: str, timeout_s: float = 10.0, wait_s: float = 0.0) -> OpenAIProvider:
    return OpenAIProvider(ReaderSettings(openai_api_key=SecretStr(KEY), openai_base_url=base_url,
                                         openai_model="test-model", openai_timeout_s=timeout_s,
                                         reader_rate_limit_wait_s=wait_s))  # fmt: skip


async def run(
    script: Script, timeout_s: float = 10.0, wait_s: float = 0.0
) -> tuple[str, list[str]]:
    chunks: list[str] = []

    async def sink(text: str) -> None:
        chunks.append(text)

    async with fake_openai(script) as url:
        p = provider(url, timeout_s, wait_s)
        try:
            gen = await p.generate(f.chart(), "personality", "en", sink, call_id="r-1:v1")
        finally:
            await p.close()
    return gen.text, chunks


async def test_a_streamed_answer_arrives_in_chunks_with_usage() -> None:
    script = Script(text="Line one of the reading. " * 4)
    chunks: list[str] = []

    async def sink(text: str) -> None:
        chunks.append(text)

    async with fake_openai(script) as url:
        p = provider(url)
        gen = await p.generate(f.chart(), "business", "de", sink, call_id="r-1:v3")
        await p.close()
    assert gen.text == script.text
    assert len(chunks) > 1 and "".join(chunks) == script.text
    assert (gen.usage.prompt_tokens, gen.usage.completion_tokens) == (321, 45)
    assert gen.composed_offline is False
    call = script.calls[0]
    assert call["model"] == "test-model" and call["stream"] is True
    assert call["stream_options"] == {"include_usage": True}
    assert script.auth_headers[0] == f"Bearer {KEY}"
    assert [m["role"] for m in call["messages"]][:1] == ["system"]
    # The call is named by the client's request id, and the server saw it end.
    assert [(c.request_id, c.outcome) for c in script.call_log] == [("r-1:v3", "completed")]


async def test_429_is_transient_with_the_servers_retry_after() -> None:
    script = Script(mode="429", retry_after="7")
    with pytest.raises(Transient) as info:
        await run(script)
    assert info.value.delay_s == 7.0
    assert len(script.calls) == 1  # no hidden SDK retries stacked on the bus's


async def test_a_429_is_waited_out_within_the_call_for_as_long_as_retry_after_says() -> None:
    script = Script(mode="429", retry_after="1", times=2, text="Waited for.")
    text, _ = await run(script, wait_s=30)
    assert text == "Waited for."
    # The server's own log: two refusals, then the answer, each after its Retry-After.
    assert [c.outcome for c in script.call_log] == ["refused", "refused", "completed"]
    gaps = [b - a for a, b in zip(script.call_times, script.call_times[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps


async def test_a_retry_after_beyond_the_wait_budget_gives_the_event_back() -> None:
    script = Script(mode="429", retry_after="20")
    with pytest.raises(Transient) as info:
        await run(script, wait_s=5)
    assert info.value.delay_s == 20.0  # the bus waits the rest, with a delivery attempt
    assert len(script.calls) == 1


@pytest.mark.parametrize("mode", ["500", "malformed", "empty", "garbled", "error"])
async def test_server_errors_and_garbage_are_transient(mode: str) -> None:
    with pytest.raises(Transient):
        await run(Script(mode=mode))


@pytest.mark.parametrize(
    ("mode", "code"), [("401", "llm_unauthorized"), ("400", "llm_bad_request")]
)
async def test_refusals_are_permanent_with_a_code_and_no_key(mode: str, code: str) -> None:
    with pytest.raises(Permanent) as info:
        await run(Script(mode=mode))
    assert info.value.code == code
    assert KEY not in str(info.value)


async def test_a_hung_call_is_bounded_by_the_total_timeout() -> None:
    with pytest.raises(Transient) as info:
        await run(Script(mode="hang"), timeout_s=0.5)
    assert "exceeded" in info.value.reason


@pytest.mark.integration
async def test_a_spent_provider_budget_holds_the_next_call_back(js) -> None:
    """`x-ratelimit-remaining-requests: 0` pushes the shared limiter to the reset time."""
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(BUCKET)  # a fresh limiter state
    limiter = await SharedLimiter.create(js, Limits(rpm=1000, tpm=0, window_s=60))
    script = Script(headers={"x-ratelimit-remaining-requests": "0",
                             "x-ratelimit-reset-requests": "1.5s"})  # fmt: skip

    async def sink(_: str) -> None:
        return None

    async with fake_openai(script) as url:
        p = OpenAIProvider(ReaderSettings(openai_api_key=SecretStr(KEY), openai_base_url=url,
                                          openai_model="test-model"), limiter)  # fmt: skip
        try:
            await p.generate(f.chart(), "personality", "en", sink, call_id="r-1:v1")
            await p.generate(f.chart(), "personality", "en", sink, call_id="r-2:v1")
        finally:
            await p.close()
    gap = script.call_times[1] - script.call_times[0]
    assert 1.3 <= gap <= 5.0, gap


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("2.5", 2.5),
     ("soon", None), ("", None)],
)  # fmt: skip
def test_reset_durations_as_providers_write_them(value: str, seconds: float | None) -> None:
    assert reset_seconds(value) == seconds
