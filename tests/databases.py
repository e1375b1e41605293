"""A fresh, empty PostgreSQL database on the session's server, dropped afterwards."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """Yield the URL of a new database on the server at `server_url`; drop it on exit."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield server_url.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextmanager
def pg_home() -> Iterator[Path]:
    """A folder for an embedded PostgreSQL's data, outside pytest's temporary root.

    As root, PostgreSQL runs as an unprivileged user, which must be able to reach its
    data directory; pytest makes its root (`/tmp/pytest-of-<user>`) private again at
    the start of every session, so a second pytest started on the machine meanwhile
    would pull the data directory away from a running server (it panics).
    """
    with tempfile.TemporaryDirectory(prefix="hd-test-pg-") as folder:
        yield Path(folder)
