"""One classification of database errors (`services/status/store/outage.py`), checked against
errors provoked from a real PostgreSQL, and what the projection and the API do with it:
an away database is waited out (retry, 503), only data the database refuses is poison."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.status.api.readings import database_unavailable
from services.status.projection.handler import project
from services.status.store.outage import data_refused, database_away
from shared.bus.outcomes import Transient
from shared.embedded.process import free_port
from tests import factories as f

pytestmark = pytest.mark.integration

Provoke = Callable[[str], Awaitable[BaseException]]


def verdict(exc: BaseException) -> str:
    away, refused = database_away(exc), data_refused(exc)
    assert not (away and refused), exc
    return "away" if away else "refused" if refused else "neither"


async def raised(work: Awaitable[Any]) -> BaseException:
    try:
        await work
    except Exception as exc:
        return exc
    raise AssertionError("no error was raised")


async def terminated_backend(url: str) -> BaseException:
    """What a session sees when the server ends its backend mid-query (fast shutdown).

    asyncpg 0.32 raises ConnectionDoesNotExistError (08003) when the server's FATAL is
    followed by the connection's end, with the server's AdminShutdownError (57P01) as
    its cause; see `admin_shutdown`.
    """
    victim, admin = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        pid = victim.get_server_pid()
        sleeping = asyncio.ensure_future(victim.execute("SELECT pg_sleep(30)"))
        while not await admin.fetchval(
            "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", pid
        ):
            await asyncio.sleep(0.01)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        return await raised(sleeping)
    finally:
        await victim.close()
        await admin.close()


async def admin_shutdown(url: str) -> BaseException:
    cause = (await terminated_backend(url)).__cause__
    assert cause is not None
    return cause


async def closed_port(url: str) -> BaseException:
    return await raised(asyncpg.connect(host="127.0.0.1", port=free_port(), user="postgres"))


async def closed_connection(url: str) -> BaseException:
    conn = await asyncpg.connect(url)
    await conn.close()
    return await raised(conn.fetchval("SELECT 1"))


async def pool_acquire_timeout(url: str) -> BaseException:
    async with asyncpg.create_pool(url, min_size=1, max_size=1) as pool, pool.acquire():
        return await raised(pool.acquire(timeout=0.05))


async def command_timeout(url: str) -> BaseException:
    conn = await asyncpg.connect(url)
    try:
        return await raised(conn.execute("SELECT pg_sleep(30)", timeout=0.05))
    finally:
        await conn.close()


async def on_one_connection(url: str, *sql: str, args: tuple[Any, ...] = ()) -> BaseException:
    """Run `sql` in order on one connection; the last statement is expected to fail."""
    conn = await asyncpg.connect(url)
    try:
        for statement in sql[:-1]:
            await conn.execute(statement)
        return await raised(conn.fetch(sql[-1], *args))
    finally:
        await conn.close()


async def statement_timeout(url: str) -> BaseException:
    return await on_one_connection(url, "SET statement_timeout = '20ms'", "SELECT pg_sleep(30)")


async def read_only(url: str) -> BaseException:
    """A standby (or the old primary after a failover) refuses every write."""
    return await on_one_connection(
        url, "SET default_transaction_read_only = on", "CREATE TABLE t (x int)"
    )


async def role_at_its_connection_limit(url: str) -> BaseException:
    role = f"full_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
        return await raised(asyncpg.connect(url, user=role))
    finally:
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def no_such_database(url: str) -> BaseException:
    return await raised(asyncpg.connect(url, database=f"gone_{uuid.uuid4().hex[:12]}"))


async def no_such_role(url: str) -> BaseException:
    return await raised(asyncpg.connect(url, user=f"nobody_{uuid.uuid4().hex[:12]}"))


async def serialization_failure(url: str) -> BaseException:
    first, second = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        await first.execute("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)")
        await first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT n FROM counter")
        await second.execute("UPDATE counter SET n = 1")
        return await raised(first.execute("UPDATE counter SET n = 2"))
    finally:
        await first.close()
        await second.close()


async def unique_violation(url: str) -> BaseException:
    return await on_one_connection(
        url, "CREATE TEMP TABLE once (x int PRIMARY KEY)", "INSERT INTO once VALUES (1)",
        "INSERT INTO once VALUES (1)",
    )  # fmt: skip


async def bad_cast(url: str) -> BaseException:
    return await on_one_connection(url, "SELECT 'seven'::int")


async def nul_in_text(url: str) -> BaseException:
    return await on_one_connection(url, "SELECT $1::text", args=("a\x00b",))


async def unencodable_argument(url: str) -> BaseException:
    return await on_one_connection(url, "SELECT $1::int", args=(2**40,))


async def undefined_table(url: str) -> BaseException:
    return await on_one_connection(url, "SELECT * FROM no_such_table")


async def starting_up(url: str) -> BaseException:
    # 57P03 needs a server in the middle of starting (or stopping); too slow to provoke
    # here. tests/e2e/test_outages.py meets the real one; this is its class as asyncpg
    # raises it.
    exc: BaseException = asyncpg.CannotConnectNowError("the database system is starting up")
    return exc


async def not_a_database_error(url: str) -> BaseException:
    return ValueError("a bug of ours")


CASES: list[tuple[Provoke, type[BaseException], str | None, str]] = [
    (terminated_backend, asyncpg.ConnectionDoesNotExistError, "08003", "away"),
    (admin_shutdown, asyncpg.AdminShutdownError, "57P01", "away"),
    (starting_up, asyncpg.CannotConnectNowError, "57P03", "away"),
    (closed_port, ConnectionRefusedError, None, "away"),
    (closed_connection, asyncpg.InterfaceError, None, "away"),
    (pool_acquire_timeout, TimeoutError, None, "away"),
    (command_timeout, TimeoutError, None, "away"),
    (statement_timeout, asyncpg.QueryCanceledError, "57014", "away"),
    (read_only, asyncpg.ReadOnlySQLTransactionError, "25006", "away"),
    (role_at_its_connection_limit, asyncpg.TooManyConnectionsError, "53300", "away"),
    (no_such_database, asyncpg.InvalidCatalogNameError, "3D000", "away"),
    (no_such_role, asyncpg.InvalidAuthorizationSpecificationError, "28000", "away"),
    (serialization_failure, asyncpg.SerializationError, "40001", "away"),
    (unique_violation, asyncpg.UniqueViolationError, "23505", "refused"),
    (bad_cast, asyncpg.InvalidTextRepresentationError, "22P02", "refused"),
    (nul_in_text, asyncpg.CharacterNotInRepertoireError, "22021", "refused"),
    (unencodable_argument, asyncpg.DataError, "22000", "refused"),
    (undefined_table, asyncpg.UndefinedTableError, "42P01", "neither"),
    (not_a_database_error, ValueError, None, "neither"),
]


@pytest.mark.parametrize(
    ("provoke", "raised_as", "code", "expected"), CASES, ids=[c[0].__name__ for c in CASES]
)
async def test_each_error_is_classified(
    database_url: str, provoke: Provoke, raised_as: type[BaseException], code: str | None,
    expected: str,
) -> None:  # fmt: skip
    exc = await provoke(database_url)
    assert isinstance(exc, raised_as), repr(exc)  # the server really said this
    assert getattr(exc, "sqlstate", None) == code
    assert verdict(exc) == expected


# The consumer path: `project`, the status consumer's batch handler.


@pytest.fixture
async def admin(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn:
        yield conn


async def dead_letters(admin: asyncpg.Connection) -> list[str]:
    return [r["subject"] for r in await admin.fetch("SELECT subject FROM dead_letters")]


async def test_only_the_event_with_refused_data_is_dead_lettered(pool, admin) -> None:
    good, bad, s = f.new_id(), f.new_id(), f.Stream()
    batch = s(f.requested(good), f.generated(bad, text="a\x00b"), f.calculated(good))
    assert await project(pool, batch) == [[], [], []]  # all settled: acked
    assert await dead_letters(admin) == [f"hd.reading.generated.{bad}"]
    assert await admin.fetchval("SELECT status FROM readings WHERE id = $1", good) == "chart_ready"


@pytest.mark.parametrize("away", ["refused connection", "standby"])
async def test_while_the_database_is_away_every_event_waits(
    database_url: str, admin: asyncpg.Connection, away: str
) -> None:
    if away == "refused connection":
        target: dict[str, Any] = {"dsn": None, "host": "127.0.0.1", "port": free_port(),
                                  "user": "postgres"}  # fmt: skip
    else:  # connected to a read-only server: every write is refused with 25006
        target = {"dsn": database_url,
                  "server_settings": {"default_transaction_read_only": "on"}}  # fmt: skip
    rid, s = f.new_id(), f.Stream()
    batch = s(f.requested(rid), f.generated(rid, text="a\x00b"))  # even refused data waits
    async with asyncpg.create_pool(min_size=0, max_size=2, **target) as away_pool:
        results = await project(away_pool, batch)
    assert [type(r) for r in results] == [Transient, Transient]
    assert await dead_letters(admin) == []
    assert await admin.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_refused_event_waits_while_its_dead_letter_cannot_be_kept(pool, admin) -> None:
    # The server answers the dead letter's insert as while it is starting up (57P03).
    await admin.execute("""
        CREATE FUNCTION starting_up() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the database system is starting up'
              USING ERRCODE = 'cannot_connect_now'; END $$;
        CREATE TRIGGER starting_up BEFORE INSERT ON dead_letters
            FOR EACH ROW EXECUTE FUNCTION starting_up()""")  # fmt: skip
    bad, s = f.new_id(), f.Stream()
    batch = s(f.generated(bad, text="a\x00b"))
    assert [type(r) for r in await project(pool, batch)] == [Transient]  # kept in JetStream
    await admin.execute("DROP TRIGGER starting_up ON dead_letters")
    assert await project(pool, batch) == [[]]  # it came back: now it is kept
    assert await dead_letters(admin) == [f"hd.reading.generated.{bad}"]


# The HTTP path: the status API's `database_unavailable` middleware.


@pytest.mark.parametrize(
    ("provoke", "status"),
    [(terminated_backend, 503), (admin_shutdown, 503), (starting_up, 503), (closed_port, 503),
     (pool_acquire_timeout, 503), (bad_cast, 500)],
    ids=lambda p: getattr(p, "__name__", str(p)),
)  # fmt: skip
async def test_the_api_answers_503_while_the_database_is_away(
    database_url: str, provoke: Provoke, status: int
) -> None:
    exc = await provoke(database_url)

    async def handler(_: web.Request) -> web.Response:
        raise exc

    app = web.Application(middlewares=[database_unavailable])
    app.router.add_get("/v1/readings/x", handler)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/v1/readings/x")
        assert resp.status == status
        if status == 503:
            assert resp.headers["Retry-After"]
            assert resp.headers["Content-Type"].startswith("application/problem+json")
