"""Event type -> payload model, and the one way to build and decode envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.events import (
    chart_calculated,
    reading_cancelled,
    reading_delta,
    reading_failed,
    reading_generated,
    reading_requested,
    reading_started,
)
from shared.events.base import ReadingEvent
from shared.events.envelope import Envelope, Routing


@dataclass(frozen=True)
class Contract:
    event_type: str
    schema_version: str
    model: type[ReadingEvent]

    @property
    def major(self) -> str:
        return self.schema_version.split(".", 1)[0]


CONTRACTS: dict[str, Contract] = {
    c.event_type: c
    for c in (
        Contract(reading_requested.TYPE, reading_requested.SCHEMA_VERSION,
                 reading_requested.ReadingRequested),
        Contract(chart_calculated.TYPE, chart_calculated.SCHEMA_VERSION,
                 chart_calculated.ChartCalculated),
        Contract(reading_started.TYPE, reading_started.SCHEMA_VERSION,
                 reading_started.ReadingStarted),
        Contract(reading_delta.TYPE, reading_delta.SCHEMA_VERSION, reading_delta.ReadingDelta),
        Contract(reading_generated.TYPE, reading_generated.SCHEMA_VERSION,
                 reading_generated.ReadingGenerated),
        Contract(reading_failed.TYPE, reading_failed.SCHEMA_VERSION,
                 reading_failed.ReadingFailed),
        Contract(reading_cancelled.TYPE, reading_cancelled.SCHEMA_VERSION,
                 reading_cancelled.ReadingCancelled),
    )
}  # fmt: skip
_BY_MODEL: dict[type[ReadingEvent], Contract] = {c.model: c for c in CONTRACTS.values()}
# The envelope of each type with its payload model: validated from the raw bytes in one pass.
_TYPED: dict[str, type[Envelope[Any]]] = {
    c.event_type: Envelope[c.model]  # type: ignore[name-defined]
    for c in CONTRACTS.values()
}


class PoisonEvent(Exception):
    """An event that no retry can fix: undecodable, unknown type or major, bad payload."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def event_id(event_type: str, reading_id: str, version: int, part: str = "") -> str:
    """Deterministic id: the same logical event always gets the same id (and Nats-Msg-Id)."""
    base = f"{reading_id}:{event_type}:v{version}"
    return f"{base}:{part}" if part else base


def make_event(data: ReadingEvent, *, source: str, part: str = "") -> Envelope[Any]:
    """Wrap a payload model in its envelope with a deterministic id."""
    contract = _BY_MODEL[type(data)]
    return Envelope[Any](
        id=event_id(contract.event_type, data.reading_id, data.version, part),
        type=contract.event_type,
        source=source,
        subject=data.reading_id,
        schemaversion=contract.schema_version,
        data=data,
    )


def encode(event: Envelope[Any]) -> bytes:
    return event.model_dump_json().encode()


def decode(raw: bytes) -> Envelope[Any]:
    """Parse and validate an event; raise `PoisonEvent` with a reason when impossible."""
    try:
        head = Routing.model_validate_json(raw)
    except ValidationError as exc:
        raise PoisonEvent("undecodable", _first_error(exc)) from None
    contract = CONTRACTS.get(head.type)
    if contract is None:
        raise PoisonEvent("unknown_type", f"unknown event type {head.type!r}")
    if head.schemaversion.split(".", 1)[0] != contract.major:
        raise PoisonEvent(
            "unknown_schema_version",
            f"{head.type} schema {head.schemaversion} (this build reads {contract.major}.x)",
        )
    try:
        return _TYPED[head.type].model_validate_json(raw)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        if len(loc) > 1 and loc[0] == "data":  # the envelope is sound, its payload is not
            raise PoisonEvent("invalid_payload", _first_error(exc, skip=1)) from None
        raise PoisonEvent("undecodable", _first_error(exc)) from None


def _first_error(exc: ValidationError, skip: int = 0) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"][skip:]) or "(root)"
    return f"{loc}: {err['msg']}"
