"""Session fixtures: a real NATS server (JetStream) and a real PostgreSQL.

Both start from their wheels on free ports in temporary folders, once per
test session. `NATS_URL` / `DATABASE_URL` in the environment point the tests
at existing servers instead. Each test that touches the bus gets a clean
stream; each test that touches the database gets a fresh database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared import names
from shared.bus.topology import ensure_stream
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from tests.databases import fresh_database


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats | str]:
    if url := os.environ.get("TEST_NATS_URL"):
        yield url
        return
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats | str) -> str:
    return nats_server if isinstance(nats_server, str) else nats_server.url


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres | str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port(), durable=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres: EmbeddedPostgres | str) -> str:
    return postgres if isinstance(postgres, str) else postgres.url


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    async with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    conn = await nats.connect(nats_url)
    yield conn
    await conn.close()


@pytest.fixture
async def js(nc: NATS) -> AsyncIterator[JetStreamContext]:
    """JetStream with the pipeline stream deleted and declared afresh."""
    ctx = nc.jetstream()
    with contextlib.suppress(NotFoundError):
        await ctx.delete_stream(names.STREAM)
    await ensure_stream(ctx)
    # A stream deleted and re-created at once can still hand back old messages on a
    # slow disk: purge, and make sure the test starts from nothing.
    await ctx.purge_stream(names.STREAM)
    info = await ctx.stream_info(names.STREAM)
    assert info.state.messages == 0 and info.config.name == names.STREAM
    yield ctx


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
