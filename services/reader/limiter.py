"""Limits on LLM calls shared by every reader replica, kept in JetStream KV.

The limit is a rate: `READER_RPM` calls and `READER_TPM` tokens per
`READER_LIMIT_WINDOW_S`. One KV entry holds, for calls and for tokens, the
earliest time the next call may start ("generic cell rate" with no burst).
A replica reserves a start time with compare-and-set on the entry's
revision, so two replicas never take the same slot; it then waits for its
slot (the message stays alive through heartbeats, and waiting is not a
failure). Spacing calls `window / limit` apart means no interval of one
window ever holds more than `limit` calls. A provider's `429 Retry-After`,
and its `x-ratelimit-remaining-*: 0` with `x-ratelimit-reset-*` on any answer,
push the next start time out for every replica.

A replica that dies holding a reserved slot loses nothing but that slot: slots
are start times, not tokens to hand back, so the next one is free when its
time comes.

Clocks: slots are wall-clock times; replicas are expected to run NTP.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from shared import names
from shared.logging import get_logger
from shared.metrics import LLM_LIMITER_WAIT_SECONDS

log = get_logger(__name__)

BUCKET = names.LIMITER_BUCKET
KV_STREAM = f"KV_{BUCKET}"  # the stream JetStream keeps the bucket in
KEY = "llm"
# A replica can be late to use its slot (a busy event loop). A call later than
# LATE_FRACTION of a window gives its slot up and takes a new one, and slots are
# spaced so that even calls that late never put more than the limit into any
# window: with L the lateness allowed, `limit` slots span at least window + L.
LATE_FRACTION = 0.05

# A change to the shared state: returns the new state and a result for the caller.
_Change = Callable[[dict[str, float]], tuple[dict[str, float], float]]


@dataclass(frozen=True)
class Limits:
    rpm: int  # calls per window, 0 = unlimited
    tpm: int  # tokens per window, 0 = unlimited
    window_s: float

    @property
    def enabled(self) -> bool:
        return self.rpm > 0 or self.tpm > 0


class SharedLimiter:
    """Reserves call slots in a KV entry every replica shares."""

    def __init__(self, kv: KeyValue | None, limits: Limits) -> None:
        self._kv = kv
        self._limits = limits
        w = limits.window_s
        self.late_tolerance_s = LATE_FRACTION * w
        span = w + 2 * self.late_tolerance_s  # twice: a margin for the network as well
        self._call_gap = span / max(1, limits.rpm - 1) if limits.rpm else 0.0
        self._token_gap = span / limits.tpm if limits.tpm else 0.0

    @classmethod
    async def create(cls, js: JetStreamContext, limits: Limits, replicas: int = 1) -> SharedLimiter:
        """The limiter on the shared bucket, created (at `replicas`, as the stream) if needed."""
        if not limits.enabled:
            return cls(None, limits)
        try:
            kv = await js.create_key_value(
                bucket=BUCKET, history=1, replicas=replicas,
                description="reader: shared LLM rate limits",
            )  # fmt: skip
        except BadRequestError:
            # It exists: another replica created it, or an earlier run at other replicas.
            kv = await js.key_value(BUCKET)
            info = await js.stream_info(KV_STREAM)
            if info.config.num_replicas != replicas:
                info.config.num_replicas = replicas
                await js.update_stream(info.config)
        return cls(kv, limits)

    @property
    def shared(self) -> bool:
        """Whether limits are on: a push-back then holds every replica's next `acquire`."""
        return self._kv is not None

    async def acquire(self, tokens: int) -> float:
        """Wait for a slot for one call of about `tokens` tokens; return the seconds waited."""
        if self._kv is None:
            return 0.0
        started = time.time()
        while True:
            slot = await self._reserve(tokens)
            wait = slot - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if time.time() - slot <= self.late_tolerance_s:
                break
            log.debug("late for the limiter slot; taking a new one", late_s=time.time() - slot)
        waited = time.time() - started
        LLM_LIMITER_WAIT_SECONDS.observe(waited)
        return waited

    async def push_back(self, seconds: float) -> None:
        """The provider said wait (429 Retry-After): nobody starts a call before then."""
        if self._kv is None or seconds <= 0:
            return
        until = time.time() + seconds

        def later(state: dict[str, float]) -> tuple[dict[str, float], float]:
            return {k: max(v, until) for k, v in state.items()}, until

        await self._cas(later)

    async def settle(self, estimated: int, actual: int) -> None:
        """Correct the token reservation once the provider reported the real usage."""
        if self._kv is None or not self._token_gap or actual == estimated:
            return
        shift = (actual - estimated) * self._token_gap

        def correct(state: dict[str, float]) -> tuple[dict[str, float], float]:
            return {**state, "tokens": state.get("tokens", 0.0) + shift}, 0.0

        await self._cas(correct)

    async def _reserve(self, tokens: int) -> float:
        def take(state: dict[str, float]) -> tuple[dict[str, float], float]:
            now = time.time()
            slot = max(now, state.get("calls", 0.0), state.get("tokens", 0.0))
            return {
                "calls": slot + self._call_gap,
                "tokens": slot + tokens * self._token_gap,
            }, slot

        return await self._cas(take)

    async def _cas(self, change: _Change) -> float:
        assert self._kv is not None
        while True:
            try:
                entry = await self._kv.get(KEY)
                state = json.loads(entry.value or b"{}")
                revision = entry.revision
            except KeyNotFoundError:
                state, revision = {}, None
            new_state, result = change(state)
            payload = json.dumps(new_state).encode()
            try:
                if revision is None:
                    await self._kv.create(KEY, payload)
                else:
                    await self._kv.update(KEY, payload, last=revision)
                return result
            except (KeyWrongLastSequenceError, BadRequestError):
                continue  # another replica won this round: read again
