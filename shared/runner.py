"""The service runner: the one way every service starts, runs and stops.

Order: settings -> logging -> NATS (retrying until reachable) -> stream ->
the database pool of a service that has one (retrying while the database is
away) -> the service's own setup (consumers, routes, background tasks) ->
HTTP -> consume loops. On SIGTERM/SIGINT: readiness fails, fetching stops,
in-flight work finishes within `DRAIN_TIMEOUT_S` (the rest is released to
other replicas), HTTP closes, the service's cleanups run, the pool closes,
NATS drains, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared.bus.connect import connect
from shared.bus.consumer import (
    BatchHandler,
    ConsumeLoop,
    EnvelopeHandler,
    Handler,
    PoisonHook,
)
from shared.bus.health import stream_unavailable
from shared.bus.publish import Publisher
from shared.bus.topology import ConsumerSpec, ensure_consumer, ensure_stream
from shared.events.reading_failed import Stage
from shared.http import ReadinessCheck, add_ops_routes, api_app, middlewares
from shared.logging import configure_logging, get_logger
from shared.settings import BaseServiceSettings, HttpSettings, load_settings

log = get_logger(__name__)


S = TypeVar("S", bound=BaseServiceSettings)
Cleanup = Callable[[], Awaitable[None]]


class Pool(Protocol):
    """What the runner needs of a database pool: that it closes."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Database:
    """A service's database pool, which the runner opens as it opens the bus.

    `open(settings)` makes the pool (ready to use: a service migrates its schema there).
    While `away(exc)` says the database is not available, the runner tries again with
    backoff until it is or a signal comes; any other error stops the service. The pool
    is `Runtime.pool` in the service's setup and is closed after the service's cleanups.
    """

    open: Callable[[Any], Awaitable[Pool]]
    away: Callable[[BaseException], bool]


@dataclass
class Runtime(Generic[S]):
    """What a service's setup function gets, and what it registers."""

    service: str
    settings: S
    nc: NATS
    js: JetStreamContext
    publisher: Publisher
    app: web.Application
    loops: list[ConsumeLoop] = field(default_factory=list)
    checks: list[ReadinessCheck] = field(default_factory=list)
    cleanups: list[Cleanup] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    pool: Any = None  # the service's database pool (`Database`), None without one

    async def add_consumer(
        self,
        spec: ConsumerSpec,
        *,
        handler: Handler[Any] | None = None,
        batch_handler: BatchHandler[Any] | None = None,
        envelope_handler: EnvelopeHandler | None = None,
        concurrency: int = 64,
        batch_size: int = 64,
        fails_as: Stage | None = None,
        on_poison: PoisonHook | None = None,
    ) -> ConsumeLoop:
        """Ensure the durable consumer exists and register a loop that feeds the handler.

        The loop publishes what the handler returns with this service's source (the
        runtime's publisher), sends live text on its connection, and, with `fails_as`,
        publishes `reading.failed` for that stage (`shared.bus.consumer`).
        """
        await ensure_consumer(self.js, spec)
        loop = ConsumeLoop(
            self.js, spec, service=self.service, publisher=self.publisher, handler=handler,
            batch_handler=batch_handler, envelope_handler=envelope_handler,
            concurrency=concurrency, batch_size=batch_size, fails_as=fails_as,
            on_poison=on_poison, nc=self.nc,
        )  # fmt: skip
        self.loops.append(loop)
        return loop

    def add_readiness(self, check: ReadinessCheck) -> None:
        self.checks.append(check)

    def on_cleanup(self, cleanup: Cleanup) -> None:
        self.cleanups.append(cleanup)


Setup = Callable[[Runtime[Any]], Awaitable[None]]


def run_service(
    name: str,
    settings_cls: type[S],
    setup: Setup,
    port: Callable[[S], int],
    *,
    database: Database | None = None,
) -> None:
    """Entry point of `python -m services.<name>`: run until signalled, then exit 0."""
    settings = load_settings(settings_cls)
    configure_logging(name, settings.log_level, settings.log_format)
    asyncio.run(_main(name, settings, setup, port(settings), database))


async def _main(
    name: str, settings: S, setup: Setup, port: int, database: Database | None = None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    nc = await _connect_until_up(name, settings, stop)
    if nc is None:
        return
    js = nc.jetstream(timeout=5.0)
    if not await _declare_stream_until_done(js, settings, stop):
        await nc.close()
        return
    pool = None
    if database is not None:
        pool = await _open_pool_until_up(database, settings, stop)
        if pool is None:
            await nc.close()
            return
    if isinstance(settings, HttpSettings):
        app = api_app(name, settings)
    else:
        app = web.Application(middlewares=middlewares(name))
    rt: Runtime[S] = Runtime(
        name, settings, nc, js, Publisher(js, service=name), app, stopping=stop, pool=pool
    )

    async def bus_ready() -> str | None:
        if stop.is_set():
            return "shutting down"
        if not nc.is_connected:
            return "not connected to NATS"
        return await stream_unavailable(js)

    rt.add_readiness(bus_ready)
    await setup(rt)
    add_ops_routes(app, rt.checks)

    # handler_cancellation: a client that goes away ends its handler (SSE streams).
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(
        runner, getattr(settings, "http_host", "0.0.0.0"), port,  # noqa: S104
        reuse_port=getattr(settings, "http_reuseport", False) or None,
    )  # fmt: skip
    await site.start()
    ops_runner = await _start_ops_listener(settings, rt.checks)
    _tune_gc()
    tasks = [consume.start() for consume in rt.loops]
    log.info("service started", port=port)

    stop_wait = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stop_wait, *tasks], return_when=asyncio.FIRST_COMPLETED)
    crashed = [t for t in tasks if t in done]
    for t in crashed:
        log.error("consume loop died", error=repr(t.exception()))
    stop.set()
    log.info("stopping", drain_timeout_s=settings.drain_timeout_s)
    await asyncio.gather(*(c.stop(settings.drain_timeout_s) for c in rt.loops))
    await runner.cleanup()
    if ops_runner is not None:
        await ops_runner.cleanup()
    for cleanup in reversed(rt.cleanups):
        with contextlib.suppress(Exception):
            await cleanup()
    if pool is not None:
        with contextlib.suppress(Exception):
            await pool.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.drain(), timeout=5.0)
    log.info("stopped")
    if crashed:
        raise SystemExit(1)  # let the supervisor (kubelet, launcher) restart us


async def _start_ops_listener(
    settings: BaseServiceSettings, checks: list[ReadinessCheck]
) -> web.AppRunner | None:
    """`OPS_PORT`: /healthz, /readyz and /metrics of this replica alone, on a port of its own
    (replicas that share their API port through SO_REUSEPORT cannot be told apart there)."""
    port = getattr(settings, "ops_port", 0)
    if not port:
        return None
    app = web.Application()
    add_ops_routes(app, checks)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, getattr(settings, "http_host", "0.0.0.0"), port).start()  # noqa: S104
    return runner


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _tune_gc() -> None:
    """Keep the cyclic garbage collector from pausing the event loop under load.

    Start-up objects (modules, tables, the ephemeris) are moved out of the
    collector's reach, and collections run less often: with thousands of
    open connections a full collection takes hundreds of milliseconds, which
    showed up as the p99 of SSE delivery (480 ms -> 23 ms, benchmarks/).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 20, 100)


async def _declare_stream_until_done(
    js: JetStreamContext, settings: S, stop: asyncio.Event
) -> bool:
    """Declare the stream, retrying while JetStream cannot answer (a cluster electing its
    leaders, a node catching up); False when a signal came first."""
    delay = 0.2
    while not stop.is_set():
        try:
            await ensure_stream(js, settings.stream_replicas, settings.stream_max_age_s)
            return True
        except Exception as exc:
            log.warning("stream not declared yet, retrying", error=_reason(exc), retry_in_s=delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
    return False


async def _open_pool_until_up(database: Database, settings: S, stop: asyncio.Event) -> Pool | None:
    """Open the service's pool, retrying with backoff while the database is away; None when
    a signal came first. Any other error (e.g. a migration the database refuses) raises."""
    delay = 0.2
    while not stop.is_set():
        try:
            return await database.open(settings)
        except Exception as exc:
            if not database.away(exc):
                raise
            log.warning("database not reachable yet, retrying", error=type(exc).__name__,
                        retry_in_s=delay)  # fmt: skip
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
    return None


async def _connect_until_up(name: str, settings: S, stop: asyncio.Event) -> NATS | None:
    """Connect, retrying with backoff until the broker answers or a signal arrives."""
    delay = 0.2
    while not stop.is_set():
        try:
            return await connect(
                settings.nats_url, service=name, connect_timeout_s=settings.nats_connect_timeout_s,
                credentials=settings.nats_credentials(),
            )  # fmt: skip
        except Exception as exc:
            log.warning("broker not reachable, retrying", error=str(exc), retry_in_s=delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
    return None
