"""`make run`'s launcher: embedded broker and database, SIGTERM leaves nothing behind,
and a second run keeps the first run's readings."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil
import pytest

from shared.embedded.process import free_port
from tests.e2e.helpers import post_reading, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def launch(data_dir: Path, ports: dict[str, int], repo_root: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    env.update({"DATA_DIR": str(data_dir), "LOG_FORMAT": "json",
                **{k.upper(): str(v) for k, v in ports.items()}})  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "shared.launcher"], env=env, cwd=repo_root)


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
                                            "reader_ops_port", "embedded_nats_port",
                                            "embedded_pg_port")}  # fmt: skip
    intake = f"http://127.0.0.1:{ports['intake_port']}"
    status = f"http://127.0.0.1:{ports['status_port']}"
    ops = [intake, status, f"http://127.0.0.1:{ports['chart_ops_port']}",
           f"http://127.0.0.1:{ports['reader_ops_port']}"]  # fmt: skip
    data_dir = tmp_path / "data"

    async with aiohttp.ClientSession() as http:
        first = launch(data_dir, ports, repo_root)
        try:
            await wait_ready(http, ops, 120)
            rid = await post_reading(http, intake)
            await wait_status(http, status, rid, {"completed"})
        finally:
            children = stop(first)
        assert len(children) >= 6  # four services, nats-server, postgres (and its workers)
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
