"""A chart delivered again after its reading was written: no second LLM call.

A `chart.calculated` comes back when the reader that held it died, or lost
its ack, after it had published the outcome. Only a redelivery can find its
version done, so only a redelivery is looked up (a first delivery costs no
lookup): the stream is the source of truth, one direct get per event type
on `hd.<type>.<reading_id>` (`shared.bus.lookup.last_event`).
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from shared.bus.lookup import last_event
from shared.events import reading_cancelled, reading_generated

ALREADY_GENERATED = "already_generated"
CANCELLED = "cancelled"


async def done_before(js: JetStreamContext, reading_id: str, version: int) -> str | None:
    """Why `version` of the reading needs no call any more, or None when it does.

    `already_generated`: a `reading.generated` of this version or a later one is
    stored; `cancelled`: a `reading.cancelled` of this version or a later one is.
    """
    generated, cancelled = await asyncio.gather(
        last_event(js, reading_generated.TYPE, reading_id),
        last_event(js, reading_cancelled.TYPE, reading_id),
    )
    if generated is not None and generated.event.data.version >= version:
        return ALREADY_GENERATED
    if cancelled is not None and cancelled.event.data.version >= version:
        return CANCELLED
    return None
