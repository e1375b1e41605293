"""The dev gateway as a proxy (shared/gateway.py), in front of small real HTTP servers.

The upstreams here are plain aiohttp servers that echo what reached them or
stream when the test says so; `tests/e2e/test_gateway.py` runs the gateway in
front of the real services.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.embedded.process import free_port
from shared.gateway import gateway_app
from shared.settings import GatewaySettings


class Upstream:
    """One service's stand-in: echoes each request; `/v1/readings/r1/events` streams two
    SSE frames, the second only once the test has read the first."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = 0
        self.second_frame = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_get("/v1/readings/{id}/events", self.events)
        self.app.router.add_route("*", "/{tail:.*}", self.echo)

    async def echo(self, request: web.Request) -> web.Response:
        body = {
            "service": self.name,
            "method": request.method,
            "path_qs": request.raw_path,
            "headers": {k: v for k, v in request.headers.items()},
            "body": (await request.read()).decode(),
        }
        return web.json_response(body, headers={"Connection": "keep-alive, X-Secret-Hop",
                                                "X-Secret-Hop": "1", "X-Kept": "yes"})  # fmt: skip

    async def events(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"id: 1\nevent: one\ndata: {}\n\n")
        await self.second_frame.wait()
        await resp.write(b"id: 2\nevent: two\ndata: {}\n\n")
        await resp.write_eof()
        return resp


@pytest.fixture
async def upstreams() -> AsyncIterator[dict[str, Upstream]]:
    ups = {name: Upstream(name) for name in ("intake", "status")}
    servers = [TestServer(u.app, host="127.0.0.1", port=free_port()) for u in ups.values()]
    for server in servers:
        await server.start_server()
    for up, server in zip(ups.values(), servers, strict=True):
        assert server.port is not None
        up.port = server.port
    try:
        yield ups
    finally:
        for up in ups.values():
            up.second_frame.set()
        for server in servers:
            await server.close()


async def start_gateway(intake_port: int, status_port: int) -> TestServer:
    settings = GatewaySettings(gateway_port=free_port(), intake_port=intake_port,
                               status_port=status_port)  # fmt: skip
    server = TestServer(gateway_app(settings), host="127.0.0.1", port=settings.gateway_port)
    await server.start_server()
    return server


@pytest.fixture
async def gateway(upstreams: dict[str, Upstream]) -> AsyncIterator[str]:
    server = await start_gateway(upstreams["intake"].port, upstreams["status"].port)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as s:
        yield s


async def test_each_call_reaches_the_service_the_table_names(
    gateway: str, http: aiohttp.ClientSession
) -> None:
    calls = [
        ("POST", "/v1/readings", "intake"),
        ("GET", "/v1/readings?user_id=u1", "status"),  # where the Ingress errs
        ("GET", "/v1/readings/r1", "status"),
        ("POST", "/v1/readings/r1/regenerate", "status"),
        ("DELETE", "/v1/readings/r1", "status"),
        ("DELETE", "/v1/users/u1/readings", "status"),
    ]
    for method, path, service in calls:
        async with http.request(method, gateway + path) as resp:
            assert resp.status == 200, (method, path)
            got = await resp.json()
        assert (got["service"], got["method"], got["path_qs"]) == (service, method, path)


async def test_the_request_passes_whole_with_forwarded_headers(
    gateway: str, http: aiohttp.ClientSession
) -> None:
    body = json.dumps({"birth": {"date": "1990-01-01"}, "note": "ä " * 2000})
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": "k1",
        "Idempotency-Key": "abc",
        "Connection": "keep-alive, X-Hop",  # X-Hop is hop-by-hop: named in Connection
        "X-Hop": "gone",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Host": "evil.example",
    }
    url = gateway + "/v1/readings/r%2F1/regenerate?a=1&b=%20x"
    async with http.post(url, data=body.encode(), headers=headers) as resp:
        assert resp.status == 200
        got = await resp.json()
        assert resp.headers["X-Kept"] == "yes"
        assert "X-Secret-Hop" not in resp.headers  # the upstream's hop-by-hop header stays
    assert got["path_qs"] == "/v1/readings/r%2F1/regenerate?a=1&b=%20x"  # as sent
    assert got["body"] == body
    sent = got["headers"]
    assert sent["Content-Type"] == "application/json"
    assert (sent["X-API-Key"], sent["Idempotency-Key"]) == ("k1", "abc")
    assert "X-Hop" not in sent
    host = gateway.removeprefix("http://")
    assert sent["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"  # appended
    assert (sent["X-Forwarded-Host"], sent["X-Forwarded-Proto"]) == (host, "http")  # replaced


async def test_sse_flows_frame_by_frame(
    gateway: str, upstreams: dict[str, Upstream], http: aiohttp.ClientSession
) -> None:
    """The second frame is written only after the client has the first: a gateway that
    buffered the answer would hold the first frame back and the read would never end."""
    url = gateway + "/v1/readings/r1/events"
    async with http.get(url, headers={"Accept": "text/event-stream"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        assert "Content-Length" not in resp.headers
        async with asyncio.timeout(20):  # a bound on a hang, not a measurement
            first = await resp.content.readuntil(b"\n\n")
        assert first == b"id: 1\nevent: one\ndata: {}\n\n"
        assert not upstreams["status"].second_frame.is_set()
        upstreams["status"].second_frame.set()
        rest = await resp.content.read()
    assert rest == b"id: 2\nevent: two\ndata: {}\n\n"


async def test_paths_outside_the_public_api_are_404_and_ops_are_its_own(
    gateway: str, http: aiohttp.ClientSession
) -> None:
    for path in ("/v1/pipeline", "/v1/dead-letters", "/openapi.json", "/",
                 "/v1/readings/../metrics", "/v1/readingsX"):  # fmt: skip
        async with http.get(gateway + path) as resp:
            assert resp.status == 404, path
            assert resp.content_type == "application/problem+json"
    async with http.get(gateway + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json()) == {"status": "ok"}
    async with http.get(gateway + "/metrics") as resp:
        text = await resp.text()
    assert 'hd_http_requests_total{method="GET",route="unmatched",service="gateway"' in text


async def test_an_unreachable_service_is_a_502_problem(http: aiohttp.ClientSession) -> None:
    server = await start_gateway(free_port(), free_port())  # nothing listens there
    try:
        url = f"http://127.0.0.1:{server.port}/v1/readings"
        async with http.post(url, json={}) as resp:
            assert resp.status == 502
            assert resp.content_type == "application/problem+json"
            problem = await resp.json()
    finally:
        await server.close()
    assert problem["status"] == 502 and "intake" in problem["detail"]
