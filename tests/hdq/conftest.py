"""One real stack (NATS, PostgreSQL, the four services) for all `hdq` tests of a module.

The same stack as `tests/e2e/conftest.py` builds per test, started once per
module here: the CLI only reads and adds readings, so its tests can share it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest

from shared.bus.connect import server_list
from shared.launcher import Stack, on_free_ports
from tests.bus import fresh_stream
from tests.databases import fresh_database
from tests.e2e.helpers import running


@pytest.fixture(scope="module")
async def module_database_url(postgres_url: str) -> AsyncIterator[str]:
    async with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="module")
async def clean_stream(nats_url: str) -> None:
    """An empty stream, so the stack does not work through other tests' leftovers."""
    nc = await nats.connect(server_list(nats_url))
    try:
        await fresh_stream(nc.jetstream())
    finally:
        await nc.close()


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    """Extra environment of the services; a module overrides it (API keys, say)."""
    return {}


@pytest.fixture(scope="module")
async def stack(
    nats_url: str,
    module_database_url: str,
    clean_stream: None,
    stack_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    settings = on_free_ports(tmp_path_factory.mktemp("hdq-stack"), nats_url, module_database_url)
    env = {"LOG_FORMAT": "json", "LOG_LEVEL": "warning", "DRAIN_TIMEOUT_S": "5", **stack_env}
    st = Stack(settings, extra_env=env)
    async with running(st):
        yield st


@pytest.fixture(scope="module")
def intake_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.intake_port}"


@pytest.fixture(scope="module")
def status_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.status_port}"
