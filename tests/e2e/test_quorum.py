"""A 3-node cluster that loses its quorum: intake answers 503 (never a 500, never a silent
202), every service's /readyz says why, and all of it comes back with the nodes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import post_reading, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BODY = {"birth": {"date": "1990-01-01", "time": "12:00",
                  "place": {"latitude": 52.5, "longitude": 13.4}}}  # fmt: skip


@pytest.fixture
async def cluster_stack(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Stack, EmbeddedNatsCluster]]:
    """One process per service on a cluster of its own (the test stops two of its nodes)."""
    cluster = EmbeddedNatsCluster(tmp_path / "nats", size=3)
    await asyncio.to_thread(cluster.start)
    settings = on_free_ports(tmp_path, cluster.url, database_url)
    st = Stack(settings, extra_env={"LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3",
                                    "STREAM_REPLICAS": "3"})  # fmt: skip
    try:
        async with running(st, stop_timeout_s=10):
            yield st, cluster
    finally:
        await asyncio.to_thread(cluster.stop)


async def readiness(http: aiohttp.ClientSession, port: int) -> tuple[int, str]:
    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
        return resp.status, await resp.text()


async def test_without_quorum_intake_answers_503_and_readyz_says_why(cluster_stack) -> None:
    st, cluster = cluster_stack
    s = st.settings
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    ports = (s.intake_port, s.status_port, s.chart_ops_port, s.reader_ops_port)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        before = await post_reading(http, intake)
        await wait_status(http, status, before, {"completed"})

        lost = [n.server_name for n in cluster.nodes[1:]]
        for name in lost:
            await asyncio.to_thread(cluster.node(name).kill)
        answers = []
        for _ in range(3):
            async with http.post(f"{intake}/v1/readings", json=BODY) as resp:
                answers.append((resp.status, resp.headers.get("Content-Type", ""),
                                resp.headers.get("Retry-After")))  # fmt: skip
        assert all(code == 503 and kind.startswith("application/problem+json") and retry
                   for code, kind, retry in answers), answers  # fmt: skip
        # The survivor goes on leading for some seconds before it sees its followers gone;
        # a service whose node was killed is "not connected to NATS" until it has moved to
        # the survivor, where it finds the stream without quorum.
        seen: dict[int, tuple[int, str]] = {}
        try:
            async with asyncio.timeout(45):
                for port in ports:
                    while "stream READINGS unavailable" not in (found := await readiness(
                        http, port))[1]:  # fmt: skip
                        seen[port] = found
                        await asyncio.sleep(0.2)
                    assert found[0] == 503, (port, found)
        except TimeoutError:
            never = f"readiness never said the stream is unavailable: {seen}"
            raise AssertionError(never) from None

        for name in lost:
            await asyncio.to_thread(cluster.start_node, name)
        async with asyncio.timeout(60):
            while [(await readiness(http, p))[0] for p in ports] != [200] * len(ports):
                await asyncio.sleep(0.2)
        after = await post_reading(http, intake)
        await wait_status(http, status, after, {"completed"}, timeout_s=60)
