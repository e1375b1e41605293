"""Apps of the API services built by their own `setup`, on the real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.bus.publish import Publisher
from shared.http import add_ops_routes, api_app
from shared.runner import Runtime
from shared.settings import HttpSettings


@asynccontextmanager
async def service_app(
    name: str,
    setup: Callable[[Runtime[Any]], Awaitable[None]],
    settings: HttpSettings,
    nc: NATS,
    js: JetStreamContext,
) -> AsyncIterator[web.Application]:
    """The application `python -m services.<name>` serves (routes, middlewares), without
    its consume loops; its cleanups run on the way out."""
    app = api_app(name, settings)
    rt: Runtime[Any] = Runtime(name, settings, nc, js, Publisher(js, service=name), app)
    await setup(rt)
    add_ops_routes(app, rt.checks)
    try:
        yield app
    finally:
        for cleanup in reversed(rt.cleanups):
            await cleanup()
