"""`POST /v1/readings`: validate, publish `reading.requested`, answer 202 once it is durable.

Idempotency lives on the bus, not in a second store. With an `Idempotency-Key`
the reading id is derived from (tenant, key), and the request is published with
`Nats-Expected-Last-Subject-Sequence: 0`: JetStream stores it only if that
reading's subject is still empty, atomically. Concurrent or later retries lose
that compare-and-set, read the stored request and answer from it: the same id
when the body fingerprint matches, 409 when the key was used for another body.
It holds as long as the stream keeps the request (7 days, so at least the
promised 24 h) and across every intake replica.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from aiohttp import web
from nats.js import JetStreamContext
from pydantic import ValidationError

from shared.api_models import accepted_response
from shared.auth import own_user_id, tenant_of, user_of
from shared.bus.lookup import last_event
from shared.bus.publish import BUS_ERRORS, Publisher, SubjectConflict
from shared.events import reading_requested
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.forwarded import forwarded_origin, parse_trusted_proxies
from shared.idempotency import key_of, reused_for_another_body
from shared.logging import get_logger
from shared.metrics import IDEMPOTENT_REPLAYS, READINGS_REQUESTED, SHED
from shared.priority import allowed as priority_allowed
from shared.priority import forbidden as priority_forbidden
from shared.problem import bus_unavailable, invalid, validation_errors
from shared.reading_request import validate_request
from shared.settings import IntakeSettings

log = get_logger(__name__)

# Reading ids of idempotent requests: uuid5(this, tenant + key). Never change it.
IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0f6f3e-3c1e-4d8e-9a53-0d6c2a6f1e42")


def routes(
    settings: IntakeSettings,
    publisher: Publisher,
    js: JetStreamContext,
    bus_connected: Callable[[], bool] = lambda: True,
) -> web.RouteTableDef:
    table = web.RouteTableDef()
    configured_base = settings.status_base_url.rstrip("/")
    trusted = parse_trusted_proxies(settings.trusted_proxies)
    in_flight = 0

    def links_base(request: web.Request) -> str:
        """Where the links point: the client's origin behind a trusted proxy (which routes
        them to status), else STATUS_BASE_URL (empty: same origin)."""
        return forwarded_origin(request, trusted) or configured_base

    @table.post("/v1/readings")
    async def create_reading(request: web.Request) -> web.Response:
        key, bad_key = key_of(request)
        if bad_key is not None:
            return bad_key
        raw = await request.read()
        try:
            body = validate_request(raw)
        except ValidationError as exc:
            errors = validation_errors(exc)
            if any(e["field"] == "body" or e["message"].startswith("Invalid JSON") for e in errors):
                errors = [{"field": "body", "message": "the body is not valid JSON"}]
            return invalid(errors)
        user_id, not_yours = own_user_id(request, body.user_id)  # signed in: `sub` alone
        if not_yours is not None:
            return not_yours
        if user_id != body.user_id:
            body = body.model_copy(update={"user_id": user_id})
        tenant, user = tenant_of(request), user_of(request)
        if not priority_allowed(body.priority, tenant, settings.priority_tenant_set):
            return priority_forbidden(body.priority, "intake")
        nonlocal in_flight
        if not bus_connected():
            # Say so at once instead of waiting for a publish that cannot be confirmed.
            return bus_unavailable("the event bus is not reachable right now")
        if in_flight >= settings.intake_max_in_flight:
            # Past capacity: shed at once, with a hint, instead of queueing without bound.
            SHED.labels("intake").inc()
            return bus_unavailable("too many requests are waiting for the event bus")
        if key is None:
            reading_id, fingerprint = str(uuid.uuid4()), None
        else:
            # A signed-in user's keys are theirs alone (all share the tenant AUTH_TENANT);
            # keys of API keys' tenants keep their ids (one line, no user).
            scope = f"{tenant or ''}" if user is None else f"{tenant}\nuser:{user}"
            reading_id = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{scope}\n{key}"))
            # Normal priority is left out: a body fingerprints as it did before priorities.
            plain = body.model_dump_json(
                exclude={"priority"} if body.priority == "normal" else None
            )
            fingerprint = hashlib.sha256(plain.encode()).hexdigest()
        event = make_event(
            ReadingRequested(
                reading_id=reading_id, birth=body.birth, agent=body.agent,
                language=body.language, user_id=body.user_id, tenant=tenant,
                request_hash=fingerprint, priority=body.priority,
            ),
            source=publisher.source,
        )  # fmt: skip
        in_flight += 1
        try:
            await publisher.publish(
                event,
                timeout_s=settings.publish_timeout_s,
                expected_last_subject_seq=0 if key is not None else None,
            )
        except SubjectConflict:
            return await replay(request, reading_id, fingerprint)
        except BUS_ERRORS as exc:
            log.warning("publish failed", reading_id=reading_id, error=str(exc))
            return bus_unavailable("the event bus did not confirm the request")
        finally:
            in_flight -= 1
        READINGS_REQUESTED.labels("intake", body.priority).inc()
        log.info("reading accepted", reading_id=reading_id, agent=body.agent,
                 priority=body.priority)  # fmt: skip
        return accepted_response(reading_id, 1, links_base(request), request=request)

    async def replay(
        request: web.Request, reading_id: str, fingerprint: str | None
    ) -> web.Response:
        """Answer a request whose Idempotency-Key already created `reading_id`."""
        try:
            stored = await last_event(js, reading_requested.TYPE, reading_id)
        except BUS_ERRORS as exc:
            log.warning("idempotency lookup failed", reading_id=reading_id, error=str(exc))
            return bus_unavailable("the event bus did not answer")
        if stored is None or stored.event.data.request_hash != fingerprint:
            return reused_for_another_body()
        IDEMPOTENT_REPLAYS.labels("intake").inc()
        log.info("idempotent replay", reading_id=reading_id)
        return accepted_response(reading_id, 1, links_base(request), replayed=True, request=request)

    return table
