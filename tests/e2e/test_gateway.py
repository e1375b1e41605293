"""`make run`'s dev gateway in front of the real services: one origin for the public API.

One stack for the module (the tests only add readings, and each puts back what it
stops): a POST through the gateway links to the gateway's origin, the links work
through it, SSE flows through it as it happens, and a service that is down is a 502.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import nats
import pytest

from shared.bus.connect import server_list
from shared.launcher import Stack, on_free_ports
from tests.bus import fresh_stream
from tests.databases import fresh_database
from tests.e2e.helpers import SseEvent, post_reading, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(240)]

BODY = {
    "birth": {"date": "1948-04-09", "time": "00:14",
              "place": {"latitude": 45.5017, "longitude": -73.5673}},
    "agent": "personality", "language": "en", "user_id": "gateway-user",
}  # fmt: skip


@pytest.fixture(scope="module")
async def stack(
    nats_url: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    nc = await nats.connect(server_list(nats_url))
    try:
        await fresh_stream(nc.jetstream())  # not other tests' leftovers
    finally:
        await nc.close()
    async with fresh_database(postgres_url) as database_url:
        settings = on_free_ports(tmp_path_factory.mktemp("gateway"), nats_url, database_url)
        st = Stack(settings, extra_env={"LOG_FORMAT": "json", "LOG_LEVEL": "warning",
                                        "DRAIN_TIMEOUT_S": "5"})  # fmt: skip
        async with running(st):
            yield st


@pytest.fixture(scope="module")
def api(stack: Stack) -> str:
    return stack.gateway_url


async def wait_ready(stack: Stack, key: str) -> None:
    for _ in range(600):
        if await asyncio.to_thread(stack.services[key].ready):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} did not become ready again")


async def test_a_post_through_the_gateway_links_to_the_gateway(
    stack: Stack, api: str, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{api}/v1/readings", json=BODY) as resp:
        assert resp.status == 202, await resp.text()
        accepted = await resp.json()
        location = resp.headers["Location"]
    rid = accepted["id"]
    assert accepted["status_url"] == location == f"{api}/v1/readings/{rid}"
    assert accepted["events_url"] == f"{api}/v1/readings/{rid}/events"
    # The links work on that origin: the gateway sends them to status.
    done = await wait_status(http, api, rid, {"completed"})
    assert done["id"] == rid and done["reading"]["text"]
    async with http.get(f"{api}/v1/readings", params={"user_id": "gateway-user"}) as resp:
        assert resp.status == 200  # the list: where the dev Ingress reaches intake instead
        assert rid in [item["id"] for item in (await resp.json())["items"]]
    async with http.get(f"{api}/v1/readings/{rid}/bodygraph.svg") as resp:
        assert resp.status == 200 and resp.content_type == "image/svg+xml"
    # Straight to intake, the links stay on STATUS_BASE_URL (the status service).
    async with http.post(f"http://127.0.0.1:{stack.settings.intake_port}/v1/readings",
                         json=BODY) as resp:  # fmt: skip
        assert resp.status == 202
        direct = await resp.json()
    status = f"http://127.0.0.1:{stack.settings.status_port}"
    assert direct["status_url"] == f"{status}/v1/readings/{direct['id']}"


async def test_sse_through_the_gateway_arrives_as_it_happens(
    stack: Stack, api: str, http: aiohttp.ClientSession
) -> None:
    """The first event comes while the reading is held at `queued` (chart stopped): a
    gateway that buffered the stream would give nothing before the reading ends."""
    stack.services["chart"].kill()
    try:
        rid = await post_reading(http, api, BODY)
        headers = {"Accept": "text/event-stream"}
        async with http.get(f"{api}/v1/readings/{rid}/events", headers=headers) as resp:
            assert resp.status == 200 and resp.content_type == "text/event-stream"
            events = SseReader(resp)
            first = await events.next_event()
            assert first.event == "reading.requested"
            async with http.get(f"{api}/v1/readings/{rid}") as poll:
                assert (await poll.json())["status"] == "queued"  # still: nothing has ended
            stack.services["chart"].start()
            rest = [e.event async for e in events.rest()]
    finally:
        chart = stack.services["chart"].proc
        if chart is None or chart.poll() is not None:  # the test failed before it
            stack.services["chart"].start()
    await wait_ready(stack, "chart")
    assert rest[0] == "chart.calculated" and rest[-1] == "reading.generated", rest


async def test_only_the_public_api_is_routed(api: str, http: aiohttp.ClientSession) -> None:
    for path in ("/v1/pipeline", "/v1/dead-letters", "/openapi.json", "/"):
        async with http.get(f"{api}{path}") as resp:
            assert resp.status == 404, path
            assert resp.content_type == "application/problem+json"
    async with http.get(f"{api}/healthz") as resp:  # the gateway's own
        assert resp.status == 200


async def test_a_service_that_is_down_is_a_502_problem(
    stack: Stack, api: str, http: aiohttp.ClientSession
) -> None:
    intake = stack.services["intake"]
    await asyncio.to_thread(intake.stop, 10)
    try:
        async with http.post(f"{api}/v1/readings", json=BODY) as resp:
            assert resp.status == 502
            assert resp.content_type == "application/problem+json"
            problem = await resp.json()
        assert problem["status"] == 502 and "intake" in problem["detail"]
        async with http.get(f"{api}/v1/readings", params={"user_id": "nobody"}) as resp:
            assert resp.status == 200  # status is up: only intake's calls fail
    finally:
        intake.start()
    await wait_ready(stack, "intake")
    async with http.post(f"{api}/v1/readings", json=BODY) as resp:
        assert resp.status == 202


class SseReader:
    """Events of an SSE response one at a time, as they arrive (`hello` skipped)."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._lines = resp.content.__aiter__()

    async def next_event(self) -> SseEvent:
        async with asyncio.timeout(60):  # a bound on a hang, not a measurement
            event = await self._next()
        assert event is not None, "the stream ended"
        return event

    async def rest(self) -> AsyncIterator[SseEvent]:
        while (event := await self._next()) is not None:
            yield event

    async def _next(self) -> SseEvent | None:
        fields: dict[str, list[str]] = {}
        async for raw in self._lines:
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                fields.setdefault(name, []).append(value.removeprefix(" "))
                continue
            if "data" in fields and fields.get("event", ["message"])[-1] != "hello":
                return event_of(fields)
            fields = {}
        return None


def event_of(fields: dict[str, list[str]]) -> SseEvent:
    return SseEvent(id=fields["id"][-1] if "id" in fields else None,
                    event=fields.get("event", ["message"])[-1],
                    data="\n".join(fields["data"]))  # fmt: skip
