"""`reading.failed` as the consume loop builds it: one place for every way a stage gives up.

A consume loop that fails readings (and status, for a last delivery that
died with its process, `last_delivery_lost`) (chart and reader: `fails_as` names the
stage) publishes one when its handler raises `Permanent`, when the last
delivery ends in an error, and when an event is poison but its subject still
names a reading. Handlers never build it themselves.
"""

from __future__ import annotations

from shared.bus.outcomes import Permanent
from shared.events.base import ReadingEvent
from shared.events.reading_failed import ReadingFailed, Stage
from shared.events.registry import PoisonEvent

RETRIES_EXHAUSTED = "retries_exhausted"


def permanent(stage: Stage, data: ReadingEvent, outcome: Permanent) -> ReadingFailed:
    """The handler said no retry can help: its code and message."""
    return _failed(stage, data.reading_id, data.version, outcome.code, outcome.message)


def retries_exhausted(
    stage: Stage, data: ReadingEvent, attempts: int, reason: str
) -> ReadingFailed:
    """The last delivery failed too: JetStream will not deliver the event again."""
    message = f"gave up after {attempts} attempts: {reason}"
    return _failed(stage, data.reading_id, data.version, RETRIES_EXHAUSTED, message)


def last_delivery_lost(stage: Stage, data: ReadingEvent, deliveries: object) -> ReadingFailed:
    """JetStream's MAX_DELIVERIES advisory: the last delivery died with its process."""
    message = f"gave up after {deliveries} deliveries; the last one never finished"
    return _failed(stage, data.reading_id, data.version, RETRIES_EXHAUSTED, message)


def poison(stage: Stage, reading_id: str, dead: PoisonEvent) -> ReadingFailed:
    """An event no retry can read, about `reading_id` (its subject): version unknown, so 1."""
    return _failed(stage, reading_id, 1, dead.code, dead.reason)


def _failed(stage: Stage, reading_id: str, version: int, code: str, message: str) -> ReadingFailed:
    return ReadingFailed(
        reading_id=reading_id, version=version, stage=stage, code=code, message=message
    )
