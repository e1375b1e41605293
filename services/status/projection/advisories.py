"""Readings whose last delivery never finished: JetStream's MAX_DELIVERIES advisories.

A worker that gives up publishes `reading.failed` itself. But when its last
delivery dies with the process (killed, evicted, out of memory), nobody
does, and the reading would wait forever. JetStream then announces
`MAX_DELIVERIES` for the message; every status replica listens, looks the
message up and publishes `reading.failed` (`retries_exhausted`). The event id
is deterministic, so several replicas publishing it store one event.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from shared import names
from shared.bus import failures
from shared.bus.publish import Publisher
from shared.events.reading_failed import Stage
from shared.events.registry import PoisonEvent, decode, make_event
from shared.logging import get_logger

log = get_logger(__name__)

SUBJECT = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{names.STREAM}.*"
STAGES: dict[str, Stage] = {names.CHART_CONSUMER: "chart", names.READER_CONSUMER: "reader"}


class MaxDeliveriesWatch:
    def __init__(self, nc: NATS, js: JetStreamContext, publisher: Publisher) -> None:
        self._nc = nc
        self._js = js
        self._publisher = publisher
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(SUBJECT, cb=self._on_advisory)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_advisory(self, msg: Msg) -> None:
        try:
            advisory: dict[str, Any] = json.loads(msg.data)
            stage = STAGES.get(str(advisory.get("consumer")))
            if stage is None:
                return  # status itself never gives up
            raw = await self._js.get_msg(names.STREAM, int(advisory["stream_seq"]))
            event = decode(raw.data or b"")
        except PoisonEvent:
            return  # already dead-lettered by the consume loop
        except Exception as exc:
            log.warning("could not read a max-deliveries advisory", error=str(exc))
            return
        deliveries = advisory.get("deliveries", "?")
        failed = failures.last_delivery_lost(stage, event.data, deliveries)
        await self._publisher.publish(make_event(failed, source=self._publisher.source))
        log.warning("reading failed: deliveries exhausted", reading_id=event.subject, stage=stage)
