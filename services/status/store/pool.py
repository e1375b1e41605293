"""The status service's PostgreSQL pool: made here, opened and closed by the runner.

`open_pool` is the runner's `Database.open` for status (`shared.runner`): it creates
the pool and applies pending migrations (`migrate`) before anything uses it. While
PostgreSQL is away (`outage.database_away`) the runner retries it, as it retries the
bus; the runner closes the pool after the service's cleanups.

`Pool` and `Connection` are the names other status modules use for the pool and its
connections: only `store` imports asyncpg.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg

from services.status.store.migrate import migrate
from shared.settings import StatusSettings

Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection

APPLICATION_NAME = "hd-status"
COMMAND_TIMEOUT_S = 10.0


async def open_pool(settings: StatusSettings) -> Pool:
    """A pool on `DATABASE_URL`, its schema migrated; an error leaves nothing open."""
    pool: Pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=1, max_size=settings.database_pool_size, command_timeout=COMMAND_TIMEOUT_S,
        server_settings={"timezone": "UTC", "application_name": APPLICATION_NAME},
        reset=_rollback_if_needed,
    )  # fmt: skip
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
    except BaseException:
        pool.terminate()  # the database may be away: do not wait for a graceful close
        raise
    return pool


async def _rollback_if_needed(conn: Connection) -> None:
    # We keep no session state (no SET, LISTEN or advisory locks outside `migrate`,
    # which unlocks itself), so the pool's full reset per release is wasted work.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")
