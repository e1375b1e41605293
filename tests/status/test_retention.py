"""Retention (`services/status/store/retention.py`) on a real PostgreSQL: expired history goes
in batches, one replica sweeps at a time, a database outage is waited out, and readings
are never touched. And the stream's fill as status exports it, on a real JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from services.status.projection.stream_watch import StreamWatch
from services.status.store.retention import (
    APPLICATION_NAME,
    LOCK_KEY,
    Expiry,
    Retention,
    Swept,
    connector,
    expiries,
)
from shared import names
from shared.embedded.process import free_port
from shared.settings import StatusSettings

pytestmark = pytest.mark.integration

DAY = 24 * 3600.0
# The defaults: inbox 8 days (the stream's 7 + 1), event history and dead letters 30.
POLICY = expiries(StatusSettings(stream_max_age_s=7 * DAY))


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def deleted_rows(table: str) -> float:
    return sample("hd_retention_deleted_rows_total", table=table)


def sweeps(outcome: str) -> float:
    return sample("hd_retention_sweeps_total", outcome=outcome)


def retention(url: str, *, batch_size: int = 1000, interval_s: float = 300.0) -> Retention:
    return Retention(connector(url), POLICY, batch_size=batch_size, interval_s=interval_s)


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as c:
        yield c


async def add_inbox(conn: asyncpg.Connection, prefix: str, count: int, age_days: float) -> None:
    await conn.execute(
        """INSERT INTO inbox (event_id, stream_seq, processed_at)
           SELECT $1 || g, g, now() - make_interval(secs => $3 * 86400)
           FROM generate_series(1, $2) g""",
        prefix, count, age_days,
    )  # fmt: skip


async def add_history(conn: asyncpg.Connection, seq: int, age_days: float) -> None:
    await conn.execute(
        """INSERT INTO reading_events (seq, reading_id, type, time, data)
           VALUES ($1, 'r-old', 'reading.requested', now() - make_interval(secs => $2 * 86400),
                   '{}')""",
        seq, age_days,
    )  # fmt: skip


async def add_dead_letter(conn: asyncpg.Connection, seq: int, age_days: float) -> None:
    await conn.execute(
        """INSERT INTO dead_letters (stream_seq, subject, stage, code, message, created_at)
           VALUES ($1, 'hd.x.y', 'bus', 'poison', 'unreadable',
                   now() - make_interval(secs => $2 * 86400))""",
        seq, age_days,
    )  # fmt: skip


async def add_old_reading(conn: asyncpg.Connection, reading_id: str, age_days: float) -> None:
    """A finished reading with its chart and two versions, all `age_days` old."""
    await conn.execute(
        """WITH t AS (SELECT now() - make_interval(secs => $2 * 86400) AS at)
           INSERT INTO readings (id, status, status_rank, current_version, created_at, updated_at)
           SELECT $1, 'completed', 4, 2, at, at FROM t""",
        reading_id, age_days,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO charts (reading_id, chart, duration_s, computed_at)
           VALUES ($1, '{}', 0.01, now() - make_interval(secs => $2 * 86400))""",
        reading_id, age_days,
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO reading_versions (reading_id, version, is_current, text, provider, model,
               composed_offline, agent, language, prompt_version, usage, latency_s, created_at)
           SELECT $1, v, v = 2, 'text', 'offline', 'm', true, 'a', 'en', 'p1', '{}', 1.0,
                  now() - make_interval(secs => $2 * 86400)
           FROM generate_series(1, 2) v""",
        reading_id, age_days,
    )  # fmt: skip


async def keys(conn: asyncpg.Connection, sql: str) -> set[object]:
    return {r[0] for r in await conn.fetch(sql)}


async def blocked_sweep(
    sweeper: Retention, conn: asyncpg.Connection, locker: asyncpg.Connection
) -> tuple[asyncio.Task[Swept | None], int]:
    """Start `sweeper`'s round while `locker` keeps writers off inbox (readers pass): the
    round takes the advisory lock, then waits on its first DELETE. Its task and pid."""
    await locker.execute("BEGIN; LOCK TABLE inbox IN SHARE MODE")
    task = asyncio.ensure_future(sweeper.run_once())
    while True:
        pid = await conn.fetchval(
            """SELECT pid FROM pg_stat_activity WHERE application_name = $1
               AND datname = current_database() AND wait_event_type = 'Lock'""",
            APPLICATION_NAME,
        )
        if pid is not None:
            return task, pid
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)


async def test_expired_history_goes_newer_history_and_readings_stay(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 3, age_days=9)  # past 8 days
    await add_inbox(conn, "new-", 2, age_days=7)  # still in the stream's 7 days + 1
    await add_history(conn, 1, age_days=31)
    await add_history(conn, 2, age_days=29)
    await add_dead_letter(conn, 10, age_days=31)
    await add_dead_letter(conn, 11, age_days=29)
    await add_old_reading(conn, "r-ancient", age_days=400)
    before = {t: deleted_rows(t) for t in ("inbox", "reading_events", "dead_letters")}

    swept = await retention(database_url).sweep()

    assert swept is not None
    assert swept.rows == {"inbox": 3, "reading_events": 1, "dead_letters": 1}
    assert await keys(conn, "SELECT event_id FROM inbox") == {"new-1", "new-2"}
    assert await keys(conn, "SELECT seq FROM reading_events") == {2}
    assert await keys(conn, "SELECT stream_seq FROM dead_letters") == {11}
    assert await keys(conn, "SELECT id FROM readings") == {"r-ancient"}
    assert await keys(conn, "SELECT reading_id FROM charts") == {"r-ancient"}
    assert await keys(conn, "SELECT version FROM reading_versions") == {1, 2}
    assert {t: deleted_rows(t) - n for t, n in before.items()} == swept.rows
    for table in before:
        assert sample("hd_retention_last_success_timestamp_seconds", table=table) > 0


async def test_more_rows_than_a_batch_go_in_several_batches(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 2500, age_days=9)
    await add_inbox(conn, "new-", 3, age_days=1)

    swept = await retention(database_url, batch_size=1000).sweep()

    assert swept is not None
    assert swept.rows["inbox"] == 2500
    assert swept.batches["inbox"] == 3  # 1000 + 1000 + 500
    assert swept.batches["reading_events"] == 1  # nothing to delete: one DELETE, 0 rows
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 3


async def test_two_sweepers_at_once_only_one_sweeps(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 5, age_days=9)
    first, second = retention(database_url), retention(database_url)
    locker = await asyncpg.connect(database_url)
    try:
        task, _ = await blocked_sweep(first, conn, locker)  # first holds the advisory lock
        locked = sweeps("locked")
        # Bounded: a second sweeper that ignored the lock would wait on the DELETE.
        assert await asyncio.wait_for(second.run_once(), 30) is None
        assert sweeps("locked") == locked + 1
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 5  # second did nothing
        await locker.execute("ROLLBACK")
        swept = await task
    finally:
        await locker.close()
    assert swept is not None and swept.rows["inbox"] == 5
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 0
    # The first round ended its session: the lock is free for the next one.
    assert await second.sweep() is not None


async def test_the_lock_of_another_session_keeps_a_sweeper_out(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 2, age_days=9)
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        assert await retention(database_url).sweep() is None
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 2
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    assert await retention(database_url).sweep() is not None
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_connection_lost_mid_sweep_is_waited_out(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 4, age_days=9)
    sweeper = retention(database_url)
    failed = sweeps("failed")
    locker = await asyncpg.connect(database_url)
    try:
        task, pid = await blocked_sweep(sweeper, conn, locker)
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
        assert await task is None  # logged and counted, not raised
        await locker.execute("ROLLBACK")
    finally:
        await locker.close()
    assert sweeps("failed") == failed + 1
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 4
    swept = await sweeper.run_once()  # the next round
    assert swept is not None and swept.rows["inbox"] == 4
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 0


async def test_the_background_sweep_outlives_a_database_it_cannot_reach(
    conn: asyncpg.Connection, database_url: str
) -> None:
    await add_inbox(conn, "old-", 3, age_days=9)
    real = connector(database_url)
    down = connector(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")
    attempts = 0
    swept_once = asyncio.Event()

    async def connect() -> asyncpg.Connection:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:
            return await down()  # connection refused: the database is away
        swept_once.set()
        return await real()

    failed = sweeps("failed")
    sweeper = Retention(connect, POLICY, batch_size=1000, interval_s=0.01)
    sweeper.start()
    try:
        await swept_once.wait()
        while await conn.fetchval("SELECT count(*) FROM inbox"):
            await asyncio.sleep(0.01)
    finally:
        await sweeper.stop()
    assert sweeps("failed") >= failed + 2


def test_the_policy_follows_the_settings() -> None:
    settings = StatusSettings(
        stream_max_age_s=14 * DAY, event_history_retention_s=90 * DAY,
        dead_letter_retention_s=7 * DAY,
    )  # fmt: skip
    policy = {e.table: e for e in expiries(settings)}
    assert policy["inbox"] == Expiry("inbox", "event_id", "processed_at", 15 * DAY)
    assert policy["reading_events"].keep_s == 90 * DAY
    assert policy["dead_letters"].keep_s == 7 * DAY
    assert set(policy) == {"inbox", "reading_events", "dead_letters"}  # never readings


async def test_the_stream_gauge_shows_the_stream_s_bytes(js: JetStreamContext) -> None:
    for i in range(20):
        await js.publish(f"{names.SUBJECT_PREFIX}.test.{i}", b"x" * 1000)
    info = await js.stream_info(names.STREAM)
    assert info.state.bytes > 20_000

    assert await StreamWatch(js).poll() == info.state.bytes

    assert sample("hd_stream_bytes", stream=names.STREAM) == info.state.bytes
    limit = info.config.max_bytes
    assert limit is not None and limit > 0
    assert sample("hd_stream_max_bytes", stream=names.STREAM) == limit
