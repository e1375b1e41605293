"""Publish an event to JetStream: deterministic `Nats-Msg-Id`, awaited ack, retried while
the stream cannot answer for a moment.

A publish is safe to send again: JetStream drops a repeated `Nats-Msg-Id` inside
the duplicate window. So while the stream is briefly unable to store (no
responders while a cluster elects a new leader, a request that timed out, a
503, or 10158 while the same id is being replicated), the publisher sends it
again with jittered backoff, within the caller's time budget, and only then
gives up. A worker settling an event therefore rides out a leader election
instead of burning one of its deliveries per failed attempt.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import Header, PubAck
from nats.js.errors import APIError, NoStreamResponseError
from nats.js.errors import Error as JetStreamError
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from shared import names
from shared.events.envelope import Envelope
from shared.events.registry import encode
from shared.metrics import EVENTS_DUPLICATE, EVENTS_PUBLISHED, PUBLISH_RETRIES

# What a publish or a direct get raises when the bus cannot confirm: answer 503, retry.
BUS_ERRORS = (TimeoutError, NatsError, JetStreamError)

# JetStream's error code when `Nats-Expected-Last-Subject-Sequence` does not hold.
WRONG_LAST_SEQUENCE = 10071
# A clustered stream's answer while a publish with the same Nats-Msg-Id is being stored.
ID_IN_PROCESS = 10158
# Makes the expected-last-subject-sequence check apply to a subject filter (nats-server
# 2.11+), here every priority of the event's reading.
EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject"
# One attempt waits at most this long for its ack, so a budget holds several attempts.
ATTEMPT_TIMEOUT_S = 2.0


class SubjectConflict(Exception):
    """The subject already moved past the sequence the publisher expected."""


def stream_busy(exc: BaseException) -> bool:
    """Whether a failed publish may succeed if sent again in a moment (see module doc)."""
    if isinstance(exc, APIError):
        return exc.err_code == ID_IN_PROCESS or exc.code == 503
    return isinstance(exc, NoStreamResponseError | TimeoutError)  # nats' timeout is one too


class Publisher:
    """Publishes envelopes and waits until JetStream has stored them.

    One per service (the runner's): `source` is what the service's events say they
    come from, so handlers and routes never name it themselves.
    """

    def __init__(self, js: JetStreamContext, *, service: str, timeout_s: float = 5.0) -> None:
        self._js = js
        self._service = service
        self._timeout_s = timeout_s
        self.source = names.source_of(service)

    async def publish(
        self,
        event: Envelope[Any],
        timeout_s: float | None = None,
        *,
        expected_last_subject_seq: int | None = None,
    ) -> PubAck:
        """Store `event` within `timeout_s` (the publisher's default when None), retrying
        while the stream is busy; a second publish with the same id inside the window is
        dropped by JetStream.

        With `expected_last_subject_seq`, JetStream stores the event only if the last
        message on its subject has that sequence (0: the subject is empty), atomically:
        `SubjectConflict` otherwise. That is a compare-and-set without a lock.

        A compare-and-set whose id was already stored is a conflict too. One server
        checks the expected sequence first and answers error 10071; a clustered
        stream checks `Nats-Msg-Id` first and answers a PubAck with `duplicate: true`
        (nats-server 2.15): the event is not stored again either way, so the caller
        must read what is there, never take the duplicate ack for its own success.
        That also covers an attempt that timed out after the stream had stored it.
        """
        headers = {names.MSG_ID_HEADER: event.id}
        if expected_last_subject_seq is not None:
            headers[Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value] = str(expected_last_subject_seq)
            # Checked against the event at every priority (`*.<type>.<id>`): a high request
            # and a normal one of the same reading are one sequence of versions.
            headers[EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT] = names.any_priority_subject(
                event.type, event.subject
            )
        priority = str(getattr(event.data, "priority", names.NORMAL))
        subject = names.subject_for(event.type, event.subject, priority)
        payload = encode(event)
        budget = timeout_s or self._timeout_s
        deadline = time.monotonic() + budget

        async def attempt() -> PubAck:
            left = max(deadline - time.monotonic(), 0.05)
            return await self._js.publish(subject, payload, timeout=min(left, ATTEMPT_TIMEOUT_S),
                                          stream=names.STREAM, headers=headers)  # fmt: skip

        try:
            try:
                ack = await attempt()  # the common case, without the retry machinery's cost
            except Exception as exc:
                if not stream_busy(exc):
                    raise
                ack = await self._again(attempt, deadline, event.type)
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise SubjectConflict(str(exc.description)) from None
            raise
        EVENTS_PUBLISHED.labels(self._service, event.type).inc()
        if ack.duplicate:
            EVENTS_DUPLICATE.labels(self._service, event.type).inc()
            if expected_last_subject_seq is not None:
                raise SubjectConflict(f"{event.id} is already stored (sequence {ack.seq})")
        return ack

    async def _again(
        self, attempt: Callable[[], Awaitable[PubAck]], deadline: float, event_type: str
    ) -> PubAck:
        """Send again with jittered backoff while the stream is busy, until `deadline`."""
        retries = PUBLISH_RETRIES.labels(self._service, event_type)
        async for retry in AsyncRetrying(
            retry=retry_if_exception(stream_busy),
            wait=wait_exponential_jitter(multiplier=0.005, max=0.5, jitter=0.01),
            stop=stop_after_delay(max(deadline - time.monotonic(), 0.0)),
            reraise=True,
        ):
            with retry:
                retries.inc()
                return await attempt()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
