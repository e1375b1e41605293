"""Is PostgreSQL away, or did it refuse the data? One answer for the whole status service.

The projection (`projection.handler.project`) waits an away database out (the events
stay in JetStream and come back after a backoff) and dead-letters only an event whose
data the database refused; the HTTP API answers 503 with Retry-After while the database
is away (`api.readings.database_unavailable`); the runner retries opening the pool
(`store.pool`). All ask the functions here.

`database_away(exc)`: about the server's state, not the data; trying later helps.

| what | raised as | typical cause |
|---|---|---|
| connection refused, reset; DNS | `OSError`, `ConnectionError` | server down, restarting |
| time-out | `TimeoutError` (an `OSError`) | pool acquire, command_timeout |
| connection closed | `asyncpg.InterfaceError` (not `DataError`) | server gone, pool closing |
| client out of step | `asyncpg.InternalClientError` | server gone mid-message; no |
|  |  | primary (target_session_attrs) |
| 08xxx connection exception | `PostgresConnectionError`, 08003 | connection lost or rejected |
|  | `ConnectionDoesNotExistError` |  |
| 57P01 admin_shutdown | `AdminShutdownError` | fast shutdown: switchover, |
|  |  | rolling update, pg_ctl -m fast; |
|  |  | pg_terminate_backend |
| 57P02 crash_shutdown | `CrashShutdownError` | another backend crashed |
| 57P03 cannot_connect_now | `CannotConnectNowError` | starting up, shutting down, |
|  |  | not yet accepting (recovery) |
| 57014 query_canceled | `QueryCanceledError` | statement_timeout, pg_cancel |
| other 57xxx | operator intervention | database dropped (a restore), |
|  |  | idle_session_timeout |
| 53xxx insufficient resources | e.g. `TooManyConnectionsError` | server limits, disk full, OOM |
| 58xxx system error | e.g. 58030 io_error | the server's disk |
| 28xxx, 3D000 | invalid authorization, no such | a rotated secret, a database |
|  | database (at connect) | being restored |
| 40001, 40P01, 40003 | serialization failure, deadlock, | concurrent transactions: retry |
|  | completion unknown | is the documented answer |
| 25006 read_only_sql_transaction | a write | on a standby: the old primary |
|  |  | after a failover |
| 25P03, 25P04 | idle-in-transaction, transaction | the server ended a slow |
|  | timeout | transaction |
| 55P03 lock_not_available | a write | lock_timeout |

`data_refused(exc)`: the data itself; no retry can help, the event is poison.

| what | raised as | typical cause |
|---|---|---|
| 22xxx data exception | e.g. 22P02, 22003, 22021, 22P05 | a bad cast, out of range, NUL |
| 23xxx integrity violation | e.g. 23505, 23502 | a row the schema refuses |
| 54xxx program limit exceeded | e.g. 54000 | a value too big (index row) |
| argument not encodable | `asyncpg.DataError` | e.g. an int out of range |

Anything else (42 undefined table or column, 42501 insufficient_privilege, XX000
internal_error, a bug in our code) is neither: the projection retries it with
backoff and logs it loudly rather than dead-lettering valid events, and the API
lets it be a 500. A connection or a commit lost mid-transaction is "away": the
transaction is retried whole, and the projection's inbox makes that idempotent.
"""

from __future__ import annotations

import time

import asyncpg

# SQLSTATE classes (first two characters) and single codes, as in the tables above.
AWAY_CLASSES = frozenset({"08", "28", "53", "57", "58"})
AWAY_CODES = frozenset({"3D000", "40001", "40P01", "40003", "25006", "25P03", "25P04", "55P03"})
REFUSED_CLASSES = frozenset({"22", "23", "54"})


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL error (asyncpg's `PostgresError`), else None."""
    if not isinstance(exc, asyncpg.PostgresError):
        return None
    code = getattr(exc, "sqlstate", None)
    return code if isinstance(code, str) else None


def database_away(exc: BaseException) -> bool:
    """Whether `exc` says PostgreSQL is not available now (wait and try again)."""
    if isinstance(exc, asyncpg.DataError):
        return False  # an argument asyncpg cannot encode: the data (an InterfaceError too)
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        return True
    code = sqlstate(exc)
    return code is not None and (code[:2] in AWAY_CLASSES or code in AWAY_CODES)


def data_refused(exc: BaseException) -> bool:
    """Whether `exc` says PostgreSQL refused the data itself (no retry can help)."""
    if isinstance(exc, asyncpg.DataError):
        return True
    code = sqlstate(exc)
    return code is not None and code[:2] in REFUSED_CLASSES


class DatabaseReadiness:
    """The readiness check of the database, tolerant of a short outage.

    A failover, switchover or rolling update of PostgreSQL takes seconds: while it lasts,
    reads answer 503 per request (`api.readings.database_unavailable`) and the projection
    waits, but live events (NATS only) keep flowing to the SSE clients this replica holds. So
    the replica stays in its Service until the database has been unreachable for
    `grace_s`; only a longer outage (or a replica that never reaches it) is unready.
    """

    def __init__(self, pool: asyncpg.Pool, grace_s: float) -> None:
        self._pool = pool
        self._grace_s = grace_s
        self._away_since: float | None = None

    async def __call__(self) -> str | None:
        try:
            async with self._pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
        except Exception as exc:
            now = time.monotonic()
            if self._away_since is None:
                self._away_since = now
            away_s = now - self._away_since
            if away_s < self._grace_s:
                return None  # a short outage: stay ready, each request answers for itself
            return f"database not reachable for {away_s:.0f}s: {type(exc).__name__}"
        self._away_since = None
        return None
