"""The limiter shared by reader replicas, on a real NATS server's KV store."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NATS

from services.reader.limiter import BUCKET, KV_STREAM, Limits, SharedLimiter
from shared.bus.connect import server_list
from tests.bus import stream_replicas

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


@pytest.fixture
async def replicas(nats_url: str) -> AsyncIterator[list[NATS]]:
    conns = [await nats.connect(server_list(nats_url)) for _ in range(3)]
    js = conns[0].jetstream()
    with contextlib.suppress(Exception):  # absent on a fresh server
        await js.delete_key_value(BUCKET)
    yield conns
    for c in conns:
        await c.close()


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_three_replicas_never_exceed_the_limit_in_any_window(replicas: list[NATS]) -> None:
    limits = Limits(rpm=10, tpm=0, window_s=1.0)
    limiters = [await SharedLimiter.create(c.jetstream(), limits) for c in replicas]
    granted: list[float] = []

    async def call(limiter: SharedLimiter) -> None:
        await limiter.acquire(100)
        granted.append(time.time())

    await asyncio.gather(*(call(lim) for lim in limiters for _ in range(10)))
    assert len(granted) == 30
    assert max_in_any_window(granted, 1.0) <= 10
    assert max(granted) - min(granted) < 4.0  # waited for slots, nobody starved


async def test_token_limit_spaces_big_calls(replicas: list[NATS]) -> None:
    limits = Limits(rpm=0, tpm=1000, window_s=1.0)
    limiter = await SharedLimiter.create(replicas[0].jetstream(), limits)
    t0 = time.time()
    for _ in range(3):
        await limiter.acquire(500)  # two calls' worth of tokens per window
    assert time.time() - t0 >= 0.95


async def test_a_429_holds_back_every_replica(replicas: list[NATS]) -> None:
    limits = Limits(rpm=1000, tpm=0, window_s=60.0)
    a, b = [await SharedLimiter.create(c.jetstream(), limits) for c in replicas[:2]]
    await a.acquire(1)
    await a.push_back(0.6)
    waited = await b.acquire(1)
    assert waited >= 0.5


async def test_no_limits_means_no_store_and_no_wait(replicas: list[NATS]) -> None:
    limiter = await SharedLimiter.create(replicas[0].jetstream(), Limits(0, 0, 60.0))
    assert await limiter.acquire(10_000) == 0.0


async def test_the_bucket_has_the_streams_replicas(replicas: list[NATS]) -> None:
    """Created at STREAM_REPLICAS (3 on `make pytest-cluster`), as the stream: one lost
    node must not stop every reader replica's calls."""
    js = replicas[0].jetstream()
    await SharedLimiter.create(js, Limits(60, 0, 60.0), stream_replicas())
    assert (await js.stream_info(KV_STREAM)).config.num_replicas == stream_replicas()
    await SharedLimiter.create(js, Limits(60, 0, 60.0), stream_replicas())  # exists: kept
    assert (await js.stream_info(KV_STREAM)).config.num_replicas == stream_replicas()
