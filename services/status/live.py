"""Live events for this replica's SSE clients.

Every status replica follows the stream itself with an ordered, ephemeral
consumer (new events only), so any replica can serve any client: no sticky
sessions. Each client has a bounded queue; a client that falls too far behind
is closed and resumes with `Last-Event-ID`. A short per-reading memory of
recent events closes the gap between a client's history query and its
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict, deque

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared import names
from shared.bus.topology import STATUS
from shared.events.registry import CONTRACTS, PoisonEvent, decode
from shared.logging import get_logger

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


def sse_frame(seq: int, type_: str, data: str) -> bytes:
    """One SSE event; `data` is single-line JSON, so it is one `data:` field."""
    return f"id: {seq}\r\nevent: {type_}\r\ndata: {data}\r\n\r\n".encode()


OVERFLOW = LiveEvent(-1, "overflow")
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
        self._floor = 0
        self._floor_at = -1e9
        self._floor_lock = asyncio.Lock()

    async def start(self, js: JetStreamContext) -> None:
        """Follow the stream with an ordered consumer, from the first event not yet projected."""
        self._js = js
        floor = await self.projected_floor()
        self._sub = await js.subscribe(
            names.STREAM_SUBJECTS[0],
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
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_msg(self, msg: Msg) -> None:
        # `hd.<type>.<reading id>`: routed by its subject, decoded only if someone listens.
        parsed = names.parse_subject(msg.subject)
        if parsed is None or not parsed[1] or parsed[0] not in CONTRACTS:
            return
        type_, reading_id = parsed
        self.publish(reading_id, LiveEvent(msg.metadata.sequence.stream, type_, msg.data))

    def publish(self, reading_id: str, event: LiveEvent) -> None:
        self._remember(reading_id, event)
        for q in self._subscribers.get(reading_id, ()):
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
