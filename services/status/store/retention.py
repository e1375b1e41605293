"""Retention: expired history leaves PostgreSQL in small batches, one replica at a time.

What expires, by the settings: the inbox's event ids after `INBOX_RETENTION_S` (never
before the stream forgets the event, which the settings check: the projection's dedup
needs the id as long as the event can be redelivered or replayed), a reading's SSE
history (`reading_events`) after `EVENT_HISTORY_RETENTION_S` and dead letters after
`DEAD_LETTER_RETENTION_S`. Readings, charts and reading versions are kept until deleted.

Every `RETENTION_INTERVAL_S` each status replica tries a round. The round opens a
connection of its own (the projection's pool is left alone) and takes a session
advisory lock with `pg_try_advisory_lock`: a replica that does not get it skips the
round, so one replica sweeps at a time. It then deletes each table's expired rows,
oldest first, `RETENTION_BATCH_SIZE` per DELETE, each DELETE its own short
transaction followed by a short pause, so the projection's writes never wait long. A
table is done when a DELETE removes fewer rows than the batch size. Closing the
connection ends the session, which releases the lock whatever happened.

A round the database fails (away, per `outage.database_away`, or anything else) is
logged and counted; the next round tries again. It never stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg

from services.status.store.outage import database_away
from shared.logging import get_logger
from shared.metrics import RETENTION_DELETED, RETENTION_LAST_SUCCESS, RETENTION_SWEEPS
from shared.settings import StatusSettings
from shared.tasks import stop_task

log = get_logger(__name__)

LOCK_KEY = 0x6864_7274  # "hdrt"; migrate.py's lock is "hdst"
PAUSE_S = 0.02  # after each full batch: the projection's transactions go first
CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 60.0  # one batch; longer counts as the database being away
APPLICATION_NAME = "hd-status-retention"

Connect = Callable[[], Awaitable[asyncpg.Connection]]


@dataclass(frozen=True)
class Expiry:
    """Rows of `table` older than `keep_s` by the column `time` expire; `key` is unique."""

    table: str
    key: str
    time: str
    keep_s: float

    @property
    def delete_sql(self) -> str:
        # $1: seconds kept, $2: rows at most. The clock is the database's, as for
        # the `DEFAULT now()` columns.
        return (
            f"DELETE FROM {self.table} WHERE {self.key} IN ("
            f"SELECT {self.key} FROM {self.table} "
            f"WHERE {self.time} < now() - make_interval(secs => $1) "
            f"ORDER BY {self.time} LIMIT $2)"
        )


def expiries(settings: StatusSettings) -> tuple[Expiry, ...]:
    """The history policy of the settings, table by table."""
    return (
        Expiry("inbox", "event_id", "processed_at", settings.inbox_retention),
        Expiry("reading_events", "seq", "time", settings.event_history_retention_s),
        Expiry("dead_letters", "id", "created_at", settings.dead_letter_retention_s),
    )


def connector(dsn: str) -> Connect:
    """Connections for the sweep, one per round, outside the projection's pool."""

    async def connect() -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(
            dsn, timeout=CONNECT_TIMEOUT_S, command_timeout=STATEMENT_TIMEOUT_S,
            server_settings={"timezone": "UTC", "application_name": APPLICATION_NAME},
        )  # fmt: skip
        return conn

    return connect


@dataclass
class Swept:
    """What one round deleted: rows and DELETE statements, per table."""

    rows: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)


class Retention:
    def __init__(
        self,
        connect: Connect,
        policy: Sequence[Expiry],
        *,
        batch_size: int,
        interval_s: float,
        pause_s: float = PAUSE_S,
        lock_key: int = LOCK_KEY,
    ) -> None:
        self._connect = connect
        self._policy = tuple(policy)
        self._batch_size = batch_size
        self._interval_s = interval_s
        self._pause_s = pause_s
        self._lock_key = lock_key
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: StatusSettings) -> Retention:
        return cls(
            connector(settings.database_url.get_secret_value()), expiries(settings),
            batch_size=settings.retention_batch_size, interval_s=settings.retention_interval_s,
        )  # fmt: skip

    def start(self) -> None:
        self._task = asyncio.create_task(self._every_interval(), name="retention")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def _every_interval(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._interval_s)

    async def run_once(self) -> Swept | None:
        """One round that never raises: what it deleted, or None (locked elsewhere, failed)."""
        try:
            swept = await self.sweep()
        except Exception as exc:
            RETENTION_SWEEPS.labels("failed").inc()
            if database_away(exc):
                log.warning("retention sweep: database unavailable, trying again next round",
                            error=type(exc).__name__, next_in_s=self._interval_s)  # fmt: skip
            else:
                log.error("retention sweep failed, trying again next round",
                          error=repr(exc), next_in_s=self._interval_s)  # fmt: skip
            return None
        if swept is None:
            RETENTION_SWEEPS.labels("locked").inc()
            log.debug("retention sweep: another replica is sweeping")
            return None
        RETENTION_SWEEPS.labels("done").inc()
        if any(swept.rows.values()):
            log.info("retention sweep done", deleted=swept.rows)
        return swept

    async def sweep(self) -> Swept | None:
        """One round; None when another replica holds the lock. Database errors propagate."""
        conn = await self._connect()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key):
                return None
            swept = Swept()
            for expiry in self._policy:
                await self._expire(conn, expiry, swept)
            return swept
        finally:
            await _close(conn)  # ends the session, and so the lock

    async def _expire(self, conn: asyncpg.Connection, expiry: Expiry, swept: Swept) -> None:
        sql = expiry.delete_sql
        while True:
            status = await conn.execute(sql, expiry.keep_s, self._batch_size)
            deleted = int(status.rpartition(" ")[2])  # "DELETE <n>"
            swept.rows[expiry.table] = swept.rows.get(expiry.table, 0) + deleted
            swept.batches[expiry.table] = swept.batches.get(expiry.table, 0) + 1
            RETENTION_DELETED.labels(expiry.table).inc(deleted)
            if deleted < self._batch_size:
                break
            await asyncio.sleep(self._pause_s)
        RETENTION_LAST_SUCCESS.labels(expiry.table).set_to_current_time()


async def _close(conn: asyncpg.Connection) -> None:
    try:
        with contextlib.suppress(Exception):  # a lost connection is closed all the same
            await conn.close(timeout=5)
    finally:
        if not conn.is_closed():
            conn.terminate()  # cancelled meanwhile, or the close failed: drop the socket
