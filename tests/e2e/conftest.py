"""The four services as real subprocesses, started the way `make run` starts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from nats.js import JetStreamContext

from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import running


@pytest.fixture
async def stack(
    nats_url: str, database_url: str, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[Stack]:
    settings = on_free_ports(tmp_path, nats_url, database_url)
    st = Stack(settings, extra_env={"LOG_FORMAT": "json", "LOG_LEVEL": "info",
                                    "DRAIN_TIMEOUT_S": "5"})  # fmt: skip
    async with running(st):
        yield st


@pytest.fixture
def intake_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.intake_port}"


@pytest.fixture
def status_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.status_port}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
        yield s
