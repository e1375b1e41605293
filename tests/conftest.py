"""Session fixtures: a real NATS server (JetStream) and a real PostgreSQL.

Both start from their wheels on free ports in temporary folders, once per
test session (per xdist worker). `TEST_NATS_CLUSTER=3` starts three clustered NATS servers
instead of one, with every stream at three replicas (`tests/bus.py`).
`TEST_NATS_URL` / `TEST_DATABASE_URL` in the environment point the tests at
existing servers instead. Each test that touches the bus gets a clean
stream; each test that touches the database gets a fresh database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.bus.connect import server_list
from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from tests.bus import cluster_size, fresh_stream
from tests.databases import fresh_database, pg_home

Nats = EmbeddedNats | EmbeddedNatsCluster


def pytest_configure(config: pytest.Config) -> None:
    if cluster_size() > 1:
        # Before any service or settings object reads it: the whole run at R3.
        os.environ.setdefault("STREAM_REPLICAS", str(cluster_size()))


# Tests that start the services as processes (a stack each) run one after another on
# one worker when `make test` runs pytest-xdist (`--dist loadgroup`); the rest share
# the other worker. Two stacks at once on two cores would only make them wait.
STACK_DIRS = ("e2e", "browser", "hdq")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(root).parts if item.path.is_relative_to(root) else ()
        if parts and parts[0] in STACK_DIRS:
            item.add_marker(pytest.mark.xdist_group("stacks"))


def pytest_report_header(config: pytest.Config) -> str:
    size = cluster_size()
    return f"NATS: {'one server' if size == 1 else f'a {size}-node cluster'} (TEST_NATS_CLUSTER)"


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nats | str]:
    if url := os.environ.get("TEST_NATS_URL"):
        yield url
        return
    server: Nats
    if cluster_size() > 1:
        server = EmbeddedNatsCluster(tmp_path_factory.mktemp("nats"), size=cluster_size())
    else:
        server = EmbeddedNats(tmp_path_factory.mktemp("nats"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: Nats | str) -> str:
    return nats_server if isinstance(nats_server, str) else nats_server.url


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres | str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    with pg_home() as home:
        server = EmbeddedPostgres(home / "data", free_port(), durable=False)
        server.start()
        yield server
        server.stop()


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    """A folder for a test's own embedded PostgreSQL (see `tests.databases.pg_home`)."""
    with pg_home() as home:
        yield home


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
    conn = await nats.connect(server_list(nats_url))
    yield conn
    await conn.close()


@pytest.fixture
async def js(nc: NATS) -> AsyncIterator[JetStreamContext]:
    """JetStream with the pipeline stream deleted and declared afresh."""
    ctx = nc.jetstream()
    await fresh_stream(ctx)
    yield ctx


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
