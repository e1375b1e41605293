"""The small vocabulary a handler uses to say how an event ended.

The consume loop translates it in one place: `Transient` -> nak(delay),
`Permanent` -> term + `reading.failed`, `Release` -> nak at once; any other
exception is transient.
"""

from __future__ import annotations

import random


class Transient(Exception):
    """Try again later; `delay_s` overrides the loop's backoff (e.g. a Retry-After)."""

    def __init__(self, reason: str, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s


class Permanent(Exception):
    """No retry can help: the reading fails with this code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Release(Exception):
    """Not for this replica now: hand the message back for another to take at once.

    A nak without delay, e.g. a chart still waiting for a call slot when its
    replica starts draining. Nothing went wrong with the event, so a release
    never leads to `reading.failed`, not even on the consumer's last delivery.
    JetStream counts the delivery all the same and, once `MaxDeliver` is
    reached, delivers the message no more: a handler that must not lose a
    message does not release it on its last delivery (`Delivery.last`).
    """


def backoff_delay(attempt: int, base_s: float = 0.5, cap_s: float = 60.0) -> float:
    """Exponential backoff with full jitter for the `attempt`-th delivery (1-based)."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)
