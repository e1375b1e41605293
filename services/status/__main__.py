"""Run the status service: `python -m services.status`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.status.advisories import MaxDeliveriesWatch
from services.status.api import StatusApi, database_unavailable
from services.status.commands import CommandsApi
from services.status.erasure import ErasureApi
from services.status.live import LiveHub
from services.status.migrate import migrate
from services.status.openapi import document
from services.status.operations import OperationsApi
from services.status.outage import DatabaseReadiness, data_refused, database_away
from services.status.pages import DemoPages
from services.status.projection import apply_batch, record_poison
from services.status.retention import Retention
from services.status.stream_watch import StreamWatch
from shared.bus.consumer import Delivered, Outputs, Poison
from shared.bus.outcomes import Transient
from shared.bus.topology import STATUS
from shared.logging import get_logger
from shared.openapi import add_docs_routes
from shared.runner import Runtime, run_service
from shared.settings import StatusSettings

log = get_logger(__name__)


async def setup(rt: Runtime[Any]) -> None:
    settings: StatusSettings = rt.settings
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(),
        min_size=1, max_size=settings.database_pool_size, command_timeout=10,
        server_settings={"timezone": "UTC", "application_name": "hd-status"},
        reset=_rollback_if_needed,
    )  # fmt: skip
    rt.on_cleanup(pool.close)
    async with pool.acquire() as conn:
        await migrate(conn)

    watch = MaxDeliveriesWatch(rt.nc, rt.js, rt.publisher)
    await watch.start()
    rt.on_cleanup(watch.stop)
    hub = LiveHub()
    await hub.start(rt.js, rt.nc)
    rt.on_cleanup(hub.stop)
    retention = Retention.from_settings(settings)  # expired history, in the background
    retention.start()
    rt.on_cleanup(retention.stop)
    stream_watch = StreamWatch(rt.js)  # the stream's fill, for HdStreamNearlyFull
    stream_watch.start()
    rt.on_cleanup(stream_watch.stop)
    rt.add_readiness(DatabaseReadiness(pool, settings.database_outage_grace_s))

    async def dead_letter(poison: Poison) -> None:
        await record_poison(pool, poison)

    await rt.add_consumer(
        # Two batches in flight: one is written while the next is fetched and decoded.
        STATUS, batch_handler=functools.partial(project, pool),
        concurrency=2 * settings.status_batch_size, batch_size=settings.status_batch_size,
        on_poison=dead_letter,
    )  # fmt: skip
    rt.app.middlewares.append(database_unavailable)
    rt.app.add_routes(StatusApi(settings, pool, rt.js, hub).routes())
    rt.app.add_routes(OperationsApi(pool, rt.js).routes())
    rt.app.add_routes(CommandsApi(pool, rt.js, rt.publisher, settings.priority_tenant_set).routes())
    rt.app.add_routes(ErasureApi(pool, stream_max_age_s=settings.stream_max_age_s).routes())
    rt.app.add_routes(DemoPages(pool, intake_url=settings.demo_intake_url, js=rt.js).routes())
    add_docs_routes(rt.app, document())


async def project(pool: asyncpg.Pool, batch: Sequence[Delivered]) -> list[Outputs | BaseException]:
    """The status consumer's batch handler: the batch in one transaction.

    While the database is away every event waits (`Transient`, backoff); an event whose
    data the database refuses is dead-lettered alone, without holding back the others.
    """
    try:
        await apply_batch(pool, batch)
    except Exception as exc:
        if database_away(exc):
            # Leave the events in JetStream; they come back after a delay that grows
            # with the attempt (capped at a minute) while the database stays away.
            return [_waiting(exc)] * len(batch)
        # One event the database refuses must not hold back the others.
        log.warning("batch not applied; applying its events one by one",
                    error=type(exc).__name__)  # fmt: skip
        results: list[Outputs | BaseException] = []
        for d in batch:
            result = await project_one(pool, d)
            results.append(result)
            if isinstance(result, Transient):  # gone meanwhile: the rest waits too
                return results + [result] * (len(batch) - len(results))
        return results
    return [[] for _ in batch]


async def project_one(pool: asyncpg.Pool, d: Delivered) -> Outputs | BaseException:
    """Apply one event; dead-letter it only if the database refused its data."""
    try:
        await apply_batch(pool, [d])
    except Exception as exc:
        if not data_refused(exc):
            # Away: wait. Neither away nor the data (a bug, a missing grant): retry
            # loudly rather than lose a valid event.
            return _waiting(exc) if database_away(exc) else exc
        log.error("event cannot be projected; dead-lettered", event_id=d.event.id,
                  error=type(exc).__name__)  # fmt: skip
        try:
            await record_poison(pool, Poison(
                f"hd.{d.event.type}.{d.event.subject}", d.stream_seq, "unprojectable",
                f"the database refused the event ({type(exc).__name__})",
                d.event.model_dump_json().encode(),
            ))  # fmt: skip
        except Exception as not_recorded:
            # Not kept yet: the event stays in JetStream and comes back; never lost.
            return _waiting(not_recorded) if database_away(not_recorded) else not_recorded
    return []


def _waiting(exc: BaseException) -> Transient:
    return Transient(f"database unavailable: {type(exc).__name__}")


async def _rollback_if_needed(conn: asyncpg.Connection) -> None:
    # We keep no session state (no SET, LISTEN or advisory locks outside `migrate`,
    # which unlocks itself), so the pool's full reset per release is wasted work.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def main() -> None:
    run_service("status", StatusSettings, setup, port=lambda s: s.status_port)


if __name__ == "__main__":
    main()
