"""The status routes behind real API keys for two tenants, on PostgreSQL and NATS.

The live hub is not started: SSE history comes from PostgreSQL only, as for a
reading whose events the stream no longer has.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext
from pydantic import SecretStr

from services.status.api.commands import CommandsApi
from services.status.api.erasure import ErasureApi
from services.status.api.live import LiveHub
from services.status.api.readings import StatusApi
from services.status.web.pages import DemoPages
from shared.bus.publish import Publisher
from shared.events.envelope import Envelope
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.http import api_app
from shared.settings import StatusSettings
from tests import factories as f

A = {"X-API-Key": "key-of-tenant-a"}
B = {"Authorization": "Bearer key-of-tenant-b"}
SETTINGS = StatusSettings(api_keys=SecretStr("a=key-of-tenant-a,b=key-of-tenant-b"),
                          api_rate_limit="")  # fmt: skip


class AllProjected(LiveHub):
    """A hub whose projection is complete: SSE history comes from PostgreSQL only."""

    async def projected_floor(self) -> int:
        return 2**62


@asynccontextmanager
async def tenant_client(
    pool: asyncpg.Pool, js: JetStreamContext
) -> AsyncIterator[TestClient[Any, Any]]:
    app = api_app("status", SETTINGS)
    app.add_routes(StatusApi(SETTINGS, pool, js, AllProjected()).routes())
    app.add_routes(CommandsApi(pool, js, Publisher(js, service="test")).routes())
    app.add_routes(ErasureApi(pool, stream_max_age_s=SETTINGS.stream_max_age_s).routes())
    app.add_routes(DemoPages(pool, js=js).routes())
    async with TestClient(TestServer(app)) as client:
        yield client


def requested(rid: str, tenant: str, user_id: str, version: int = 1) -> Envelope[Any]:
    """A `reading.requested` of `tenant`'s user."""
    data = ReadingRequested(reading_id=rid, version=version, birth=f.birth(), user_id=user_id,
                            tenant=tenant)  # fmt: skip
    return make_event(data, source="/tests")


def finished(rid: str, tenant: str, user_id: str) -> list[Envelope[Any]]:
    """Every event of a reading written to the end."""
    return [requested(rid, tenant, user_id), f.calculated(rid), f.started(rid),
            f.generated(rid, f"the reading of {rid}")]  # fmt: skip


def sse_types(body: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in body.splitlines()
            if line.startswith("event:")]  # fmt: skip
