"""Run the intake service: `python -m services.intake`."""

from __future__ import annotations

from typing import Any

from services.intake.api import routes
from shared.cors import cors_middleware
from shared.runner import Runtime, run_service
from shared.settings import IntakeSettings


async def setup(rt: Runtime[Any]) -> None:
    settings: IntakeSettings = rt.settings
    if settings.cors_origin_list:
        # First, outside error handling: problem+json answers carry the CORS headers too.
        rt.app.middlewares.insert(0, cors_middleware(settings.cors_origin_list))
    rt.app.add_routes(routes(settings, rt.publisher, lambda: rt.nc.is_connected))


def main() -> None:
    run_service("intake", IntakeSettings, setup, port=lambda s: s.intake_port)


if __name__ == "__main__":
    main()
