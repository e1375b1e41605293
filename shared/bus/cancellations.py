"""Which readings were cancelled, as every chart and reader replica knows it.

Each replica follows `reading.cancelled` with its own ordered, ephemeral
consumer from the start of the stream, and keeps reading id -> the highest
version cancelled. A cancel covers its version and every lower one; a
regeneration (a higher version) is not cancelled. `start` returns once the
cancellations already in the stream have been read (or after a bounded wait),
so a replica that restarts does not redo work cancelled while it was away.

Reconnects: nats-py re-creates an ordered consumer by itself, from the last
stream sequence it saw, when the idle heartbeats stop (a broker restart, a
lost consumer) or a delivery is missing, so nothing is skipped and nothing
needs doing here.

Memory is bounded twice: entries older than the stream's `max_age` (7 days)
are dropped, since nothing they cancel can still be delivered; and at most
`max_readings` entries are kept, the oldest cancelled going first (about
150 bytes each: 100,000 is ~15 MB). Forgetting a cancellation is harmless for
correctness: the worker only does work nobody will see, and the status
projection still shows the reading `cancelled` (same-version events after
the cancel never move it).

This is a best-effort fast path: a cancel that arrives while an event is
being handled is caught by `watch` (the reader stops its LLM call), one that
arrives a moment after the work finished changes nothing but the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterator

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared import names
from shared.bus.topology import DEFAULT_MAX_AGE_S
from shared.events import reading_cancelled
from shared.events.registry import PoisonEvent, decode
from shared.logging import get_logger

log = get_logger(__name__)

MAX_READINGS = 100_000


class CancelledReadings:
    """reading id -> highest cancelled version, fed by `reading.cancelled` from the stream."""

    def __init__(
        self,
        *,
        max_readings: int = MAX_READINGS,
        max_age_s: float | None = None,
        catch_up_timeout_s: float = 10.0,
        idle_heartbeat_s: float = 5.0,
    ) -> None:
        self._max_readings = max_readings
        self._max_age_s = max_age_s if max_age_s is not None else DEFAULT_MAX_AGE_S
        self._catch_up_timeout_s = catch_up_timeout_s
        self._idle_heartbeat_s = idle_heartbeat_s
        # reading id -> (highest version cancelled, epoch seconds of that cancel), oldest first.
        self._cancelled: OrderedDict[str, tuple[int, float]] = OrderedDict()
        # reading id -> {event: version} of work in flight that wants to know at once.
        self._watchers: dict[str, dict[asyncio.Event, int]] = {}
        self._caught_up = asyncio.Event()
        self._sub: JetStreamContext.PushSubscription | None = None

    @property
    def caught_up(self) -> bool:
        """Whether the cancellations in the stream at start-up have all been read."""
        return self._caught_up.is_set()

    def __len__(self) -> int:
        return len(self._cancelled)

    async def start(self, js: JetStreamContext) -> None:
        """Follow `reading.cancelled` from the start of the stream; wait (bounded) to catch up."""
        self._sub = await js.subscribe(
            names.subject_filter(reading_cancelled.TYPE),
            stream=names.STREAM,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
            cb=self._on_msg,
            idle_heartbeat=self._idle_heartbeat_s,
        )
        try:
            info = await self._sub.consumer_info()
            if not info.num_pending and not (info.delivered and info.delivered.consumer_seq):
                self._caught_up.set()  # nothing was cancelled: nothing to wait for
        except Exception as exc:
            log.debug("cancellations consumer info unavailable", error=str(exc))
        try:
            await asyncio.wait_for(self._caught_up.wait(), timeout=self._catch_up_timeout_s)
        except TimeoutError:
            log.warning(
                "cancellations not caught up yet; going on, they keep arriving",
                known=len(self._cancelled),
            )
        else:
            log.info("cancellations caught up", known=len(self._cancelled))

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    def cancelled_version(self, reading_id: str) -> int:
        """The highest version of the reading cancelled so far (0: none)."""
        entry = self._cancelled.get(reading_id)
        return entry[0] if entry is not None else 0

    def is_cancelled(self, reading_id: str, version: int) -> bool:
        """Whether `version` of the reading is cancelled (a cancel covers lower versions too)."""
        return version <= self.cancelled_version(reading_id)

    @contextlib.contextmanager
    def watch(self, reading_id: str, version: int) -> Iterator[asyncio.Event]:
        """An event set as soon as this version is cancelled (at once if it already is)."""
        event = asyncio.Event()
        if self.is_cancelled(reading_id, version):
            event.set()
        watchers = self._watchers.setdefault(reading_id, {})
        watchers[event] = version
        try:
            yield event
        finally:
            watchers.pop(event, None)
            if not watchers and self._watchers.get(reading_id) is watchers:
                del self._watchers[reading_id]

    def add(self, reading_id: str, version: int, at: float | None = None) -> None:
        """Record a cancel (the consumer calls this; tests may too)."""
        now = time.time()
        at = now if at is None else at
        previous = self._cancelled.get(reading_id)
        if previous is None or version > previous[0]:  # an older or repeated cancel: keep it
            self._cancelled.pop(reading_id, None)
            self._cancelled[reading_id] = (version, at)
        for event, watched in self._watchers.get(reading_id, {}).items():
            if watched <= version:
                event.set()
        self._trim(now)

    def _trim(self, now: float) -> None:
        while self._cancelled:
            _, at = next(iter(self._cancelled.values()))
            too_many = len(self._cancelled) > self._max_readings
            too_old = bool(self._max_age_s) and at < now - self._max_age_s
            if not (too_many or too_old):
                break
            self._cancelled.popitem(last=False)

    async def _on_msg(self, msg: Msg) -> None:
        try:
            event = decode(msg.data)
            data = event.data
            if event.type == reading_cancelled.TYPE:
                self.add(data.reading_id, int(data.version), event.time.timestamp())
                log.debug("reading cancelled", reading_id=data.reading_id, version=data.version)
        except PoisonEvent as poison:
            log.debug("unreadable cancellation ignored", subject=msg.subject, code=poison.code)
        finally:
            with contextlib.suppress(Exception):
                if msg.metadata.num_pending == 0:
                    self._caught_up.set()
