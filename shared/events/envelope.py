"""The one envelope every event travels in: CloudEvents 1.0, structured JSON mode.

`id` is deterministic (reading id + type + version + attempt-independent parts)
and doubles as the `Nats-Msg-Id`, so a worker that publishes twice after a
crash produces one event. `schemaversion` (a CloudEvents extension attribute)
is `MAJOR.MINOR`; a consumer rejects an unknown major version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

DataT = TypeVar("DataT", bound=BaseModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope whose `data` is one of the payload models."""

    model_config = ConfigDict(frozen=True)

    specversion: str = "1.0"
    id: str = Field(description="Deterministic event id; also the Nats-Msg-Id.")
    type: str = Field(description="Event type, e.g. `reading.requested`.")
    source: str = Field(description="The service that emitted the event, e.g. `/services/chart`.")
    subject: str = Field(description="The reading id the event is about.")
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    schemaversion: str = Field(description="`MAJOR.MINOR` of the payload schema.")
    data: DataT


class Routing(BaseModel):
    """Read from an event's bytes before the rest: what chooses its payload model, and the
    attributes `Envelope` would otherwise default (a received event must carry them)."""

    type: str
    schemaversion: str
    specversion: str
    time: datetime
