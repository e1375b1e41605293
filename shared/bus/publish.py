"""Publish an event to JetStream: deterministic `Nats-Msg-Id`, awaited ack."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck
from nats.js.errors import APIError
from nats.js.errors import Error as JetStreamError

from shared import names
from shared.events.envelope import Envelope
from shared.events.registry import encode
from shared.metrics import EVENTS_DUPLICATE, EVENTS_PUBLISHED

# What a publish or a direct get raises when the bus cannot confirm: answer 503, retry.
BUS_ERRORS = (TimeoutError, NatsError, JetStreamError)

# JetStream's error code when `Nats-Expected-Last-Subject-Sequence` does not hold.
WRONG_LAST_SEQUENCE = 10071
# A clustered stream's answer while a publish with the same Nats-Msg-Id is being stored.
ID_IN_PROCESS = 10158


class SubjectConflict(Exception):
    """The subject already moved past the sequence the publisher expected."""


class Publisher:
    """Publishes envelopes and waits until JetStream has stored them."""

    def __init__(self, js: JetStreamContext, *, service: str, timeout_s: float = 5.0) -> None:
        self._js = js
        self._service = service
        self._timeout_s = timeout_s

    async def publish(
        self,
        event: Envelope[Any],
        timeout_s: float | None = None,
        *,
        expected_last_subject_seq: int | None = None,
    ) -> PubAck:
        """Store `event`; a second publish with the same id inside the window is dropped.

        With `expected_last_subject_seq`, JetStream stores the event only if the last
        message on its subject has that sequence (0: the subject is empty), atomically:
        `SubjectConflict` otherwise. That is a compare-and-set without a lock.

        A compare-and-set whose id was already stored is a conflict too. One server
        checks the expected sequence first and answers error 10071; a clustered
        stream checks `Nats-Msg-Id` first and answers a PubAck with `duplicate: true`
        (nats-server 2.15): the event is not stored again either way, so the caller
        must read what is there, never take the duplicate ack for its own success.

        A clustered stream also answers 10158 ("duplicate message id is in process")
        while another publish of the same id is being replicated: that one decides,
        so the publish is sent again until the server says stored or duplicate.
        """
        headers = {names.MSG_ID_HEADER: event.id}
        if expected_last_subject_seq is not None:
            headers[Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value] = str(expected_last_subject_seq)
        subject, payload = names.subject_for(event.type, event.subject), encode(event)
        timeout = timeout_s or self._timeout_s
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            try:
                ack = await self._js.publish(
                    subject, payload, timeout=timeout, stream=names.STREAM, headers=headers
                )
                break
            except APIError as exc:
                if exc.err_code == WRONG_LAST_SEQUENCE:
                    raise SubjectConflict(str(exc.description)) from None
                if exc.err_code != ID_IN_PROCESS or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
            timeout = max(deadline - time.monotonic(), 0.1)
        EVENTS_PUBLISHED.labels(self._service, event.type).inc()
        if ack.duplicate:
            EVENTS_DUPLICATE.labels(self._service, event.type).inc()
            if expected_last_subject_seq is not None:
                raise SubjectConflict(f"{event.id} is already stored (sequence {ack.seq})")
        return ack
