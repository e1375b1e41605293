"""The four services as real subprocesses, started the way `make run` starts them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr

from shared.embedded.process import free_port
from shared.launcher import Stack
from shared.settings import LauncherSettings


@pytest.fixture
async def stack(
    nats_url: str, database_url: str, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[Stack]:
    settings = LauncherSettings(
        data_dir=tmp_path, nats_url=nats_url, database_url=SecretStr(database_url),
        intake_port=free_port(), status_port=free_port(), chart_ops_port=free_port(),
        reader_ops_port=free_port(),
    )  # fmt: skip
    st = Stack(settings, extra_env={"LOG_FORMAT": "json", "LOG_LEVEL": "info",
                                    "DRAIN_TIMEOUT_S": "5"})  # fmt: skip
    st.start_services()
    try:
        assert await asyncio.to_thread(st.wait_ready, 60), "services did not become ready"
        yield st
    finally:
        await asyncio.to_thread(st.stop, 15)


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
