"""Commands on one reading: regenerate it as a new version, or cancel it.

Both are decided against the bus while it keeps the reading: its latest
`reading.requested` (its version, owner and input) and its latest terminal
events are direct gets on their subjects, so a command never acts on a stale
row. A regeneration is published with `Nats-Expected-Last-Subject-Sequence`
set to the request it was decided on: two regenerations at once cannot both
become version N+1 (the loser gets 409, or its replay when it was the same
request retried with its `Idempotency-Key`).

Once the request has aged out of the stream (`STREAM_MAX_AGE_S`), PostgreSQL's
row is the reading: its tenant, user, birth, agent, language and current
version, and whether that version ended. The subject is then empty, so version
N+1 is published with the expected last subject sequence 0: the same
compare-and-set. An erased reading (its tombstone) is 404 whatever the bus holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from nats.js import JetStreamContext
from pydantic import ValidationError

from services.status.api.access import owned_request
from services.status.store.pool import Pool
from services.status.store.readings import projected_row
from shared.api_models import ReadingCancelledAnswer, RegenerateRequest, accepted_response
from shared.auth import tenant_of
from shared.bus.lookup import StoredEvent, last_event, plausible_id
from shared.bus.publish import BUS_ERRORS, Publisher, SubjectConflict
from shared.events import reading_cancelled, reading_failed, reading_generated, reading_requested
from shared.events.reading_cancelled import ReadingCancelled
from shared.events.reading_requested import ReadingRequested
from shared.events.registry import make_event
from shared.idempotency import key_of, reused_for_another_body
from shared.logging import get_logger
from shared.metrics import READINGS_REQUESTED
from shared.priority import allowed as priority_allowed
from shared.priority import forbidden as priority_forbidden
from shared.problem import bus_unavailable, invalid, problem, reading_not_found, validation_errors

log = get_logger(__name__)

_ENDINGS = (reading_generated.TYPE, reading_failed.TYPE, reading_cancelled.TYPE)
# A projected status that ended its version, and the event that ended it.
_ENDED_BY = {
    "completed": reading_generated.TYPE,
    "failed": reading_failed.TYPE,
    "cancelled": reading_cancelled.TYPE,
}


@dataclass(frozen=True)
class Current:
    """What a command decides on: the reading's latest request and how versions ended."""

    request: ReadingRequested
    seq: int  # the request's stream sequence; 0 once the stream no longer has it
    endings: dict[str, int]  # ending event type -> the highest version it ended
    stored: StoredEvent | None  # the request on the bus, when the bus still has it


class CommandsApi:
    def __init__(
        self,
        pool: Pool,
        js: JetStreamContext,
        publisher: Publisher,
        priority_tenants: Set[str] = frozenset(),
    ) -> None:
        self._pool = pool
        self._js = js
        self._publisher = publisher
        self._priority_tenants = priority_tenants  # PRIORITY_TENANTS

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/readings/{id}/regenerate", self.regenerate),
            web.delete("/v1/readings/{id}", self.cancel),
        ]

    async def regenerate(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        key, bad_key = key_of(request)
        if bad_key is not None:
            return bad_key
        raw = await request.read()
        try:
            body = (
                RegenerateRequest.model_validate_json(raw) if raw.strip() else RegenerateRequest()
            )
        except ValidationError as exc:
            return invalid(validation_errors(exc))
        # Independent of the reading, so it tells nothing about another tenant's ids.
        if not priority_allowed(body.priority, tenant_of(request), self._priority_tenants):
            return priority_forbidden(body.priority, "status")
        fingerprint = _fingerprint(key, body) if key is not None else None
        try:
            return await self._regenerate(request, reading_id, body, fingerprint)
        except BUS_ERRORS as exc:
            log.warning("regenerate: bus unavailable", reading_id=reading_id, error=str(exc))
            return bus_unavailable("the event bus did not answer")

    async def _regenerate(
        self,
        request: web.Request,
        reading_id: str,
        body: RegenerateRequest,
        fingerprint: str | None,
    ) -> web.Response:
        tenant = tenant_of(request)
        current = await self._current(reading_id, tenant)
        if current is None:
            return reading_not_found(reading_id)
        made_by = _made_by(current.stored, fingerprint)
        if made_by == "this request":
            return _accepted(request, current.request, replayed=True)
        if made_by == "this key, another body":
            return reused_for_another_body()
        last = current.request
        if max(current.endings.values(), default=0) < last.version:
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
                "priority": body.priority,
            }),
            source=self._publisher.source,
        )  # fmt: skip
        try:
            await self._publisher.publish(event, expected_last_subject_seq=current.seq)
        except SubjectConflict:
            # Another regeneration won the race. Ours, retried? Then answer as it did.
            newer = await owned_request(self._js, reading_id, tenant)
            if newer is not None and _made_by(newer, fingerprint) == "this request":
                return _accepted(request, newer.event.data, replayed=True)
            return problem(409, "Conflict",
                           f"reading {reading_id!r} was regenerated at the same time; "
                           "look at its current version", kind="conflict")  # fmt: skip
        READINGS_REQUESTED.labels("status", body.priority).inc()
        log.info("reading regenerated", reading_id=reading_id, version=last.version + 1,
                 from_database=current.stored is None, priority=body.priority)  # fmt: skip
        return _accepted(request, event.data, replayed=False)

    async def cancel(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        try:
            current = await self._current(reading_id, tenant_of(request))
            if current is None:
                return reading_not_found(reading_id)
            version = current.request.version
            ended = current.endings
            cancelled = ended.get(reading_cancelled.TYPE, 0)
            if cancelled < version and max(ended.values(), default=0) >= version:
                return problem(409, "Conflict",
                               f"version {version} of reading {reading_id!r} has already finished",
                               kind="already-finished")  # fmt: skip
            if cancelled < version:
                await self._publisher.publish(
                    make_event(ReadingCancelled(reading_id=reading_id, version=version),
                               source=self._publisher.source)
                )  # fmt: skip
                log.info("reading cancelled", reading_id=reading_id, version=version)
        except BUS_ERRORS as exc:
            log.warning("cancel: bus unavailable", reading_id=reading_id, error=str(exc))
            return bus_unavailable("the event bus did not answer")
        answer = ReadingCancelledAnswer(id=reading_id, version=version)
        return web.Response(status=202, text=answer.model_dump_json(),
                            content_type="application/json")  # fmt: skip

    async def _current(self, reading_id: str, tenant: str | None) -> Current | None:
        """The reading as a command sees it, if it is `tenant`'s; None when unknown, another
        tenant's or erased. From the bus while it has the request, else from PostgreSQL."""
        if not plausible_id(reading_id):  # e.g. a NUL, which PostgreSQL refuses in text
            return None
        row = await projected_row(self._pool, reading_id)
        if row["erased"]:
            return None
        stored = await last_event(self._js, reading_requested.TYPE, reading_id)
        if stored is not None:
            if stored.event.data.tenant != tenant:
                return None
            return Current(stored.event.data, stored.seq, await self._endings(reading_id), stored)
        if not row["known"] or row["tenant"] != tenant:
            return None
        # Aged out of the stream: PostgreSQL holds the request, and its subject is empty.
        return Current(_request_of(reading_id, row), 0, _endings_of(row), None)

    async def _endings(self, reading_id: str) -> dict[str, int]:
        """Event type -> the highest version it ended, for each kind of ending seen."""
        found = await asyncio.gather(*(last_event(self._js, t, reading_id) for t in _ENDINGS))
        return {t: int(s.event.data.version) for t, s in zip(_ENDINGS, found, strict=True) if s}


def _request_of(reading_id: str, row: Mapping[str, Any]) -> ReadingRequested:
    """The current version's request, rebuilt from its projected row (the birth as posted)."""
    return ReadingRequested.model_validate({
        "reading_id": reading_id, "version": row["current_version"],
        "birth": json.loads(row["birth"]),
        "agent": row["agent"], "language": row["language"], "user_id": row["user_id"],
        "tenant": row["tenant"],
    })  # fmt: skip


def _endings_of(row: Mapping[str, Any]) -> dict[str, int]:
    """How the current version ended, if it did (earlier versions all did)."""
    ended_by = _ENDED_BY.get(row["status"])
    return {ended_by: int(row["current_version"])} if ended_by is not None else {}


def _fingerprint(key: str, body: RegenerateRequest) -> str:
    """`<key digest>:<body digest>`: tells a retry from a reused key with another body."""
    key_part = hashlib.sha256(key.encode()).hexdigest()[:32]
    # Normal priority is left out, so a body fingerprints as it did before priorities.
    plain = body.model_dump_json(exclude={"priority"} if body.priority == "normal" else None)
    body_part = hashlib.sha256(plain.encode()).hexdigest()[:32]
    return f"{key_part}:{body_part}"


def _made_by(
    stored: StoredEvent | None, fingerprint: str | None
) -> Literal["this request", "this key, another body"] | None:
    """Whether the stored version was made by this very request, or by its key for another
    body (a reused key); None when unrelated, no key at all, or not on the bus any more."""
    if stored is None or fingerprint is None:
        return None
    made_by: str | None = stored.event.data.regenerate_hash
    if made_by is None:
        return None
    if made_by == fingerprint:
        return "this request"
    if made_by.split(":")[0] == fingerprint.split(":")[0]:
        return "this key, another body"
    return None


def _accepted(http: web.Request, request: ReadingRequested, *, replayed: bool) -> web.Response:
    # Relative links: the status service is where the reading is followed.
    return accepted_response(request.reading_id, request.version, replayed=replayed,
                             request=http)  # fmt: skip
