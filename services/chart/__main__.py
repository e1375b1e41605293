"""Run the chart service (`python -m services.chart`) or the batch CLI (`... compute`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from services.chart.cli import build_parser, run_compute
from services.chart.compute import warm_gazetteer, warm_up
from services.chart.handlers import batch_handler
from shared.bus.cancellations import CancelledReadings
from shared.bus.topology import CHART
from shared.runner import Runtime, run_service
from shared.settings import ChartSettings


async def setup(rt: Runtime[Any]) -> None:
    settings: ChartSettings = rt.settings
    # Load the ephemeris and time zones now, not on the first reading. The gazetteer (about
    # 2 s of CPU) loads in the background: the replica is ready that much sooner, and only
    # a reading placed by name in those first seconds waits for it.
    await asyncio.to_thread(warm_up, gazetteer=False)
    gazetteer = asyncio.ensure_future(asyncio.to_thread(warm_gazetteer))

    async def gazetteer_done() -> None:  # a thread cannot be cancelled: let it end
        await asyncio.wait([gazetteer])

    rt.on_cleanup(gazetteer_done)
    # Cancelled readings are known before the first request is taken.
    cancelled = CancelledReadings(max_age_s=settings.stream_max_age_s)
    await cancelled.start(rt.js)
    rt.on_cleanup(cancelled.stop)
    await rt.add_consumer(
        CHART,
        batch_handler=batch_handler(cancelled),
        concurrency=settings.chart_batch_size,
        batch_size=settings.chart_batch_size,
        fails_as="chart",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """No arguments: run the service until signalled. `compute`: the batch CLI."""
    args = build_parser().parse_args(argv)
    if args.command == "compute":
        raise SystemExit(run_compute(args))
    run_service("chart", ChartSettings, setup, port=lambda s: s.chart_ops_port)


if __name__ == "__main__":
    main()
