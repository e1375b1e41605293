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
from shared.runner import Database, Runtime
from shared.settings import HttpSettings


@asynccontextmanager
async def service_app(
    name: str,
    setup: Callable[[Runtime[Any]], Awaitable[None]],
    settings: HttpSettings,
    nc: NATS,
    js: JetStreamContext,
    database: Database | None = None,
) -> AsyncIterator[web.Application]:
    """The application `python -m services.<name>` serves (routes, middlewares), without
    its consume loops; with its database pool opened as the runner opens it (`database`);
    its cleanups run on the way out, then the pool closes."""
    app = api_app(name, settings)
    pool = await database.open(settings) if database is not None else None
    rt: Runtime[Any] = Runtime(name, settings, nc, js, Publisher(js, service=name), app, pool=pool)
    try:
        await setup(rt)
        add_ops_routes(app, rt.checks)
        yield app
    finally:
        for cleanup in reversed(rt.cleanups):
            await cleanup()
        if pool is not None:
            await pool.close()
