"""Read side: the JSON a client sees for a reading (the queries are `store.readings`)."""

from __future__ import annotations

from typing import Any

from shared.api_views import ReadingView, Stages
from shared.events.envelope import Envelope
from shared.states import BY_EVENT


def view_from_request(event: Envelope[Any]) -> ReadingView:
    """What a reading looks like when only its `reading.requested` is known (poll race)."""
    data = event.data
    state = BY_EVENT[event.type]
    return ReadingView(
        id=event.subject, status=state.status, progress=state.rank, version=data.version,
        user_id=data.user_id, agent=data.agent, language=data.language,
        created_at=event.time, updated_at=event.time, stages=Stages(requested_at=event.time),
        birth=data.birth.model_dump(mode="json"),
    )  # fmt: skip
