"""Commands on one reading: regenerate it as a new version, or cancel it.

Both are decided against the bus, not the projection: the reading's latest
`reading.requested` (its version, owner and input) and its latest terminal
events are direct gets on their subjects, so a command never acts on a stale
row. A regeneration is published with `Nats-Expected-Last-Subject-Sequence`
set to the request it was decided on: two regenerations at once cannot both
become version N+1 (the loser gets 409, or its replay when it was the same
request retried with its `Idempotency-Key`).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from aiohttp import web
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError
from pydantic import ValidationError

from services.status.access import owned_request
from shared.api_models import ReadingAccepted, ReadingCancelledAnswer, RegenerateRequest
from shared.auth import tenant_of
from shared.bus.lookup import StoredEvent, last_event
from shared.bus.publish import Publisher, SubjectConflict
from shared.events import reading_cancelled, reading_failed, reading_generated
from shared.events.reading_cancelled import ReadingCancelled
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.logging import get_logger
from shared.problem import problem, validation_errors

log = get_logger(__name__)

SOURCE = "/services/status"
IDEMPOTENCY_HEADER = "Idempotency-Key"
BUS_ERRORS = (TimeoutError, NatsError, JetStreamError)
_ENDINGS = (reading_generated.TYPE, reading_failed.TYPE, reading_cancelled.TYPE)


class CommandsApi:
    def __init__(
        self, js: JetStreamContext, publisher: Publisher, status_base_url: str = ""
    ) -> None:
        self._js = js
        self._publisher = publisher
        self._base = status_base_url.rstrip("/")

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/readings/{id}/regenerate", self.regenerate),
            web.delete("/v1/readings/{id}", self.cancel),
        ]

    async def regenerate(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not (0 < len(key) <= 255 and key.isprintable() and key.isascii()):
            return _invalid(IDEMPOTENCY_HEADER, "must be 1-255 printable ASCII characters")
        raw = await request.read()
        try:
            body = (
                RegenerateRequest.model_validate_json(raw) if raw.strip() else RegenerateRequest()
            )
        except ValidationError as exc:
            return problem(422, "Invalid request", "see errors for each field",
                           kind="validation", errors=validation_errors(exc))  # fmt: skip
        fingerprint = _fingerprint(key, body) if key is not None else None
        try:
            return await self._regenerate(request, reading_id, body, fingerprint)
        except BUS_ERRORS as exc:
            log.warning("regenerate: bus unavailable", reading_id=reading_id, error=str(exc))
            return _bus_unavailable()

    async def _regenerate(
        self,
        request: web.Request,
        reading_id: str,
        body: RegenerateRequest,
        fingerprint: str | None,
    ) -> web.Response:
        tenant = tenant_of(request)
        stored = await owned_request(self._js, reading_id, tenant)
        if stored is None:
            return _not_found(reading_id)
        replay = _replay_of(stored, fingerprint)
        if replay is not None:
            return replay if isinstance(replay, web.Response) else self._accepted(stored, True)
        last: ReadingRequested = stored.event.data
        if await self._finished_version(reading_id) < last.version:
            return problem(409, "Conflict",
                           f"version {last.version} of reading {reading_id!r} has not finished; "
                           "wait for it or cancel it first",
                           kind="not-finished", headers={"Retry-After": "2"})  # fmt: skip
        event = make_event(
            last.model_copy(update={
                "version": last.version + 1,
                "agent": body.agent or last.agent,
                "language": body.language or last.language,
                "regenerate_hash": fingerprint,
            }),
            source=SOURCE,
        )  # fmt: skip
        try:
            await self._publisher.publish(event, expected_last_subject_seq=stored.seq)
        except SubjectConflict:
            # Another regeneration won the race. Ours, retried? Then answer as it did.
            newer = await owned_request(self._js, reading_id, tenant)
            if newer is not None and _replay_of(newer, fingerprint) is True:
                return self._accepted(newer, True)
            return problem(409, "Conflict",
                           f"reading {reading_id!r} was regenerated at the same time; "
                           "look at its current version", kind="conflict")  # fmt: skip
        log.info("reading regenerated", reading_id=reading_id, version=last.version + 1)
        return self._accepted(StoredEvent(0, event), False)

    async def cancel(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        try:
            stored = await owned_request(self._js, reading_id, tenant_of(request))
            if stored is None:
                return _not_found(reading_id)
            version = int(stored.event.data.version)
            ended = await self._endings(reading_id)
            cancelled = ended.get(reading_cancelled.TYPE, 0)
            if cancelled < version and max(ended.values(), default=0) >= version:
                return problem(409, "Conflict",
                               f"version {version} of reading {reading_id!r} has already finished",
                               kind="already-finished")  # fmt: skip
            if cancelled < version:
                await self._publisher.publish(
                    make_event(ReadingCancelled(reading_id=reading_id, version=version),
                               source=SOURCE)
                )  # fmt: skip
                log.info("reading cancelled", reading_id=reading_id, version=version)
        except BUS_ERRORS as exc:
            log.warning("cancel: bus unavailable", reading_id=reading_id, error=str(exc))
            return _bus_unavailable()
        answer = ReadingCancelledAnswer(id=reading_id, version=version)
        return web.Response(status=202, text=answer.model_dump_json(),
                            content_type="application/json")  # fmt: skip

    async def _endings(self, reading_id: str) -> dict[str, int]:
        """Event type -> the highest version it ended, for each kind of ending seen."""
        found = await asyncio.gather(*(last_event(self._js, t, reading_id) for t in _ENDINGS))
        return {t: int(s.event.data.version) for t, s in zip(_ENDINGS, found, strict=True) if s}

    async def _finished_version(self, reading_id: str) -> int:
        return max((await self._endings(reading_id)).values(), default=0)

    def _accepted(self, stored: StoredEvent, replayed: bool) -> web.Response:
        data: Any = stored.event.data
        url = f"/v1/readings/{data.reading_id}"  # this service's own origin
        body = ReadingAccepted(id=data.reading_id, version=data.version, status_url=url,
                               events_url=f"{url}/events")  # fmt: skip
        headers = {"Location": url, "Retry-After": "1"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return web.Response(status=202, text=body.model_dump_json(),
                            content_type="application/json", headers=headers)  # fmt: skip


def _fingerprint(key: str, body: RegenerateRequest) -> str:
    """`<key digest>:<body digest>`: tells a retry from a reused key with another body."""
    key_part = hashlib.sha256(key.encode()).hexdigest()[:32]
    body_part = hashlib.sha256(body.model_dump_json().encode()).hexdigest()[:32]
    return f"{key_part}:{body_part}"


def _replay_of(stored: StoredEvent, fingerprint: str | None) -> bool | web.Response | None:
    """True when `stored` was made by this very request; a 422 when its key was reused."""
    made_by: str | None = stored.event.data.regenerate_hash
    if fingerprint is None or made_by is None:
        return None
    if made_by == fingerprint:
        return True
    if made_by.split(":")[0] == fingerprint.split(":")[0]:
        return _invalid(IDEMPOTENCY_HEADER, "already used for a request with a different body")
    return None


def _invalid(field: str, message: str) -> web.Response:
    return problem(422, "Invalid request", "see errors for each field", kind="validation",
                   errors=[{"field": field, "message": message}])  # fmt: skip


def _not_found(reading_id: str) -> web.Response:
    return problem(404, "Not Found", f"no reading with id {reading_id!r}", kind="not-found")


def _bus_unavailable() -> web.Response:
    return problem(503, "Service Unavailable", "the event bus did not answer; try again",
                   kind="bus-unavailable", headers={"Retry-After": "1"})  # fmt: skip
