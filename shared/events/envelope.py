"""The one envelope every event travels in: CloudEvents 1.0, structured JSON mode.

`id` is deterministic (reading id + type + version + attempt-independent parts)
and doubles as the `Nats-Msg-Id`, so a worker that publishes twice after a
crash produces one event. `schemaversion` (a CloudEvents extension attribute)
is `MAJOR.MINOR`; a consumer rejects an unknown major version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

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


class RawEnvelope(BaseModel):
    """The envelope with `data` not yet validated (the first step of decoding)."""

    specversion: str
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    datacontenttype: str = "application/json"
    schemaversion: str
    data: dict[str, Any]
