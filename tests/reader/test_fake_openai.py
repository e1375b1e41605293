"""The test LLM server's own log of calls: what other tests count LLM calls with."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.reader.fake_openai import REQUEST_ID_HEADER, Script, fake_openai, fetch_call_log

BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


async def post(session: aiohttp.ClientSession, url: str, request_id: str) -> int:
    async with session.post(
        f"{url}/chat/completions", json=BODY, headers={REQUEST_ID_HEADER: request_id}
    ) as resp:
        await resp.read()
        return resp.status


async def test_each_call_is_logged_with_its_request_id_and_how_it_ended() -> None:
    script = Script()
    async with fake_openai(script) as url, aiohttp.ClientSession() as session:
        assert await post(session, url, "r-1:v1") == 200
        script.mode = "429"
        assert await post(session, url, "r-1:v2") == 429
        script.mode = "ok"
        assert await post(session, url, "r-2:v1") == 200
        served = await fetch_call_log(url)  # what a benchmark reads from the CLI server
    assert [(c.request_id, c.outcome) for c in script.call_log] == [
        ("r-1:v1", "completed"), ("r-1:v2", "refused"), ("r-2:v1", "completed"),
    ]  # fmt: skip
    assert all(c.ended is not None and c.ended >= c.started for c in script.call_log)
    assert served == script.call_log
    assert {k: len(v) for k, v in script.calls_by_request().items()} == {
        "r-1:v1": 1, "r-1:v2": 1, "r-2:v1": 1,
    }  # fmt: skip


async def test_a_client_that_goes_away_while_the_server_waits_is_logged_as_cut() -> None:
    script = Script(first_token_delay_s=60)
    async with fake_openai(script) as url, aiohttp.ClientSession() as session:
        call = asyncio.create_task(post(session, url, "r-3:v1"))
        async with asyncio.timeout(10):
            while not script.call_log:
                await asyncio.sleep(0.01)
        assert script.call_log[0].outcome == "streaming"
        call.cancel()  # the connection is closed while the server sleeps before answering
        async with asyncio.timeout(10):
            while script.call_log[0].outcome == "streaming":
                await asyncio.sleep(0.01)
        assert [(c.request_id, c.outcome) for c in await fetch_call_log(url)] == [("r-3:v1", "cut")]
