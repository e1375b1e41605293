"""Live text: pieces of a reading's text on core NATS, and its text so far on request.

A reading's text arrives from the LLM in many pieces over 30-60 s. Each piece
is for the eyes of whoever watches right now; the durable text is the
`reading.generated` event. So pieces are not JetStream events: the reader
sends them with a plain publish on `live.text.<reading id>` (no ack, nothing
stored, a cost that does not grow the stream or PostgreSQL), and every status
replica hears them all and keeps each live reading's text so far.

Core NATS may drop a piece (a slow consumer, a reconnect), and a status
replica that starts mid-reading has heard nothing yet. Both are healed by
asking the source: `ask_so_far` sends a request on `live.sofar.<reading id>`;
the reader replica writing that reading answers with the whole text so far,
the others stay silent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from shared import names
from shared.events.reading_delta import ReadingDelta
from shared.logging import get_logger
from shared.metrics import LIVE_TEXT_PIECES

log = get_logger(__name__)

SoFar = Callable[[str], ReadingDelta | None]  # reading id -> its whole text so far, if writing
# Sends one piece: `send_piece` on a connection, or a handler's `Context.send_live`.
SendPiece = Callable[[ReadingDelta], Awaitable[None]]


async def send_piece(nc: NATS, piece: ReadingDelta) -> None:
    """Publish one piece (core NATS: returns once buffered for the server, no ack)."""
    await nc.publish(names.live_text_subject(piece.reading_id), piece.model_dump_json().encode())
    LIVE_TEXT_PIECES.labels("sent").inc()


def read_piece(raw: bytes) -> ReadingDelta | None:
    """A piece from the wire; None for anything unreadable (live text is best effort)."""
    try:
        return ReadingDelta.model_validate_json(raw)
    except ValidationError:
        LIVE_TEXT_PIECES.labels("unreadable").inc()
        return None


async def serve_so_far(nc: NATS, so_far: SoFar) -> Subscription:
    """Answer `live.sofar.<id>` for the readings `so_far` knows (this replica writes them)."""

    async def answer(msg: Msg) -> None:
        reading_id = msg.subject.rsplit(".", 1)[-1]
        text = so_far(reading_id)
        if text is not None and msg.reply:
            with contextlib.suppress(Exception):
                await msg.respond(text.model_dump_json().encode())

    return await nc.subscribe(names.LIVE_SO_FAR_FILTER, cb=answer)


async def ask_so_far(nc: NATS, reading_id: str, timeout_s: float = 0.5) -> ReadingDelta | None:
    """The whole text so far of a reading being written, from the replica writing it; None
    when nobody is writing it (not started, finished, or its writer died)."""
    try:
        reply = await nc.request(names.live_so_far_subject(reading_id), b"", timeout=timeout_s)
    except Exception as exc:  # no responders, timeout, disconnected: nobody can say
        log.debug("no text so far", reading_id=reading_id, error=type(exc).__name__)
        return None
    return read_piece(reply.data)
