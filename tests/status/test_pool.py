"""The runner opens status' pool as it opens the bus (`shared.runner.Database`,
`services/status/store/pool.py`): on the real NATS and PostgreSQL, it waits while the
database is away, hands setup a migrated pool and closes it on shutdown."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from services.status.__main__ import DATABASE
from services.status.store.outage import database_away
from services.status.store.pool import Pool, open_pool
from services.status.store.readings import chart_json
from shared.embedded.process import free_port
from shared.runner import Database, Runtime, _main
from shared.settings import StatusSettings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _keep_gc() -> Iterator[None]:
    """`_main` tunes the collector for a service process; give the test process its own back."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def settings_for(nats_url: str, database_url: str) -> StatusSettings:
    return StatusSettings(nats_url=nats_url, database_url=SecretStr(database_url), ops_port=0)


async def test_the_runner_waits_for_the_database_then_opens_and_closes_the_pool(
    nats_url: str, database_url: str
) -> None:
    away = f"postgresql://hd@127.0.0.1:{free_port()}/hd"  # nothing listens there
    attempts: list[str] = []

    async def open_after_two_refusals(settings: StatusSettings) -> Pool:
        attempts.append("away" if len(attempts) < 2 else "up")
        url = away if attempts[-1] == "away" else database_url
        return await open_pool(settings.model_copy(update={"database_url": SecretStr(url)}))

    seen: list[Pool] = []

    async def setup(rt: Runtime[Any]) -> None:
        assert await chart_json(rt.pool, "no-such-reading") is None  # migrated: charts exists
        seen.append(rt.pool)
        rt.stopping.set()  # up: stop at once

    database = Database(open=open_after_two_refusals, away=database_away)
    await _main("status", settings_for(nats_url, database_url), setup, free_port(), database)

    assert attempts == ["away", "away", "up"]
    assert len(seen) == 1 and seen[0].is_closing()  # the runner closed it on shutdown


async def test_an_error_that_is_not_an_outage_stops_the_service(
    nats_url: str, database_url: str
) -> None:
    async def refused(settings: StatusSettings) -> Pool:
        raise ValueError("a migration the database refuses")

    async def setup(rt: Runtime[Any]) -> None:
        raise AssertionError("setup must not run without its pool")

    with pytest.raises(ValueError, match="migration"):
        await _main("status", settings_for(nats_url, database_url), setup, free_port(),
                    Database(open=refused, away=database_away))  # fmt: skip


def test_status_asks_the_runner_for_its_pool() -> None:
    assert DATABASE.open is open_pool and DATABASE.away is database_away
