"""Status HTTP API: poll a reading, follow it live over SSE, list a user's readings."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from nats.js import JetStreamContext

from services.status.api.access import accepted_request, may_see
from services.status.api.live import OVERFLOW, LiveHub, TextGrew
from services.status.api.params import decode_cursor, encode_cursor, int_param, user_id_problem
from services.status.api.resume import Resume, TextCursor, parse_last_event_id
from services.status.store.outage import database_away
from services.status.store.pool import Pool
from services.status.store.readings import (
    ended_at_or_before,
    ending_from_rows,
    get_reading_json,
    history,
    user_readings,
)
from services.status.views import view_from_request
from shared.api_views import ReadingPage, ReadingSummary
from shared.auth import principal_of, tenant_of
from shared.auth.stream_token import events_url
from shared.bus.lookup import plausible_id
from shared.etag import etag_of, matches
from shared.http import Handler
from shared.logging import get_logger
from shared.metrics import SSE_CLIENTS, SSE_DELIVERY_LAG_SECONDS
from shared.problem import invalid, problem, reading_not_found
from shared.settings import StatusSettings
from shared.states import TERMINAL_EVENTS

log = get_logger(__name__)

SSE_RETRY_MS = 2000
SEND_TIMEOUT_S = 10.0  # a client that cannot take a frame in this long is dropped


class StatusApi:
    def __init__(
        self, settings: StatusSettings, pool: Pool, js: JetStreamContext, hub: LiveHub
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._js = js
        self._hub = hub
        self._sse_gauge = SSE_CLIENTS.labels("status")
        self._lag = SSE_DELIVERY_LAG_SECONDS.labels("status")
        self._streams: Counter[str] = Counter()  # open SSE streams per tenant (or user)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/readings", self.list_readings),
            web.get("/v1/readings/{id}", self.get_reading),
            web.get("/v1/readings/{id}/events", self.events),
        ]

    async def get_reading(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        if not plausible_id(reading_id):  # e.g. a NUL, which PostgreSQL refuses in text
            return reading_not_found(reading_id)
        tenant = tenant_of(request)
        link = events_url(request, reading_id)  # its stream token, when tokens are on
        async with self._pool.acquire() as conn:
            body = await get_reading_json(conn, reading_id, tenant)
        if body is None:
            # Not projected yet: intake answered 202 only after JetStream stored the
            # request, so the stream knows it. Never 404 an accepted reading (unless erased).
            stored = await accepted_request(self._pool, self._js, reading_id, tenant)
            if stored is None:
                return reading_not_found(reading_id)
            view = view_from_request(stored.event)
            body = view.model_copy(update={"events_url": link}).model_dump_json()
        else:  # PostgreSQL's document, and its link (last, as in `ReadingView`)
            body = f'{body[:-1]},"events_url":{json.dumps(link)}}}'
        etag = etag_of(body.encode())
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if matches(request, etag):
            return web.Response(status=304, headers=headers)
        return web.Response(text=body, content_type="application/json", headers=headers)

    async def list_readings(self, request: web.Request) -> web.Response:
        user_id = request.query.get("user_id")
        if not user_id:
            return invalid([{"field": "user_id", "message": "required"}], detail=None)
        if (refused := user_id_problem(user_id)) is not None:
            return invalid([refused], detail=None)
        errors: list[dict[str, str]] = []
        limit = int_param(request, "limit", 1, 100, errors) or 20
        if errors:
            return invalid(errors, detail=None)
        raw_cursor = request.query.get("cursor")
        cursor = None if raw_cursor is None else decode_cursor(raw_cursor)
        if raw_cursor is not None and cursor is None:
            return invalid(
                [{"field": "cursor", "message": "not a cursor from this API"}], detail=None
            )
        rows = await user_readings(
            self._pool, tenant_of(request), user_id, before=cursor, limit=limit + 1
        )
        page = ReadingPage(
            items=[
                ReadingSummary(id=r["id"], status=r["status"], progress=r["status_rank"],
                               agent=r["agent"], language=r["language"],
                               created_at=r["created_at"])
                for r in rows[:limit]
            ],
            next_cursor=(
                encode_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"])
                if len(rows) > limit
                else None
            ),
        )  # fmt: skip
        return web.Response(text=page.model_dump_json(), content_type="application/json")

    async def events(self, request: web.Request) -> web.StreamResponse:
        reading_id = request.match_info["id"]
        tenant, who = tenant_of(request), principal_of(request).limit_key  # a user: their own
        if not await may_see(self._pool, self._js, reading_id, tenant):
            return reading_not_found(reading_id)
        if self._streams[who] >= self._settings.sse_max_streams_per_key:
            return problem(
                429, "Too Many Requests",
                f"this key already has {self._streams[who]} open event streams "
                f"(at most {self._settings.sse_max_streams_per_key}); close one first",
                kind="too-many-streams", headers={"Retry-After": str(SSE_RETRY_MS // 1000)},
            )  # fmt: skip
        self._streams[who] += 1
        try:
            return await self._events(request, reading_id)
        finally:
            self._streams[who] -= 1
            if not self._streams[who]:
                del self._streams[who]

    async def _events(self, request: web.Request, reading_id: str) -> web.StreamResponse:
        resume = parse_last_event_id(
            request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        )
        last_id = resume.seq
        queue = self._hub.subscribe(reading_id)
        try:
            # History only up to the projection's ack floor: everything at or below it is
            # in PostgreSQL (batches may commit out of order above it). The rest comes,
            # in stream order, from this replica's live consumer and its recent memory.
            floor = await self._hub.projected_floor()
            async with self._pool.acquire() as conn:
                past = [
                    event
                    for event in await history(
                        conn, reading_id, last_id, floor, current_version_only=last_id == 0
                    )
                    if event[1] != "reading.delta"  # live text of an earlier build's history
                ]
                if not past and last_id == 0:
                    # Its history expired (EVENT_HISTORY_RETENTION_S): a finished reading
                    # still ends as it ended, rebuilt from its rows.
                    ending = await ending_from_rows(conn, reading_id)
                    past = [ending] if ending is not None else []
                # Finished when the client saw the terminal event, unless a regeneration
                # followed it: events of the ended version that came late (a delta, or
                # a chart or reading in flight when it was cancelled) are never served.
                done = (
                    last_id > 0
                    and not any(type_ == "reading.requested" for _, type_, _ in past)
                    and await ended_at_or_before(conn, reading_id, last_id)
                )
            if done:
                return web.Response(status=204)  # finished: tells EventSource not to reconnect
            async with sse_response(
                request, ping_interval=self._settings.sse_heartbeat_s,
                send_timeout=SEND_TIMEOUT_S,
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            ) as sse:  # fmt: skip
                self._sse_gauge.inc()
                try:
                    await self._stream(sse, reading_id, queue, past, resume)
                finally:
                    self._sse_gauge.dec()
                return sse
        finally:
            self._hub.unsubscribe(reading_id, queue)

    async def _stream(
        self,
        sse: EventSourceResponse,
        reading_id: str,
        queue: asyncio.Queue[Any],
        past: list[tuple[int, str, str]],
        resume: Resume,
    ) -> None:
        subscribed_at = time.time()
        last_id = resume.seq
        text = TextCursor(reading_id, resume)
        first = True
        for seq, type_, data in past:
            await sse.send(data, id=str(seq), event=type_, retry=SSE_RETRY_MS if first else None)
            first = False
            last_id = seq
            if type_ in TERMINAL_EVENTS:
                return
        if first:
            await sse.send(
                json.dumps({"retry_ms": SSE_RETRY_MS}), event="hello", retry=SSE_RETRY_MS
            )
        # Being written: the text so far (asked of the reader if this replica lacks it).
        entry = self._hub.texts.get(reading_id)
        if entry is None and _writing(past, resume):
            entry = await self._hub.text_so_far(reading_id)
        if not await self._write(sse, text.frame(entry, last_id), last_id):
            return
        # Text is only sent after `reading.started`: a piece (core NATS) may overtake the
        # stream's delivery of the announcement; it is held and sent right after it.
        started, held = _writing(past, resume), None
        while True:
            ev = await queue.get()
            if ev is OVERFLOW:
                log.info("sse client too slow, closing", last_event_id=last_id)
                return
            if isinstance(ev, TextGrew):
                if not started:
                    held = ev.text
                elif not await self._write(sse, text.frame(ev.text, last_id), last_id):
                    return
                continue
            if ev.seq <= last_id or not ev.frame:
                continue  # already sent from history, or unreadable
            # Pre-encoded once per event, not per client; bounded like `send`.
            if not await self._write(sse, ev.frame, last_id):
                return
            if ev.born >= subscribed_at:  # fan-out lag, not the age of replayed events
                self._lag.observe(time.time() - ev.born)
            last_id = ev.seq
            if ev.type in TERMINAL_EVENTS:
                return
            if ev.type == "reading.started":
                started = True
                if held is not None and not await self._write(
                    sse, text.frame(held, last_id), last_id
                ):
                    return
                held = None

    @staticmethod
    async def _write(sse: EventSourceResponse, frame: bytes | None, last_id: int) -> bool:
        """Write a frame (none: nothing to do); False when the client stalled or went."""
        if frame is None:
            return True
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await sse.write(frame)
        except (TimeoutError, ConnectionResetError):
            log.info("sse client stalled or gone, closing", last_event_id=last_id)
            return False
        return True


def _writing(past: list[tuple[int, str, str]], resume: Resume) -> bool:
    """Whether the reading is being written, as far as the client's history says: its
    `reading.started` was sent now, or it resumes from a text frame (it had text)."""
    return bool(resume.attempt) or any(type_ == "reading.started" for _, type_, _ in past)


@web.middleware
async def database_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """While PostgreSQL is away (`store.outage.database_away`), answer 503 with Retry-After.

    Any other error, e.g. a value the database refuses, is a bug: aiohttp's 500.
    """
    try:
        return await handler(request)
    except Exception as exc:
        if not database_away(exc):
            raise
        log.warning("database unavailable", error=type(exc).__name__)
        return problem(503, "Service Unavailable", "the database is not reachable; try again",
                       kind="database-unavailable", headers={"Retry-After": "2"})  # fmt: skip
