"""Migrations: applied once, in order, even when several replicas start together."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.status.store.migrate import discover, migrate

pytestmark = pytest.mark.integration


async def test_replicas_starting_together_apply_each_migration_once(database_url: str) -> None:
    conns = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate(c) for c in conns))
        versions = [v for v, _, _ in discover()]
        assert sorted(v for run in applied for v in run) == versions  # once in total
        rows = await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == versions
        assert await migrate(conns[0]) == []  # nothing left on a restart
        tables = {r["tablename"] for r in await conns[0].fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}  # fmt: skip
        assert {"readings", "charts", "reading_versions", "inbox", "reading_events"} <= tables
    finally:
        for c in conns:
            await c.close()
