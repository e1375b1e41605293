"""`POST /v1/readings`: validate, publish `reading.requested`, answer 202 once it is durable."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from aiohttp import web
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError
from pydantic import ValidationError

from services.intake.models import ReadingRequest
from shared.api_models import ReadingAccepted
from shared.bus.publish import Publisher
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.logging import get_logger
from shared.metrics import SHED
from shared.problem import problem, validation_errors
from shared.settings import IntakeSettings

log = get_logger(__name__)

SOURCE = "/services/intake"
RETRY_AFTER_S = "1"


def routes(
    settings: IntakeSettings,
    publisher: Publisher,
    bus_connected: Callable[[], bool] = lambda: True,
) -> web.RouteTableDef:
    table = web.RouteTableDef()
    base = settings.status_base_url.rstrip("/")
    in_flight = 0

    @table.post("/v1/readings")
    async def create_reading(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = ReadingRequest.model_validate_json(raw)
        except ValidationError as exc:
            errors = validation_errors(exc)
            if any(e["field"] == "body" or e["message"].startswith("Invalid JSON") for e in errors):
                errors = [{"field": "body", "message": "the body is not valid JSON"}]
            return problem(
                422,
                "Invalid request",
                "see errors for each field",
                kind="validation",
                errors=errors,
            )
        nonlocal in_flight
        if not bus_connected():
            # Say so at once instead of waiting for a publish that cannot be confirmed.
            return _bus_unavailable("the event bus is not reachable right now")
        if in_flight >= settings.intake_max_in_flight:
            # Past capacity: shed at once, with a hint, instead of queueing without bound.
            SHED.labels("intake").inc()
            return _bus_unavailable("too many requests are waiting for the event bus")
        reading_id = str(uuid.uuid4())
        event = make_event(
            ReadingRequested(
                reading_id=reading_id, birth=body.birth, agent=body.agent,
                language=body.language, user_id=body.user_id,
            ),
            source=SOURCE,
        )  # fmt: skip
        in_flight += 1
        try:
            await publisher.publish(event, timeout_s=settings.publish_timeout_s)
        except (TimeoutError, NatsError, JetStreamError) as exc:
            log.warning("publish failed", reading_id=reading_id, error=str(exc))
            return _bus_unavailable("the event bus did not confirm the request")
        finally:
            in_flight -= 1
        log.info("reading accepted", reading_id=reading_id, agent=body.agent)
        status_url = f"{base}/v1/readings/{reading_id}"
        accepted = ReadingAccepted(
            id=reading_id, status_url=status_url, events_url=f"{status_url}/events"
        )
        return web.Response(
            status=202,
            text=accepted.model_dump_json(),
            content_type="application/json",
            headers={"Location": status_url, "Retry-After": RETRY_AFTER_S},
        )

    return table


def _bus_unavailable(detail: str) -> web.Response:
    return problem(503, "Service Unavailable", f"{detail}; try again", kind="bus-unavailable",
                   headers={"Retry-After": RETRY_AFTER_S})  # fmt: skip
