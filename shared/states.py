"""Reading states: what each event moves a reading to, and the progress it shows.

The rank only grows (per version), so a late or duplicate event never moves a
reading backwards: `completed` never returns to `generating`. The status service
projects events with it, and clients (`hdq`) follow a reading's events with it.
"""

from __future__ import annotations

from typing import NamedTuple


class State(NamedTuple):
    status: str
    rank: int  # also the progress shown, 0-100


BY_EVENT: dict[str, State] = {
    "reading.requested": State("queued", 10),
    "chart.calculated": State("chart_ready", 40),
    "reading.started": State("generating", 60),
    "reading.generated": State("completed", 100),
    "reading.failed": State("failed", 100),
    # Terminal for its version: a chart or reading of that version still in flight
    # arrives later with a rank no higher, so it never moves the reading out of
    # `cancelled`; a regeneration (a higher version) does. A cancel that comes after
    # the version completed or failed does not change it either (equal rank).
    "reading.cancelled": State("cancelled", 100),
}
TERMINAL_RANK = 100
TERMINAL_EVENTS = frozenset({"reading.generated", "reading.failed", "reading.cancelled"})
TERMINAL_STATUSES = frozenset(BY_EVENT[event].status for event in TERMINAL_EVENTS)
