"""The consume loop: pull, decode, handle with bounded concurrency, settle each message.

Handlers never see NATS. A handler gets the decoded payload model and a
`Context` (`shared.bus.context`: the delivery, a bound logger, `emit` and
`send_live`) and returns the payload models of the events it produces; the loop
wraps them in envelopes with the service's source and deterministic ids and
publishes them before the ack (so a crash in between only causes a
deduplicated re-publish). Or it raises an outcome (see `outcomes`):

- returned events  -> publish each (awaited) -> ack
- `Permanent`      -> `reading.failed` (code) -> term
- `Release`        -> nak at once (another replica takes it now); never
  `reading.failed`, whatever the attempt
- `Transient`/other -> nak(delay), exponential backoff with jitter; after
  `max_deliver` attempts -> `reading.failed` (`retries_exhausted`) -> term
- undecodable / unknown major / impossible payload -> dead at once (term)

`reading.failed` is built here (`shared.bus.failures`), only by a loop that
`fails_as` a stage. Three kinds of handler: `handler` (one event),
`batch_handler` (the fetched events together, each an `Incoming` with its own
context) and `envelope_handler` (a batch of whole envelopes with their stream
sequence, for a consumer that needs ids and times: the status projection).

Only as many messages are fetched as there are free handler slots (fetched
messages age in the client buffer and would be redelivered elsewhere), and
in-flight messages get `in_progress()` heartbeats every third of AckWait.

Priorities: a consumer with a high lane (`ConsumerSpec.high`, one durable per
priority) is fetched high first. Each round takes what the high consumer has
waiting (a no-wait pull: one round trip, no lingering); only when it has
nothing does the round pull from the normal consumer, long-polling at most
`LANE_POLL_S` so high work that arrives while the loop is idle waits no longer
than that. Slots are never reserved: a backlog of normal work keeps every slot
busy, and each slot that frees goes to high work first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import StatusCode
from nats.js.errors import NotFoundError

from shared import names
from shared.bus import failures
from shared.bus.context import BusContext, Context, Delivery
from shared.bus.outcomes import Permanent, Release, Transient, backoff_delay
from shared.bus.publish import Publisher
from shared.bus.topology import ConsumerSpec, ensure_consumer
from shared.events.base import ReadingEvent
from shared.events.envelope import Envelope
from shared.events.reading_failed import ReadingFailed, Stage
from shared.events.registry import PoisonEvent, decode, make_event
from shared.logging import get_logger
from shared.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    CONSUMER_REDELIVERED,
    CONSUMER_STALLS,
    EVENT_HANDLE_SECONDS,
    EVENTS_HANDLED,
    HANDLERS_IN_FLIGHT,
)

log = get_logger(__name__)

Event = Envelope[Any]
Outputs = Sequence[Event]  # what an envelope handler returns: whole envelopes
Produced = Sequence[ReadingEvent]  # what a handler returns: payload models, wrapped by the loop
P = TypeVar("P", bound=ReadingEvent)


@dataclass(frozen=True)
class Delivered:
    """An event as an envelope handler sees it: the envelope and its place in the stream."""

    event: Event
    stream_seq: int
    attempt: int


@dataclass(frozen=True)
class Incoming(Generic[P]):
    """One event as a batch handler sees it: its payload and its own context."""

    data: P
    ctx: Context


@dataclass(frozen=True)
class Poison:
    """A message no retry can read, as a dead-letter hook sees it."""

    subject: str
    stream_seq: int
    code: str
    reason: str
    raw: bytes


# One event: its payload and context in, the payloads of the events it produces out.
Handler = Callable[[P, Context], Awaitable[Produced]]
# A batch handler returns, per input event and in order, what it produced or an outcome.
BatchHandler = Callable[[Sequence[Incoming[P]]], Awaitable[Sequence[Produced | BaseException]]]
# The same over whole envelopes, for a consumer that needs their ids and times (status).
EnvelopeHandler = Callable[[Sequence[Delivered]], Awaitable[Sequence[Outputs | BaseException]]]
# Records a poison message somewhere durable before it is terminated.
PoisonHook = Callable[[Poison], Awaitable[None]]

_FETCH_TIMEOUTS = (asyncio.TimeoutError, nats.errors.TimeoutError)
# With a high lane, the longest the loop long-polls the normal one (see the module doc).
LANE_POLL_S = 0.25
# A no-wait pull is answered at once (messages, then 404/408); this only bounds a lost answer.
NO_WAIT_TIMEOUT_S = 5.0
# How long settling an event may wait for the stream to store its outputs (a cluster
# electing a leader takes seconds) before the event is handed back. Meanwhile it stays
# in flight and heartbeated, so waiting costs no delivery attempt.
SETTLE_TIMEOUT_S = 30.0


class ConsumeLoop:
    """Runs one durable pull consumer for one service until stopped."""

    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        *,
        service: str,
        publisher: Publisher,
        handler: Handler[Any] | None = None,
        batch_handler: BatchHandler[Any] | None = None,
        envelope_handler: EnvelopeHandler | None = None,
        concurrency: int = 64,
        batch_size: int = 64,
        fails_as: Stage | None = None,
        on_poison: PoisonHook | None = None,
        nc: NATS | None = None,
        poll_s: float = 1.0,
        monitor_s: float = 5.0,
        stall_after_s: float = 30.0,
    ) -> None:
        """Give exactly one kind of handler (see the module doc).

        Args:
            publisher: stores outputs; its `source` is the source of the events wrapped here.
            fails_as: the stage named in the `reading.failed` this loop publishes (None: none).
            nc: the connection `Context.send_live` sends live text on (None: no live text).
        """
        if [handler, batch_handler, envelope_handler].count(None) != 2:
            raise ValueError("give exactly one of handler, batch_handler or envelope_handler")
        self._js = js
        self._spec = spec
        self._service = service
        self._publisher = publisher
        self._handler = handler
        self._batch_handler = batch_handler
        self._envelope_handler = envelope_handler
        self._concurrency = concurrency
        self._batch_size = max(1, min(batch_size, concurrency))
        self._fails_as = fails_as
        self._on_poison = on_poison
        self._nc = nc
        self._handler_log = get_logger(f"services.{service}")  # what `Context.log` binds
        self._poll_s = poll_s
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._in_flight: dict[str, tuple[Msg, float]] = {}  # by ack subject
        self._tasks: set[asyncio.Task[None]] = set()
        self._gauge = HANDLERS_IN_FLIGHT.labels(service)
        self.last_fetch_ok = 0.0
        self._monitor_s = monitor_s
        self._stall_after_s = stall_after_s
        self._last_msg_at = {lane.durable: time.monotonic() for lane in spec.lanes}
        self._resubscribe = False
        self._run_task: asyncio.Task[None] | None = None
        self._helpers: list[asyncio.Task[None]] = []

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def start(self) -> asyncio.Task[None]:
        """Start the loop as a task (see `run`)."""
        self._run_task = asyncio.create_task(self.run(), name=f"consume:{self._spec.durable}")
        return self._run_task

    async def run(self) -> None:
        """Fetch and dispatch until `stop()`; heartbeats and the watchdog run alongside."""
        subs = await self._subscribe()
        # Heartbeats outlive this loop: they keep in-flight work alive while stop() drains.
        self._helpers = [asyncio.create_task(self._heartbeat()),
                         asyncio.create_task(self._monitor())]  # fmt: skip
        try:
            while not self._stopping.is_set():
                if self._resubscribe:
                    self._resubscribe = False
                    await _unsubscribe(subs)
                    subs = await self._subscribe()
                free = self._concurrency - len(self._in_flight)
                if free <= 0:
                    self._slot_freed.clear()
                    await self._slot_freed.wait()
                    continue
                msgs = await self._fetch_lanes(subs, min(free, self._batch_size))
                if msgs and self._stopping.is_set():
                    for m in msgs:  # arrived while stopping: hand back at once
                        with contextlib.suppress(Exception):
                            await m.nak()
                elif msgs:
                    self._dispatch(msgs)
        finally:
            await _unsubscribe(subs)

    async def _subscribe(self) -> list[JetStreamContext.PullSubscription]:
        """One pull subscription per lane, highest priority first."""
        return [
            await self._js.pull_subscribe_bind(durable=lane.durable, stream=names.STREAM)
            for lane in self._spec.lanes
        ]

    async def _fetch_lanes(
        self, subs: list[JetStreamContext.PullSubscription], n: int
    ) -> list[Msg]:
        """Up to `n` messages, from the highest lane that has any (see the module doc)."""
        lanes = self._spec.lanes
        for lane, sub in zip(lanes[:-1], subs[:-1], strict=True):
            msgs = await self._take_waiting(sub, n)
            if msgs:
                self._last_msg_at[lane.durable] = time.monotonic()
                return msgs
        poll_s = self._poll_s if len(lanes) == 1 else min(self._poll_s, LANE_POLL_S)
        msgs = await self._fetch(subs[-1], n, poll_s)
        if msgs:
            self._last_msg_at[lanes[-1].durable] = time.monotonic()
        return msgs

    async def _take_waiting(self, sub: JetStreamContext.PullSubscription, n: int) -> list[Msg]:
        """What the consumer has waiting now, up to `n`, without lingering: a no-wait pull.

        nats-py's `fetch` lingers until its timeout when nothing is waiting (and a short
        timeout could miss messages on a slow link), so this sends the pull request
        itself and reads until the server's 404/408 says that was all.
        """
        try:
            return await _no_wait_pull(sub, n, NO_WAIT_TIMEOUT_S)
        except Exception as exc:
            if not self._stopping.is_set():
                log.warning("fetch failed", consumer=self._spec.durable, error=str(exc))
            return []

    async def _monitor(self) -> None:
        """Export each lane's lag; re-create the pulls when one sees work but gets none."""
        while True:
            await asyncio.sleep(self._monitor_s)
            for lane in self._spec.lanes:
                await self._watch(lane.durable)

    async def _watch(self, durable: str) -> None:
        try:
            info = await self._js.consumer_info(names.STREAM, durable)
        except NotFoundError:
            log.warning("consumer missing; declaring it again", consumer=durable)
            with contextlib.suppress(Exception):
                await ensure_consumer(self._js, self._spec)
                self._resubscribe = True
            return
        except Exception as exc:
            log.debug("consumer info unavailable", consumer=durable, error=str(exc))
            return  # reconnecting; the next round will tell
        CONSUMER_PENDING.labels(durable).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(durable).set(info.num_ack_pending or 0)
        CONSUMER_REDELIVERED.labels(durable).set(info.num_redelivered or 0)
        idle_for = time.monotonic() - self._last_msg_at[durable]
        has_room = len(self._in_flight) < self._concurrency
        if (info.num_pending or 0) > 0 and has_room and idle_for > self._stall_after_s:
            log.warning("consumer stalled: pending work but no deliveries; re-subscribing",
                        consumer=durable, pending=info.num_pending)  # fmt: skip
            CONSUMER_STALLS.labels(durable).inc()
            self._resubscribe = True
            self._last_msg_at[durable] = time.monotonic()

    async def _fetch(
        self, sub: JetStreamContext.PullSubscription, n: int, poll_s: float
    ) -> list[Msg]:
        # Long-poll for one message (wakes at once when work arrives), then take
        # whatever else is already waiting without lingering for a full batch.
        try:
            msgs = await sub.fetch(1, timeout=poll_s)
        except _FETCH_TIMEOUTS:
            self.last_fetch_ok = time.monotonic()
            return []
        except Exception as exc:
            if not self._stopping.is_set():
                log.warning("fetch failed", consumer=self._spec.durable, error=str(exc))
                await asyncio.sleep(0.5)
            return []
        self.last_fetch_ok = time.monotonic()
        if n > 1:
            with contextlib.suppress(*_FETCH_TIMEOUTS, nats.errors.Error):
                msgs += await sub.fetch(n - 1, timeout=0.02)
        return msgs

    def _dispatch(self, msgs: list[Msg]) -> None:
        now = time.monotonic()
        for m in msgs:
            self._in_flight[m.reply] = (m, now)
        self._gauge.set(len(self._in_flight))
        if self._handler is None:  # a batch or envelope handler takes them together
            self._spawn(self._process(msgs))
        else:
            for m in msgs:
                self._spawn(self._process([m]))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, msgs: list[Msg]) -> None:
        unsettled = list(msgs)
        try:
            events: list[tuple[Msg, Event]] = []
            for m in msgs:
                try:
                    events.append((m, decode(m.data)))
                except PoisonEvent as poison:
                    await self._dead(m, poison)
                    unsettled.remove(m)
            if not events:
                return
            results = await self._handle(events)

            async def settle(m: Msg, event: Event, result: Outputs | BaseException) -> None:
                await self._settle(m, event, result)
                unsettled.remove(m)

            # A batch's messages are settled together: their publishes are pipelined
            # (one round trip for the batch, not one per message); each message's own
            # outputs stay in order.
            await asyncio.gather(
                *(settle(m, e, r) for (m, e), r in zip(events, results, strict=True))
            )
        except asyncio.CancelledError:
            # Drain ran out of time: release the messages so another replica takes them now.
            for m in unsettled:
                with contextlib.suppress(Exception):
                    await m.nak()
                EVENTS_HANDLED.labels(self._service, _type_of(m), "released").inc()
            raise
        except Exception:
            # A bug or a bus failure while settling: never leave a message hanging.
            log.exception("could not process messages", consumer=self._spec.durable)
            for m in unsettled:
                with contextlib.suppress(Exception):
                    await m.nak(delay=backoff_delay(_attempt(m)))
                EVENTS_HANDLED.labels(self._service, _type_of(m), "retry").inc()
        finally:
            for m in msgs:
                self._in_flight.pop(m.reply, None)
            self._gauge.set(len(self._in_flight))
            self._slot_freed.set()

    async def _handle(self, events: list[tuple[Msg, Event]]) -> Sequence[Outputs | BaseException]:
        if self._envelope_handler is not None:
            batch = [Delivered(e, _stream_seq(m), _attempt(m)) for m, e in events]
            try:
                return await self._envelope_handler(batch)
            except Exception as exc:
                log.exception("batch handler failed", consumer=self._spec.durable)
                return [exc] * len(events)
        if self._batch_handler is not None:
            incoming = [Incoming(e.data, self._context(m, e)) for m, e in events]
            try:
                results = await self._batch_handler(incoming)
            except Exception as exc:
                log.exception("batch handler failed", consumer=self._spec.durable)
                return [exc] * len(events)
            return [self._wrap(r) for r in results]
        assert self._handler is not None
        msg, event = events[0]
        structlog.contextvars.bind_contextvars(
            reading_id=event.subject, event_id=event.id, event_type=event.type
        )
        try:
            return [self._wrap(await self._handler(event.data, self._context(msg, event)))]
        except Exception as exc:
            return [exc]

    def _context(self, msg: Msg, event: Event) -> BusContext:
        delivery = Delivery(_stream_seq(msg), _attempt(msg), self._spec.max_deliver)
        bound = {"reading_id": event.subject, "event_id": event.id, "event_type": event.type}
        return BusContext(delivery, self._publisher, self._nc, self._handler_log, bound)

    def _wrap(self, produced: Produced | BaseException) -> Outputs | BaseException:
        """A handler's payload models in their envelopes, from this service's source."""
        if isinstance(produced, BaseException):
            return produced
        try:
            return [make_event(data, source=self._publisher.source) for data in produced]
        except Exception as exc:  # not an event contract: a bug, retried and then failed
            return exc

    async def _settle(self, msg: Msg, event: Event, result: Outputs | BaseException) -> None:
        bound = structlog.contextvars.bound_contextvars(
            reading_id=event.subject, event_id=event.id, event_type=event.type
        )
        with bound:
            outcome = "ack"
            try:
                if isinstance(result, Permanent):
                    outcome = "failed"
                    log.warning("event failed permanently", code=result.code, reason=result.message)
                    await self._fail(lambda stage: failures.permanent(stage, event.data, result))
                    await msg.term()
                elif isinstance(result, Release):
                    outcome = "released"
                    log.debug("event released", reason=str(result))
                    await msg.nak()
                elif isinstance(result, BaseException):
                    outcome = await self._retry_or_give_up(msg, event, result)
                else:
                    for out in result:
                        await self._publisher.publish(out, SETTLE_TIMEOUT_S)
                    await msg.ack()
            except Exception as exc:
                # Could not publish or settle (bus trouble): the message comes back
                # after AckWait or the nak delay; handlers are idempotent.
                outcome = "retry"
                log.warning("could not settle event", error=str(exc))
                with contextlib.suppress(Exception):
                    await msg.nak(delay=backoff_delay(_attempt(msg)))
            EVENTS_HANDLED.labels(self._service, event.type, outcome).inc()
            entry = self._in_flight.get(msg.reply)
            if entry is not None:
                EVENT_HANDLE_SECONDS.labels(self._service, event.type).observe(
                    time.monotonic() - entry[1]
                )

    async def _retry_or_give_up(self, msg: Msg, event: Event, exc: BaseException) -> str:
        attempt = _attempt(msg)
        reason = str(exc) or type(exc).__name__
        if 0 < self._spec.max_deliver <= attempt:
            log.error("retries exhausted", attempt=attempt, reason=reason)
            await self._fail(
                lambda stage: failures.retries_exhausted(stage, event.data, attempt, reason)
            )
            await msg.term()
            return "exhausted"
        delay = exc.delay_s if isinstance(exc, Transient) and exc.delay_s else None
        delay = delay if delay is not None else backoff_delay(attempt)
        if not isinstance(exc, Transient):
            log.warning(
                "handler error, will retry",
                attempt=attempt,
                delay_s=round(delay, 2),
                error=reason,
                exc_info=exc,
            )
        await msg.nak(delay=delay)
        return "retry"

    async def _fail(
        self, build: Callable[[Stage], ReadingFailed], timeout_s: float | None = SETTLE_TIMEOUT_S
    ) -> None:
        """Publish the `reading.failed` that `build` (one of `failures`) makes for this
        loop's stage; nothing when the loop fails no readings (`fails_as` None)."""
        if self._fails_as is None:
            return
        failed = make_event(build(self._fails_as), source=self._publisher.source)
        await self._publisher.publish(failed, timeout_s)

    async def _dead(self, msg: Msg, poison: PoisonEvent) -> None:
        parsed = names.parse_subject(msg.subject)
        log.error("poison event dead-lettered", subject=msg.subject, code=poison.code,
                  reason=poison.reason)  # fmt: skip
        try:
            if self._on_poison is not None:
                await self._on_poison(
                    Poison(msg.subject, _stream_seq(msg), poison.code, poison.reason, msg.data)
                )
            if parsed is not None:
                reading_id = parsed[1]
                await self._fail(lambda stage: failures.poison(stage, reading_id, poison), None)
        except Exception as exc:
            # Not recorded yet: keep the message and try again later rather than lose it.
            log.warning("could not record poison event", error=str(exc))
            await msg.nak(delay=backoff_delay(_attempt(msg)))
            return
        await msg.term()
        EVENTS_HANDLED.labels(self._service, _type_of(msg), "poison").inc()

    async def _heartbeat(self) -> None:
        interval = self._spec.ack_wait_s / 3
        while True:
            await asyncio.sleep(interval)
            cutoff = time.monotonic() - interval
            for m, started in list(self._in_flight.values()):
                if started <= cutoff:
                    with contextlib.suppress(Exception):
                        await m.in_progress()

    async def stop(self, timeout_s: float) -> None:
        """Stop fetching; let in-flight work finish within `timeout_s`, release the rest."""
        self._stopping.set()
        self._slot_freed.set()
        if self._run_task is not None:
            await asyncio.wait([self._run_task], timeout=self._poll_s + 1)
            if not self._run_task.done():
                self._run_task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        for helper in self._helpers:
            helper.cancel()


async def _unsubscribe(subs: list[JetStreamContext.PullSubscription]) -> None:
    for sub in subs:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


_NO_MORE = (StatusCode.NO_MESSAGES.value, StatusCode.REQUEST_TIMEOUT.value)


async def _no_wait_pull(
    sub: JetStreamContext.PullSubscription, n: int, timeout_s: float
) -> list[Msg]:
    """Pull up to `n` messages that are waiting now; [] at once when none is.

    Uses the pull subscription's request subject and inbox as nats-py's own fetch
    does (`_nms`, `_deliver`, `_sub`). Messages left in the inbox by an earlier pull
    are taken first; status messages meant for earlier pulls are dropped.
    """
    inbox = sub._sub
    queue = inbox._pending_queue
    msgs: list[Msg] = []
    while not queue.empty() and len(msgs) < n:
        m = queue.get_nowait()
        inbox._pending_size -= len(m.data)
        if JetStreamContext.is_status_msg(m) is None:
            msgs.append(m)
    if len(msgs) >= n:
        return msgs
    request = {"batch": n - len(msgs), "no_wait": True}
    await sub._nc.publish(sub._nms, json.dumps(request).encode(), sub._deliver)
    deadline = time.monotonic() + timeout_s
    while len(msgs) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            m = await inbox.next_msg(timeout=left)
        except _FETCH_TIMEOUTS:
            break
        status = JetStreamContext.is_status_msg(m)
        if status is None:
            msgs.append(m)
        elif status in _NO_MORE or not status.startswith("1"):
            break  # that was all (404/408), or a 409 (e.g. max waiting): none for now
        # 100: a heartbeat or flow control: keep reading
    return msgs


def _attempt(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1


def _stream_seq(msg: Msg) -> int:
    return int(msg.metadata.sequence.stream)


def _type_of(msg: Msg) -> str:
    """The event type from a subject (`hd.<type>.<id>`), bounded to the known set."""
    from shared.events.registry import CONTRACTS

    parsed = names.parse_subject(msg.subject)
    return parsed[0] if parsed is not None and parsed[0] in CONTRACTS else "unknown"
