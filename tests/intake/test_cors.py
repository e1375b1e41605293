"""CORS for intake: preflight for allowed and refused origins, headers on the POST itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext

from shared.cors import cors_middleware, cors_on_prepare
from shared.http import middlewares
from shared.problem import problem
from shared.settings import IntakeSettings
from tests.intake.helpers import Serve, intake_app

PAGE = "http://127.0.0.1:8081"
OTHER = "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type"}  # fmt: skip
GOOD = {
    "birth": {"date": "1948-04-09", "time": "00:14",
              "place": {"latitude": 45.5017, "longitude": -73.5673}},
    "agent": "personality", "language": "en",
}  # fmt: skip


async def fake_create(request: web.Request) -> web.Response:
    body = await request.json()
    if "birth" not in body:
        return problem(422, "Invalid request", kind="validation",
                       errors=[{"field": "birth", "message": "Field required"}])  # fmt: skip
    return web.json_response({"id": "r1"}, status=202, headers={"Location": "/v1/readings/r1"})


async def fake_events(request: web.Request) -> web.StreamResponse:
    """A streamed answer, like SSE: its headers go out before the handler returns."""
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(b"event: hello\r\ndata: {}\r\n\r\n")
    await resp.write_eof()
    return resp


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(serve: Serve) -> ClientFactory:
    """An app shaped like intake (CORS outermost, then observe) with a fake POST route."""

    async def make(origins: list[str], **options: Any) -> TestClient[Any, Any]:
        app = web.Application(middlewares=middlewares("intake"))
        app.middlewares.insert(0, cors_middleware(origins, **options))
        app.on_response_prepare.append(cors_on_prepare)
        app.router.add_post("/v1/readings", fake_create)
        app.router.add_get("/v1/readings/r1/events", fake_events)
        return await serve(app)

    return make


async def test_preflight_from_an_allowed_origin(make_client) -> None:
    settings = IntakeSettings(cors_origins=f" {PAGE}/ , http://localhost:8081")
    client = await make_client(settings.cors_origin_list)
    resp = await client.options("/v1/readings", headers={"Origin": PAGE, **PREFLIGHT})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    assert "POST" in resp.headers["Access-Control-Allow-Methods"].split(", ")
    assert resp.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in resp.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in resp.headers

    resp = await client.options("/v1/readings", headers={"Origin": "http://localhost:8081",
                                                         **PREFLIGHT})  # fmt: skip
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:8081"


@pytest.mark.parametrize(
    ("origin", "request_headers", "why"),
    [
        (OTHER, PREFLIGHT, "origin"),
        ("http://127.0.0.1:9999", PREFLIGHT, "origin"),  # another port is another origin
        ("null", PREFLIGHT, "origin"),
        (PAGE, {"Access-Control-Request-Method": "DELETE"}, "method"),
        (PAGE, {**PREFLIGHT, "Access-Control-Request-Headers": "content-type, x-api-key"},
         "x-api-key"),
    ],
)  # fmt: skip
async def test_preflight_refused(make_client, origin, request_headers, why) -> None:
    client = await make_client([PAGE])
    resp = await client.options("/v1/readings", headers={"Origin": origin, **request_headers})
    assert resp.status == 403
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert why in (await resp.json())["detail"]


async def test_no_origins_configured_allows_none(make_client) -> None:
    client = await make_client(IntakeSettings().cors_origin_list)
    resp = await client.options("/v1/readings", headers={"Origin": PAGE, **PREFLIGHT})
    assert resp.status == 403
    resp = await client.post("/v1/readings", json=GOOD, headers={"Origin": PAGE})
    assert resp.status == 202
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_preflight_of_an_unknown_path_is_404(make_client) -> None:
    client = await make_client([PAGE])
    resp = await client.options("/v1/nothing", headers={"Origin": PAGE, **PREFLIGHT})
    assert resp.status == 404


async def test_an_options_request_that_is_no_preflight_is_routed_as_usual(make_client) -> None:
    client = await make_client([PAGE])
    resp = await client.options("/v1/readings", headers={"Origin": PAGE})
    assert resp.status == 405
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE


async def test_the_post_from_an_allowed_origin_exposes_location(make_client) -> None:
    client = await make_client([PAGE])
    resp = await client.post("/v1/readings", json=GOOD, headers={"Origin": PAGE})
    assert resp.status == 202
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    assert "Location" in resp.headers["Access-Control-Expose-Headers"].split(", ")
    assert "Origin" in resp.headers["Vary"]
    assert resp.headers["Location"] == "/v1/readings/r1"


async def test_errors_carry_cors_headers_so_the_page_can_read_them(make_client) -> None:
    client = await make_client([PAGE])
    resp = await client.post("/v1/readings", json={}, headers={"Origin": PAGE})
    assert resp.status == 422
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    resp = await client.get("/v1/readings", headers={"Origin": PAGE})  # 405 from the router
    assert resp.status == 405
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE


async def test_a_streamed_answer_carries_cors_headers_so_eventsource_works(make_client) -> None:
    client = await make_client([PAGE])
    resp = await client.get("/v1/readings/r1/events", headers={"Origin": PAGE})
    assert resp.status == 200
    assert await resp.text() == "event: hello\r\ndata: {}\r\n\r\n"
    assert resp.headers["Access-Control-Allow-Origin"] == PAGE
    assert "Origin" in resp.headers["Vary"]
    resp = await client.get("/v1/readings/r1/events", headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_a_post_from_another_origin_gets_no_cors_headers(make_client) -> None:
    client = await make_client([PAGE])
    for headers in ({"Origin": OTHER}, {}):
        resp = await client.post("/v1/readings", json=GOOD, headers=headers)
        assert resp.status == 202
        assert "Access-Control-Allow-Origin" not in resp.headers
        assert "Access-Control-Expose-Headers" not in resp.headers
        assert "Origin" in resp.headers["Vary"]


async def test_any_origin_with_a_star(make_client) -> None:
    client = await make_client(["*"])
    resp = await client.options("/v1/readings", headers={"Origin": OTHER, **PREFLIGHT})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.integration
async def test_the_real_intake_route_with_cors(js: JetStreamContext) -> None:
    """Wired the way the runner wires it: CORS first, then the guard rails, then the routes."""
    settings = IntakeSettings(cors_origins=PAGE, status_base_url=PAGE)
    async with TestClient(TestServer(intake_app(settings, js))) as client:
        resp = await client.options("/v1/readings", headers={"Origin": PAGE, **PREFLIGHT})
        assert resp.status == 204
        resp = await client.post("/v1/readings", json=GOOD, headers={"Origin": PAGE})
        assert resp.status == 202
        assert resp.headers["Access-Control-Allow-Origin"] == PAGE
        assert resp.headers["Location"].startswith(f"{PAGE}/v1/readings/")
        resp = await client.post("/v1/readings", json={"birth": {}}, headers={"Origin": PAGE})
        assert resp.status == 422
        assert resp.headers["Access-Control-Allow-Origin"] == PAGE
