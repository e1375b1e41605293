"""Run the intake service: `python -m services.intake`."""

from __future__ import annotations

from typing import Any

from services.intake.api import routes
from shared.api_document import document
from shared.openapi import add_docs_routes
from shared.runner import Runtime, run_service
from shared.settings import IntakeSettings


async def setup(rt: Runtime[Any]) -> None:
    settings: IntakeSettings = rt.settings
    rt.app.add_routes(routes(settings, rt.publisher, rt.js, lambda: rt.nc.is_connected))
    add_docs_routes(rt.app, document())


def main() -> None:
    run_service("intake", IntakeSettings, setup, port=lambda s: s.intake_port)


if __name__ == "__main__":
    main()
