"""The docs page in a real browser with no network: Swagger UI from the wheel renders the
API document (every operation), with no request leaving the app and no script error."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.api_document import document
from shared.openapi import add_docs_routes

pytestmark = [pytest.mark.browser]

TIMEOUT_MS = 30_000


async def test_docs_page_renders_every_operation_offline(page: Any, js_errors: list[str]) -> None:
    doc = document()
    app = web.Application()
    add_docs_routes(app, doc)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    origin = f"http://127.0.0.1:{server.port}"
    elsewhere: list[str] = []

    async def only_the_app(route: Any) -> None:
        if route.request.url.startswith(origin + "/"):
            await route.continue_()
        else:  # no network: anything else would fail offline
            elsewhere.append(route.request.url)
            await route.abort()

    try:
        await page.route("**/*", only_the_app)
        await page.goto(f"{origin}/docs")
        await page.wait_for_selector(".swagger-ui .opblock", timeout=TIMEOUT_MS)
        title = await page.text_content(".swagger-ui .info .title")
        assert title is not None and doc["info"]["title"] in title
        count = sum(len(item) for item in doc["paths"].values())
        assert await page.locator(".swagger-ui .opblock").count() == count
        assert await page.locator(".swagger-ui .btn.authorize").count() == 1  # the key schemes
        # Open the first operation: its schemas resolve and render.
        await page.locator(".swagger-ui .opblock-summary").first.click()
        await page.wait_for_selector(".swagger-ui .opblock-body .responses-table",
                                     timeout=TIMEOUT_MS)  # fmt: skip
        assert not elsewhere, f"the page reached out: {elsewhere}"
        assert not js_errors, js_errors
    finally:
        await server.close()
