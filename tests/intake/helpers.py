"""Intake test helpers: the app wired as the service wires it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from nats.js import JetStreamContext

from services.intake.api import routes
from shared.bus.publish import Publisher
from shared.http import api_app
from shared.settings import IntakeSettings

Serve = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
"""The `serve` fixture: a started test client for an app, closed after the test."""


def intake_app(settings: IntakeSettings, js: JetStreamContext) -> web.Application:
    """Intake as the runner wires it: the guard rails (`api_app`), then the routes."""
    app = api_app("intake", settings)
    app.add_routes(routes(settings, Publisher(js, service="intake"), js))
    return app
