"""The status consumer's handlers: every event of the stream into the store.

A batch is applied in one transaction (`store.projection.apply_batch`). While the
database is away (`store.outage.database_away`) every event waits (`Transient`,
backoff); an event whose data the database refuses (`data_refused`) is dead-lettered
alone, without holding back the others. An event nobody can decode is kept as a dead
letter (`dead_letter`).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.status.store.outage import data_refused, database_away
from services.status.store.pool import Pool
from services.status.store.projection import apply_batch, record_poison
from shared.bus.consumer import Delivered, Outputs, Poison
from shared.bus.outcomes import Transient
from shared.logging import get_logger

log = get_logger(__name__)


async def project(pool: Pool, batch: Sequence[Delivered]) -> list[Outputs | BaseException]:
    """The status consumer's batch handler: the batch in one transaction.

    While the database is away every event waits (`Transient`, backoff); an event whose
    data the database refuses is dead-lettered alone, without holding back the others.
    """
    try:
        await apply_batch(pool, batch)
    except Exception as exc:
        if database_away(exc):
            # Leave the events in JetStream; they come back after a delay that grows
            # with the attempt (capped at a minute) while the database stays away.
            return [_waiting(exc)] * len(batch)
        # One event the database refuses must not hold back the others.
        log.warning("batch not applied; applying its events one by one",
                    error=type(exc).__name__)  # fmt: skip
        results: list[Outputs | BaseException] = []
        for d in batch:
            result = await project_one(pool, d)
            results.append(result)
            if isinstance(result, Transient):  # gone meanwhile: the rest waits too
                return results + [result] * (len(batch) - len(results))
        return results
    return [[] for _ in batch]


async def project_one(pool: Pool, d: Delivered) -> Outputs | BaseException:
    """Apply one event; dead-letter it only if the database refused its data."""
    try:
        await apply_batch(pool, [d])
    except Exception as exc:
        if not data_refused(exc):
            # Away: wait. Neither away nor the data (a bug, a missing grant): retry
            # loudly rather than lose a valid event.
            return _waiting(exc) if database_away(exc) else exc
        log.error("event cannot be projected; dead-lettered", event_id=d.event.id,
                  error=type(exc).__name__)  # fmt: skip
        try:
            await record_poison(pool, Poison(
                f"hd.{d.event.type}.{d.event.subject}", d.stream_seq, "unprojectable",
                f"the database refused the event ({type(exc).__name__})",
                d.event.model_dump_json().encode(),
            ))  # fmt: skip
        except Exception as not_recorded:
            # Not kept yet: the event stays in JetStream and comes back; never lost.
            return _waiting(not_recorded) if database_away(not_recorded) else not_recorded
    return []


async def dead_letter(pool: Pool, poison: Poison) -> None:
    """The consumer's poison hook: keep an event nobody can read."""
    await record_poison(pool, poison)


def _waiting(exc: BaseException) -> Transient:
    return Transient(f"database unavailable: {type(exc).__name__}")
