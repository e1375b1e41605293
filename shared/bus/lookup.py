"""The last event of a type about one reading, straight from the stream.

Subjects end in the reading id (`shared.names`), so this is one direct get:
no consumer, no database. For an event that travels at a priority
(`reading.requested`, `chart.calculated`) the get asks for the last on
`*.<type>.<id>`: the latest at any priority. Intake uses it to answer a retried request, status
to answer a poll that races the projection and to check a command against
the reading's latest request.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Final

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared import names
from shared.events.envelope import Envelope
from shared.events.registry import PoisonEvent, decode


@dataclass(frozen=True)
class StoredEvent:
    seq: int  # stream sequence: the `expected_last_subject_seq` of a compare-and-set
    event: Envelope[Any]


READING_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"
"""What a reading id can be: a subject token (and what the API documents as `ReadingId`)."""
_READING_ID = re.compile(READING_ID_PATTERN)


def plausible_id(reading_id: str) -> bool:
    """Whether `reading_id` can be a subject token (and so a reading id at all)."""
    return _READING_ID.fullmatch(reading_id) is not None


async def last_event(js: JetStreamContext, event_type: str, reading_id: str) -> StoredEvent | None:
    """The newest `event_type` event about `reading_id`, or None (also when unreadable)."""
    if not plausible_id(reading_id):
        return None
    try:
        raw = await js.get_last_msg(
            names.STREAM, names.any_priority_subject(event_type, reading_id)
        )
    except NotFoundError:
        return None
    if raw.data is None or raw.seq is None:
        return None
    with contextlib.suppress(PoisonEvent):
        return StoredEvent(raw.seq, decode(raw.data))
    return None
