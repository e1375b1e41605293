"""Live events for this replica's SSE clients.

Every status replica follows the stream itself with an ordered, ephemeral
consumer (new events only), so any replica can serve any client: no sticky
sessions. Each client has a bounded queue; a client that falls too far behind
is closed and resumes with `Last-Event-ID`. A short per-reading memory of
recent events closes the gap between a client's history query and its
subscription.

Live text is not in the stream: every replica also hears the pieces on core
NATS (`shared.bus.live`) and keeps each live reading's text so far
(`live_text`); a client's queue only gets `TEXT_GREW`, and the client is sent
what it has not seen of that text. A piece that does not follow on makes the
hub ask the reader writing it for the whole text so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.status.api.live_text import LiveText, LiveTexts
from shared import names
from shared.bus.live import ask_so_far, read_piece
from shared.bus.topology import STATUS
from shared.events.registry import CONTRACTS, PoisonEvent, decode
from shared.logging import get_logger
from shared.metrics import LIVE_TEXT_PIECES, LIVE_TEXT_SO_FAR
from shared.states import TERMINAL_EVENTS

log = get_logger(__name__)


class LiveEvent:
    """One event for SSE clients, decoded when a client first takes it.

    Every event of the stream is remembered here, but most readings have no
    client watching: decoding (and validating) is left until one does, then
    done once for all of them.
    """

    __slots__ = ("_born", "_frame", "_raw", "seq", "type")

    def __init__(self, seq: int, type_: str, raw: bytes = b"") -> None:
        self.seq = seq
        self.type = type_
        self._raw = raw
        self._frame: bytes | None = None if raw else b""
        self._born = 0.0

    @property
    def frame(self) -> bytes:
        """The SSE frame; empty for an event no client can read (poison)."""
        if self._frame is None:
            try:
                event = decode(self._raw)
            except PoisonEvent:
                self._frame = b""
            else:
                self._frame = sse_frame(self.seq, self.type, event.data.model_dump_json())
                self._born = event.time.timestamp()
            self._raw = b""
        return self._frame

    @property
    def born(self) -> float:
        """The event's CloudEvents time, epoch seconds (0 until decoded or if unreadable)."""
        _ = self.frame
        return self._born


def sse_frame(event_id: int | str, type_: str, data: str) -> bytes:
    """One SSE event; `data` is single-line JSON, so it is one `data:` field."""
    return f"id: {event_id}\r\nevent: {type_}\r\ndata: {data}\r\n\r\n".encode()


OVERFLOW = LiveEvent(-1, "overflow")


class TextGrew(LiveEvent):
    """The reading's live text grew: send the client the rest of `text` (the entry as it
    was told, so a terminal event that drops it meanwhile does not lose the last piece)."""

    __slots__ = ("text",)

    def __init__(self, text: LiveText) -> None:
        super().__init__(-2, "reading.delta")
        self.text = text


FLOOR_TTL_S = 0.2  # how stale the projection's ack floor may be


class LiveHub:
    """Fans events out to per-reading subscriber queues."""

    def __init__(
        self, *, queue_size: int = 1024, recent_per_reading: int = 256,
        recent_readings: int = 10000, recent_ttl_s: float = 120.0,
    ) -> None:  # fmt: skip
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[LiveEvent]]] = {}
        self._recent: OrderedDict[str, tuple[float, deque[LiveEvent]]] = OrderedDict()
        self._recent_per_reading = recent_per_reading
        self._recent_readings = recent_readings
        self._recent_ttl_s = recent_ttl_s
        self._sub: JetStreamContext.PushSubscription | None = None
        self._js: JetStreamContext | None = None
        self._nc: NATS | None = None
        self._pieces: Subscription | None = None  # the core subscription to live text
        self.texts = LiveTexts()
        self._asking: dict[str, asyncio.Task[LiveText | None]] = {}
        self._floor = 0
        self._floor_at = -1e9
        self._floor_lock = asyncio.Lock()

    async def start(self, js: JetStreamContext, nc: NATS | None = None) -> None:
        """Follow the stream with an ordered consumer, from the first event not yet projected,
        and (with `nc`) the live text of every reading being written."""
        self._js = js
        if nc is not None:
            self._nc = nc
            self._pieces = await nc.subscribe(names.LIVE_TEXT_FILTER, cb=self._on_piece)
        floor = await self.projected_floor()
        self._sub = await js.subscribe(
            names.EVERY_EVENT,
            stream=names.STREAM,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=floor + 1
            ),
            cb=self._on_msg,
            idle_heartbeat=5.0,
        )

    async def projected_floor(self) -> int:
        """The status consumer's ack floor: every event up to it is in PostgreSQL."""
        now = time.monotonic()
        if now - self._floor_at > FLOOR_TTL_S and self._js is not None:
            async with self._floor_lock:
                if now - self._floor_at > FLOOR_TTL_S:
                    try:
                        info = await self._js.consumer_info(names.STREAM, STATUS.durable)
                        self._floor = int(info.ack_floor.stream_seq or 0)
                    except Exception as exc:
                        log.debug("ack floor unavailable", error=str(exc))
                    self._floor_at = time.monotonic()
        return self._floor

    async def stop(self) -> None:
        for sub in (self._sub, self._pieces):
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        for task in self._asking.values():
            task.cancel()

    async def text_so_far(self, reading_id: str) -> LiveText | None:
        """The reading's live text, asked of its reader first when not known in full here."""
        entry = self.texts.get(reading_id)
        if entry is not None and not entry.incomplete:
            return entry
        return await self._ask(reading_id)

    async def _on_piece(self, msg: Msg) -> None:
        piece = read_piece(msg.data)
        if piece is None:
            return
        LIVE_TEXT_PIECES.labels("received").inc()
        if not self.texts.add(piece):
            LIVE_TEXT_PIECES.labels("gap").inc()
            self._ask(piece.reading_id)  # the rest comes once the reader has said
            return
        self._tell(piece.reading_id)

    def _ask(self, reading_id: str) -> asyncio.Task[LiveText | None]:
        """Ask the reader writing `reading_id` for its text so far (once at a time)."""
        task = self._asking.get(reading_id)
        if task is None:
            task = asyncio.create_task(self._so_far(reading_id))
            self._asking[reading_id] = task
            task.add_done_callback(lambda _: self._asking.pop(reading_id, None))
        return task

    async def _so_far(self, reading_id: str) -> LiveText | None:
        so_far = await ask_so_far(self._nc, reading_id) if self._nc is not None else None
        LIVE_TEXT_SO_FAR.labels("answered" if so_far is not None else "unanswered").inc()
        if so_far is not None:
            self.texts.replace(so_far)
            self._tell(reading_id)
        return self.texts.get(reading_id)

    def _tell(self, reading_id: str) -> None:
        subscribers, entry = self._subscribers.get(reading_id), self.texts.get(reading_id)
        if subscribers and entry is not None:
            grew = TextGrew(entry)
            for q in subscribers:
                self._put(q, grew)

    async def _on_msg(self, msg: Msg) -> None:
        # `hd.<type>.<reading id>`: routed by its subject, decoded only if someone listens.
        parsed = names.parse_subject(msg.subject)
        if parsed is None or not parsed[1] or parsed[0] not in CONTRACTS:
            return
        type_, reading_id = parsed
        if type_ == "reading.delta":
            return  # live text is not a stream event (an old one from an earlier build)
        self.publish(reading_id, LiveEvent(msg.metadata.sequence.stream, type_, msg.data))
        if type_ in TERMINAL_EVENTS:
            self.texts.drop(reading_id)  # the durable text, or none, is what counts now

    def publish(self, reading_id: str, event: LiveEvent) -> None:
        self._remember(reading_id, event)
        for q in self._subscribers.get(reading_id, ()):
            self._put(q, event)

    @staticmethod
    def _put(q: asyncio.Queue[LiveEvent], event: LiveEvent) -> None:
        try:
            q.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow: drop what it has and tell it to go; it resumes from its last id.
            while not q.empty():
                q.get_nowait()
            q.put_nowait(OVERFLOW)

    def subscribe(self, reading_id: str) -> asyncio.Queue[LiveEvent]:
        """A queue pre-filled with the reading's recent events, then fed live."""
        q: asyncio.Queue[LiveEvent] = asyncio.Queue(self._queue_size)
        recent = self._recent.get(reading_id)
        if recent is not None:
            for ev in list(recent[1])[-(self._queue_size - 1) :]:
                q.put_nowait(ev)
        self._subscribers.setdefault(reading_id, set()).add(q)
        return q

    def unsubscribe(self, reading_id: str, q: asyncio.Queue[LiveEvent]) -> None:
        subs = self._subscribers.get(reading_id)
        if subs is not None:
            subs.discard(q)
            if not subs:
                del self._subscribers[reading_id]

    def _remember(self, reading_id: str, event: LiveEvent) -> None:
        now = time.monotonic()
        entry = self._recent.get(reading_id)
        if entry is None:
            entry = (now, deque(maxlen=self._recent_per_reading))
            self._recent[reading_id] = entry
        else:
            self._recent.move_to_end(reading_id)
        entry[1].append(event)
        # Bounded memory: oldest readings go first, by count and by age.
        while self._recent and (
            len(self._recent) > self._recent_readings
            or next(iter(self._recent.values()))[0] < now - self._recent_ttl_s
        ):
            self._recent.popitem(last=False)
