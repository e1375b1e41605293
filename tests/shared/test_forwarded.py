"""X-Forwarded-Host/-Proto count only from a trusted proxy, and only when well formed."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from shared.embedded.process import free_port
from shared.forwarded import forwarded_origin, parse_trusted_proxies


async def origin_seen(trusted: str, headers: dict[str, str]) -> str:
    """What a service trusting `trusted` makes of a request from 127.0.0.1."""
    networks = parse_trusted_proxies(trusted)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=forwarded_origin(request, networks) or "-")

    app = web.Application()
    app.router.add_get("/", handler)
    server = TestServer(app, host="127.0.0.1", port=free_port())
    await server.start_server()
    try:
        url = f"http://127.0.0.1:{server.port}/"
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
            return await resp.text()
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("trusted", "headers", "origin"),
    [
        ("127.0.0.1", {"X-Forwarded-Host": "127.0.0.1:8000"}, "http://127.0.0.1:8000"),
        ("10.0.0.0/8, 127.0.0.0/8", {"X-Forwarded-Host": "api.example, inner",
                                     "X-Forwarded-Proto": "https"}, "https://api.example"),
        ("", {"X-Forwarded-Host": "api.example"}, "-"),  # nobody is trusted
        ("10.0.0.0/8", {"X-Forwarded-Host": "api.example"}, "-"),  # not from that network
        ("127.0.0.1", {}, "-"),  # a trusted peer that names no host
        ("127.0.0.1", {"X-Forwarded-Host": "evil.example/path"}, "-"),
        ("127.0.0.1", {"X-Forwarded-Host": "a.example", "X-Forwarded-Proto": "javascript"}, "-"),
    ],
)  # fmt: skip
async def test_the_origin_a_trusted_proxy_names(
    trusted: str, headers: dict[str, str], origin: str
) -> None:
    assert await origin_seen(trusted, headers) == origin


def test_a_bad_entry_is_named() -> None:
    with pytest.raises(ValueError, match="'localhost' is not an IP address"):
        parse_trusted_proxies("127.0.0.1, localhost")
