"""Builders for test data: births, charts and events, valid by construction."""

from __future__ import annotations

import uuid
from typing import Any

from shared.bus.consumer import Delivered
from shared.events.birth import BirthInput, Place
from shared.events.chart import (
    BODIES,
    Activation,
    Activations,
    Chart,
    ChartActivations,
    Engine,
    Moment,
    ResolvedBirth,
    ResolvedPlace,
)
from shared.events.chart_calculated import ChartCalculated
from shared.events.envelope import Envelope
from shared.events.reading_cancelled import ReadingCancelled
from shared.events.reading_delta import ReadingDelta
from shared.events.reading_failed import ReadingFailed
from shared.events.reading_generated import ReadingGenerated
from shared.events.reading_requested import Priority, ReadingRequested
from shared.events.reading_started import ReadingStarted
from shared.events.registry import make_event

MONTREAL = {"latitude": 45.5017, "longitude": -73.5673, "name": "Montreal"}


def new_id() -> str:
    return str(uuid.uuid4())


def birth(**overrides: Any) -> BirthInput:
    fields: dict[str, Any] = {"date": "1948-04-09", "time": "00:14", "place": Place(**MONTREAL)}
    return BirthInput(**{**fields, **overrides})


def chart(seed: int = 0) -> Chart:
    def side(offset: int) -> Activations:
        acts = {
            body: Activation(longitude=(i * 27.7 + offset + seed) % 360,
                             gate=(i * 5 + offset + seed) % 64 + 1, line=(i + offset) % 6 + 1,
                             color=1, tone=2, base=3)
            for i, body in enumerate(BODIES)
        }  # fmt: skip
        return Activations(**acts)

    return Chart(
        birth=ResolvedBirth(date="1948-04-09", time="00:14", timezone="America/Toronto",
                            utc_offset="-05:00", utc="1948-04-09T05:14:00Z", time_note="ok",
                            place=ResolvedPlace(**MONTREAL)),
        design=Moment(utc="1948-01-12T13:28:24Z"),
        activations=ChartActivations(personality=side(0), design=side(3)),
        engine=Engine(version="test"),
    )  # fmt: skip


def requested(
    reading_id: str, version: int = 1, user_id: str | None = None, priority: Priority = "normal"
) -> Envelope[Any]:
    data = ReadingRequested(reading_id=reading_id, version=version, birth=birth(),
                            user_id=user_id, priority=priority)  # fmt: skip
    return make_event(data, source="/tests")


def calculated(reading_id: str, version: int = 1, priority: Priority = "normal") -> Envelope[Any]:
    data = ChartCalculated(reading_id=reading_id, version=version, chart=chart(), duration_s=0.001,
                           priority=priority)  # fmt: skip
    return make_event(data, source="/tests")


def started(reading_id: str, version: int = 1) -> Envelope[Any]:
    data = ReadingStarted(reading_id=reading_id, version=version, provider="offline",
                          model="m", agent="personality", language="en")  # fmt: skip
    return make_event(data, source="/tests")


def delta(reading_id: str, index: int, text: str, version: int = 1) -> Envelope[Any]:
    data = ReadingDelta(reading_id=reading_id, version=version, index=index, text=text)
    return make_event(data, source="/tests", part=str(index))


def generated(reading_id: str, text: str = "the reading", version: int = 1) -> Envelope[Any]:
    data = ReadingGenerated(reading_id=reading_id, version=version, text=text,
                            provider="offline", model="m", composed_offline=True,
                            agent="personality", language="en", prompt_version="p/1",
                            latency_s=0.01)  # fmt: skip
    return make_event(data, source="/tests")


def failed(reading_id: str, code: str = "place_not_found", version: int = 1) -> Envelope[Any]:
    data = ReadingFailed(reading_id=reading_id, version=version, stage="chart", code=code,
                         message="no such place")  # fmt: skip
    return make_event(data, source="/tests")


def cancelled(reading_id: str, version: int = 1, reason: str = "changed my mind") -> Envelope[Any]:
    data = ReadingCancelled(reading_id=reading_id, version=version, reason=reason)
    return make_event(data, source="/tests")


class Stream:
    """Hands out stream sequences the way JetStream would: `s(e1, e2)` -> delivered events."""

    def __init__(self) -> None:
        self.seq = 0

    def __call__(self, *events: Envelope[Any]) -> list[Delivered]:
        out = []
        for e in events:
            self.seq += 1
            out.append(Delivered(e, self.seq, 1))
        return out
