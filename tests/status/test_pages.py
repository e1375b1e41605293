"""The bodygraph route and the demo page's files, on a real PostgreSQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.status.store.projection import apply_batch
from services.status.store.readings import chart_json as load_chart_json
from services.status.web.bodygraph_svg import render_bodygraph
from services.status.web.pages import DemoPages
from shared.bus.consumer import Delivered
from shared.http import middlewares
from tests import factories as f

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application(middlewares=middlewares("status"))
    app.add_routes(DemoPages(pool, intake_url="http://127.0.0.1:8080/").routes())
    async with TestClient(TestServer(app)) as c:
        yield c


async def project(pool: asyncpg.Pool, *events: Any) -> None:
    await apply_batch(pool, [Delivered(e, seq, 1) for seq, e in enumerate(events, start=1)])


async def test_the_bodygraph_of_a_charted_reading(client, pool) -> None:
    rid = f.new_id()
    await project(pool, f.requested(rid), f.calculated(rid))
    resp = await client.get(f"/v1/readings/{rid}/bodygraph.svg")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert resp.headers["Cache-Control"] == "no-cache"
    body = await resp.text()
    assert body == render_bodygraph(f.chart())
    assert ET.fromstring(body.encode()).tag  # noqa: S314 - our own output == "{http://www.w3.org/2000/svg}svg"
    chart_json = await load_chart_json(pool, rid)
    assert chart_json is not None and json.loads(chart_json)["engine"]["version"] == "test"

    etag = resp.headers["ETag"]
    again = await client.get(f"/v1/readings/{rid}/bodygraph.svg",
                             headers={"If-None-Match": f'W/"x", {etag}'})  # fmt: skip
    assert again.status == 304
    assert again.headers["ETag"] == etag


async def test_unknown_reading_is_404_problem(client) -> None:
    for rid in (f.new_id(), "not a plausible id!"):
        resp = await client.get(f"/v1/readings/{rid}/bodygraph.svg")
        assert resp.status == 404
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        assert (await resp.json())["type"].endswith("/not-found")


async def test_a_reading_without_a_chart_yet_is_409_with_retry_after(client, pool) -> None:
    rid = f.new_id()
    await project(pool, f.requested(rid))
    resp = await client.get(f"/v1/readings/{rid}/bodygraph.svg")
    assert resp.status == 409
    assert resp.headers["Retry-After"] == "1"
    body = await resp.json()
    assert body["type"].endswith("/chart-not-ready")
    assert "not computed yet" in body["detail"]


async def test_a_reading_that_failed_before_its_chart_has_no_bodygraph(client, pool) -> None:
    rid = f.new_id()
    await project(pool, f.requested(rid), f.failed(rid, "place_not_found"))
    resp = await client.get(f"/v1/readings/{rid}/bodygraph.svg")
    assert resp.status == 409
    assert "Retry-After" not in resp.headers
    body = await resp.json()
    assert body["type"].endswith("/chart-unavailable")
    assert "failed before its chart was computed" in body["detail"]


async def test_the_demo_page_and_its_files(client) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' http://127.0.0.1:8080" in csp
    html = await resp.text()
    for needle in ('id="birth-form"', 'id="stages"', 'id="bodygraph"', 'id="reading"',
                   'id="error"', 'src="static/app.js"', 'href="static/app.css"'):  # fmt: skip
        assert needle in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere

    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        resp = await client.get(f"/static/{name}")
        assert resp.status == 200
        assert resp.headers["Content-Type"] == f"{kind}; charset=utf-8"
        again = await client.get(f"/static/{name}", headers={"If-None-Match": resp.headers["ETag"]})
        assert again.status == 304

    for missing in ("/static/nope.js", "/static/index.html", "/static/..%2Fpages.py"):
        resp = await client.get(missing)
        assert resp.status == 404, missing

    resp = await client.get("/demo-config.json")
    assert resp.status == 200
    assert await resp.json() == {"intake_url": "http://127.0.0.1:8080"}
