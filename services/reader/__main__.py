"""Run the reader service: `python -m services.reader`."""

from __future__ import annotations

from typing import Any

from services.reader.handlers import ReadingWriter
from services.reader.limiter import Limits, SharedLimiter
from services.reader.providers import select_provider
from shared.bus.cancellations import CancelledReadings
from shared.bus.live import serve_so_far
from shared.bus.topology import READER
from shared.logging import get_logger
from shared.runner import Runtime, run_service
from shared.settings import ReaderSettings

log = get_logger(__name__)


async def setup(rt: Runtime[Any]) -> None:
    settings: ReaderSettings = rt.settings
    limits = Limits(settings.reader_rpm, settings.reader_tpm, settings.reader_limit_window_s)
    limiter = await SharedLimiter.create(rt.js, limits, settings.stream_replicas)
    provider = select_provider(settings, limiter)
    log.info(
        "reading provider",
        provider=provider.name,
        model=provider.model,
        rpm=limits.rpm or None,
        tpm=limits.tpm or None,
        window_s=limits.window_s,
    )
    # Cancelled readings are known before the first chart is taken.
    cancelled = CancelledReadings(max_age_s=settings.stream_max_age_s)
    await cancelled.start(rt.js)
    rt.on_cleanup(cancelled.stop)
    # On a redelivery the stream says whether the version is done already; once the
    # replica drains (rt.stopping), charts without a call slot go to another replica.
    # Its announcements and live text go out through each delivery's context.
    writer = ReadingWriter(provider, cancelled, calls=settings.reader_concurrency, js=rt.js,
                           stopping=rt.stopping)  # fmt: skip
    # Status replicas that missed live pieces ask the replica writing the reading.
    so_far = await serve_so_far(rt.nc, writer.so_far)
    rt.on_cleanup(so_far.unsubscribe)
    await rt.add_consumer(
        READER,
        handler=writer.handle,
        concurrency=settings.reader_held,
        batch_size=min(settings.reader_held, 256),
        fails_as="reader",
    )
    rt.on_cleanup(provider.close)


def main() -> None:
    run_service("reader", ReaderSettings, setup, port=lambda s: s.reader_ops_port)


if __name__ == "__main__":
    main()
