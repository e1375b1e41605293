"""`make run`'s and `make cluster`'s launcher: embedded broker and database, SIGTERM
leaves nothing behind, a second run keeps the first run's readings, and the cluster mode
runs three clustered NATS servers and the replicas SERVICE_REPLICAS names."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import psutil
import pytest

from shared.embedded.process import free_port, port_open
from tests.e2e.helpers import post_reading, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def launch(
    data_dir: Path, ports: dict[str, int], repo_root: Path, *args: str, **extra: str
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NATS_URL", "DATABASE_URL", "STREAM_REPLICAS")}  # fmt: skip
    env.update({"DATA_DIR": str(data_dir), "LOG_FORMAT": "json",
                **{k.upper(): str(v) for k, v in ports.items()}, **extra})  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "shared.launcher", *args], env=env,
                            cwd=repo_root)  # fmt: skip


def free_ports_in_a_row(n: int) -> int:
    """The first of `n` consecutive free ports (a cluster's nodes take a base and the next),
    below the kernel's ephemeral range (outgoing connections take ports above it)."""
    for _ in range(200):
        base = random.randrange(20_000, 32_000 - n)
        if not any(port_open(p) for p in range(base, base + n)):
            return base
    raise RuntimeError(f"no {n} free ports in a row")


async def wait_ready(http: aiohttp.ClientSession, urls: list[str], timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        for url in urls:
            while True:
                try:
                    async with http.get(f"{url}/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """SIGTERM the launcher; return its descendants as they were before."""
    children: list[psutil.Process] = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0
    return children


async def test_sigterm_stops_everything_and_a_second_run_keeps_readings(
    tmp_path: Path, repo_root: Path
) -> None:
    ports = {name: free_port() for name in ("intake_port", "status_port", "chart_ops_port",
                                            "reader_ops_port", "gateway_port",
                                            "embedded_nats_port", "embedded_pg_port")}  # fmt: skip
    intake = f"http://127.0.0.1:{ports['intake_port']}"
    status = f"http://127.0.0.1:{ports['status_port']}"
    api = f"http://127.0.0.1:{ports['gateway_port']}"  # the dev gateway: both on one origin
    ops = [intake, status, f"http://127.0.0.1:{ports['chart_ops_port']}",
           f"http://127.0.0.1:{ports['reader_ops_port']}", api]  # fmt: skip
    data_dir = tmp_path / "data"

    async with aiohttp.ClientSession() as http:
        first = launch(data_dir, ports, repo_root)
        try:
            await wait_ready(http, ops, 120)
            rid = await post_reading(http, api)
            await wait_status(http, api, rid, {"completed"})
        finally:
            children = stop(first)
        assert len(children) >= 7  # 4 services, the gateway, nats-server, postgres (+ workers)
        await asyncio.sleep(0.5)
        alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
        assert (data_dir / "nats").is_dir() and (data_dir / "pg" / "PG_VERSION").is_file()

        second = launch(data_dir, ports, repo_root)
        try:
            await wait_ready(http, ops, 120)
            async with http.get(f"{status}/v1/readings/{rid}") as resp:
                assert resp.status == 200
                body = await resp.json()
            assert body["status"] == "completed" and body["reading"]["text"]
        finally:
            stop(second)


async def test_cluster_mode_runs_three_nats_nodes_and_the_replicas_asked_for(
    tmp_path: Path, repo_root: Path
) -> None:
    ports = {name: free_port() for name in ("intake_port", "status_port", "chart_ops_port",
                                            "reader_ops_port", "gateway_port",
                                            "embedded_pg_port")}  # fmt: skip
    base = free_ports_in_a_row(9)  # client, route and monitoring ports of n1..n3
    ports |= {"embedded_nats_port": base, "embedded_nats_route_port": base + 3,
              "embedded_nats_monitor_port": base + 6}  # fmt: skip
    intake = f"http://127.0.0.1:{ports['intake_port']}"
    status = f"http://127.0.0.1:{ports['status_port']}"
    launcher = launch(tmp_path / "data", ports, repo_root, "--cluster", OPS_PORT_BASE="0",
                      SERVICE_REPLICAS="intake=2,chart=2,reader=1,status=2")  # fmt: skip
    async with aiohttp.ClientSession() as http:
        try:
            api = f"http://127.0.0.1:{ports['gateway_port']}"
            await wait_ready(http, [intake, status, api], 120)
            rid = await post_reading(http, api)  # through the gateway to replicas sharing a port
            await wait_status(http, status, rid, {"completed"}, timeout_s=60)
            tree = psutil.Process(launcher.pid).children(recursive=True)
            commands = [" ".join(p.cmdline()) for p in tree]
            nats_nodes = [c for c in commands if "nats-server" in c and "--cluster" in c]
            per_service = Counter(c.split("services.")[1].split()[0]
                                  for c in commands if " -m services." in c)  # fmt: skip
            async with http.get(f"http://127.0.0.1:{ports['embedded_nats_monitor_port']}"
                                "/jsz?streams=true") as resp:  # fmt: skip
                jsz = await resp.json(content_type=None)
        finally:
            children = stop(launcher)
    assert len(nats_nodes) == 3
    assert per_service == {"intake": 2, "chart": 2, "reader": 1, "status": 2}
    streams = jsz["account_details"][0]["stream_detail"]
    assert [(s["name"], len(s["cluster"]["replicas"]) + 1) for s in streams] == [("READINGS", 3)]
    await asyncio.sleep(0.5)
    alive = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
