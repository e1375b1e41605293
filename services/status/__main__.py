"""Run the status service: `python -m services.status`.

The runner opens the database pool (`store.pool.open_pool`) as it opens the bus; `setup`
wires the projection, the API and the demo page to both.
"""

from __future__ import annotations

import functools
from typing import Any

from services.status.api.commands import CommandsApi
from services.status.api.erasure import ErasureApi
from services.status.api.live import LiveHub
from services.status.api.operations import OperationsApi
from services.status.api.readings import StatusApi, database_unavailable
from services.status.api.user_scope import user_scope
from services.status.projection.advisories import MaxDeliveriesWatch
from services.status.projection.handler import dead_letter, project
from services.status.projection.stream_watch import StreamWatch
from services.status.store.outage import DatabaseReadiness, database_away
from services.status.store.pool import Pool, open_pool
from services.status.store.retention import Retention
from services.status.web.pages import DemoPages
from shared.api_document import document
from shared.bus.topology import STATUS
from shared.openapi import add_docs_routes
from shared.runner import Database, Runtime, run_service
from shared.settings import StatusSettings

DATABASE = Database(open=open_pool, away=database_away)


async def setup(rt: Runtime[Any]) -> None:
    settings: StatusSettings = rt.settings
    pool: Pool = rt.pool  # opened (and migrated) by the runner, closed by it on shutdown

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

    await rt.add_consumer(
        # Two batches in flight: one is written while the next is fetched and decoded.
        STATUS, envelope_handler=functools.partial(project, pool),
        concurrency=2 * settings.status_batch_size, batch_size=settings.status_batch_size,
        on_poison=functools.partial(dead_letter, pool),
    )  # fmt: skip
    rt.app.middlewares.append(database_unavailable)
    rt.app.middlewares.append(user_scope(pool, rt.js))  # a signed-in user: own readings only
    rt.app.add_routes(StatusApi(settings, pool, rt.js, hub).routes())
    rt.app.add_routes(OperationsApi(pool, rt.js).routes())
    rt.app.add_routes(CommandsApi(pool, rt.js, rt.publisher, settings.priority_tenant_set).routes())
    rt.app.add_routes(ErasureApi(pool, stream_max_age_s=settings.stream_max_age_s).routes())
    rt.app.add_routes(DemoPages(pool, intake_url=settings.demo_intake_url, js=rt.js).routes())
    add_docs_routes(rt.app, document())


def main() -> None:
    run_service("status", StatusSettings, setup, port=lambda s: s.status_port, database=DATABASE)


if __name__ == "__main__":
    main()
