"""`make run` / `make cluster`: the whole product on one machine, as separate processes.

With no `NATS_URL` / `DATABASE_URL`, starts the embedded NATS server
(JetStream, data under `$DATA_DIR/nats`) and PostgreSQL (`$DATA_DIR/pg`);
with them set, uses those. Then starts the four services, supervises them
(a service that dies is restarted with backoff, a crash loop is reported),
prints the URLs and a curl example, and on Ctrl-C / SIGTERM stops
everything: services first (they drain), then the broker and the database.

`--cluster` (`make cluster`) is the production shape on one machine: three
clustered NATS servers (`$DATA_DIR/nats-cluster/n1..n3`, client ports
`EMBEDDED_NATS_PORT` and the next two), the stream and the limiter's bucket
at three replicas, and `SERVICE_REPLICAS` processes per service (default
two each). Replicas of intake and status share their API port
(`HTTP_REUSEPORT`) and each has an ops port of its own (`OPS_PORT`) for its
probes and metrics; replicas of chart and reader each get their own ops port.

Last the dev gateway (`shared/gateway.py`, `GATEWAY_PORT`): the public API of
intake and status on one origin, routed as the Kubernetes edge routes it
(`shared/routes.py`); it is supervised like a service.

`EMBEDDED_NATS_AUTH=true` runs the embedded NATS with the production accounts
and permissions (`shared/bus/permissions.py`): passwords are generated at each
start into `auth.conf` beside the server's data (mode 0600), and each service
process logs in as its own user.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from shared.bus import permissions
from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port, port_open, stop_process
from shared.settings import LauncherSettings, describe_error

SERVICES = ("status", "chart", "reader", "intake")  # the order they start in
HTTP_SERVICES = ("intake", "status")  # replicas share the API port
GATEWAY = "gateway"  # `python -m shared.gateway`, after the services
CLUSTER_SIZE = 3
CRASH_LOOP_RESTARTS = 5  # restarts within CRASH_LOOP_WINDOW_S that count as a crash loop
CRASH_LOOP_WINDOW_S = 60.0


def say(message: str) -> None:
    print(f"[launcher] {message}", file=sys.stderr, flush=True)


@dataclass
class ServiceProcess:
    """One service (or the gateway) as a supervised child process."""

    name: str  # the service: intake, chart, reader or status; or gateway
    env: dict[str, str]
    ops_port: int  # where this process alone answers /readyz and /metrics
    replica: int = 1
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    next_start: float = 0.0
    log_path: Path | None = None  # append stdout and stderr here instead of inheriting them

    @property
    def key(self) -> str:
        """`chart` for the first replica, `chart-2` for the second, and so on."""
        return replica_key(self.name, self.replica)

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # Ctrl-C reaches the launcher only; it stops us in order
            )
        finally:
            if log is not None:
                log.close()

    @property
    def module(self) -> str:
        return "shared.gateway" if self.name == GATEWAY else f"services.{self.name}"

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.ops_port}/readyz", timeout=1
            ) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self, timeout_s: float) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout_s)

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, 5)


def replica_key(name: str, replica: int) -> str:
    return name if replica == 1 else f"{name}-{replica}"


class Stack:
    """The embedded infrastructure (where needed) plus the four services' processes and
    the gateway's.

    `services` holds every process by key: `chart` (the first replica), `chart-2`, ...,
    and `gateway` (unless `gateway=False`).
    """

    def __init__(
        self,
        settings: LauncherSettings,
        extra_env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        *,
        cluster: bool = False,
        replicas: dict[str, int] | None = None,
        nats_passwords: dict[str, str] | None = None,
        gateway: bool = True,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.data_dir = settings.data_dir.resolve()
        self.cluster = cluster
        self.replicas = replicas or settings.replica_counts(cluster=cluster)
        self.nats: EmbeddedNats | EmbeddedNatsCluster | None = None
        self.pg: EmbeddedPostgres | None = None
        self.nats_url = settings.nats_url or ""
        self.database_url = (
            settings.database_url.get_secret_value() if settings.database_url else ""
        )
        self.extra_env = extra_env or {}
        # user -> password: each service process logs in as its own user (given for an
        # external server; generated with EMBEDDED_NATS_AUTH for the embedded one).
        self.nats_passwords = dict(nats_passwords or {})
        self.services: dict[str, ServiceProcess] = {}
        self.log_dir = log_dir
        self._ops_ports_given = 0
        self.stream_token_secret = secrets.token_urlsafe(32)  # fresh at each start

    def start_infrastructure(self) -> None:
        if not self.nats_url:
            self.nats = self._cluster() if self.cluster else self._single_nats()
            self.nats.start()
            self.nats_url = self.nats.url
            what = f"{CLUSTER_SIZE}-node cluster" if self.cluster else "one server"
            say(f"embedded NATS (JetStream, {what}) on {self.nats_url}, "
                f"data in {self.nats.store_dir}")  # fmt: skip
        if not self.database_url:
            port = self.settings.embedded_pg_port
            if port_open(port):
                raise SystemExit(f"port {port} is taken: set EMBEDDED_PG_PORT or DATABASE_URL")
            self.pg = EmbeddedPostgres(self.data_dir / "pg", port)
            self.pg.start()
            self.database_url = self.pg.url
            say(f"embedded PostgreSQL on 127.0.0.1:{port}, data in {self.pg.pgdata}")

    def _auth_config(self, folder: Path) -> Path | None:
        """With EMBEDDED_NATS_AUTH: fresh passwords, and the accounts file that holds them."""
        if not self.settings.embedded_nats_auth:
            return None
        self.nats_passwords = {user: secrets.token_urlsafe(24) for user in permissions.USERS}
        return write_auth_config(folder / "auth.conf", self.nats_passwords)

    def _single_nats(self) -> EmbeddedNats:
        port = self.settings.embedded_nats_port
        if port_open(port):
            raise SystemExit(f"port {port} is taken: set EMBEDDED_NATS_PORT or NATS_URL")
        folder = self.data_dir / "nats"
        return EmbeddedNats(folder, port, config_file=self._auth_config(folder))

    def _cluster(self) -> EmbeddedNatsCluster:
        s = self.settings
        ports = {
            "EMBEDDED_NATS_PORT": s.embedded_nats_port,
            "EMBEDDED_NATS_ROUTE_PORT": s.embedded_nats_route_port,
            "EMBEDDED_NATS_MONITOR_PORT": s.embedded_nats_monitor_port,
        }
        for var, base in ports.items():
            taken = [p for p in range(base, base + CLUSTER_SIZE) if port_open(p)]
            if taken:
                raise SystemExit(f"port {taken[0]} is taken: set {var} or NATS_URL")
        folder = self.data_dir / "nats-cluster"
        return EmbeddedNatsCluster(
            folder,
            *(list(range(base, base + CLUSTER_SIZE)) for base in ports.values()),
            size=CLUSTER_SIZE,
            config_file=self._auth_config(folder),
        )

    def start_services(self) -> None:
        s = self.settings
        if self.gateway and port_open(s.gateway_port):
            raise SystemExit(f"port {s.gateway_port} is taken: set GATEWAY_PORT")
        env = {
            **os.environ,
            "NATS_URL": self.nats_url,
            "DATABASE_URL": self.database_url,
            "INTAKE_PORT": str(s.intake_port),
            "STATUS_PORT": str(s.status_port),
            "CHART_OPS_PORT": str(s.chart_ops_port),
            "READER_OPS_PORT": str(s.reader_ops_port),
            "STATUS_BASE_URL": os.environ.get(
                "STATUS_BASE_URL", f"http://127.0.0.1:{s.status_port}"
            ),
            # Through the gateway, intake links to the gateway's origin (X-Forwarded-Host).
            "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", "127.0.0.1"),
            # The demo page is served by status and posts to intake on another port.
            "CORS_ORIGINS": os.environ.get(
                "CORS_ORIGINS",
                f"http://127.0.0.1:{s.status_port},http://localhost:{s.status_port}",
            ),
            "DEMO_INTAKE_URL": os.environ.get(
                "DEMO_INTAKE_URL", f"http://127.0.0.1:{s.intake_port}"
            ),
            # Intake signs events_url's stream token and status checks it: one key for both
            # (used once API_KEYS or AUTH_JWKS_URL closes the API).
            "STREAM_TOKEN_SECRET": os.environ.get("STREAM_TOKEN_SECRET")
            or self.stream_token_secret,
            **({"STREAM_REPLICAS": str(CLUSTER_SIZE)} if self.cluster else {}),
            **self.extra_env,
        }
        for name in SERVICES:
            for replica in range(1, self.replicas.get(name, 1) + 1):
                ops_port, own_env = self._ports(name, replica)
                if name in self.nats_passwords:
                    own_env |= {"NATS_USER": name, "NATS_PASSWORD": self.nats_passwords[name]}
                key = replica_key(name, replica)
                log = self.log_dir / f"{key}.log" if self.log_dir else None
                svc = ServiceProcess(name, {**env, **own_env}, ops_port, replica, log_path=log)
                svc.start()
                self.services[key] = svc
        if self.gateway:
            own = {"GATEWAY_PORT": str(s.gateway_port)}
            log = self.log_dir / f"{GATEWAY}.log" if self.log_dir else None
            svc = ServiceProcess(GATEWAY, {**env, **own}, s.gateway_port, log_path=log)
            svc.start()
            self.services[GATEWAY] = svc

    @property
    def gateway_url(self) -> str:
        """The public API of both services on one origin (the dev gateway)."""
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def _ports(self, name: str, replica: int) -> tuple[int, dict[str, str]]:
        """The ops port of one replica, and the environment that gives it its ports."""
        s = self.settings
        if name in HTTP_SERVICES:
            if self.replicas.get(name, 1) == 1:
                return (s.intake_port if name == "intake" else s.status_port), {}
            # Several processes on one port: the kernel spreads connections between them;
            # each answers its own probes and metrics on its ops port.
            port = self._next_ops_port()
            return port, {"HTTP_REUSEPORT": "true", "OPS_PORT": str(port)}
        var = "CHART_OPS_PORT" if name == "chart" else "READER_OPS_PORT"
        port = s.chart_ops_port if name == "chart" else s.reader_ops_port
        if replica > 1:
            port = self._next_ops_port()
        return port, {var: str(port)}

    def _next_ops_port(self) -> int:
        base = self.settings.ops_port_base
        if not base:
            return free_port()
        self._ops_ports_given += 1
        return base + self._ops_ports_given

    def replicas_of(self, name: str) -> list[ServiceProcess]:
        """Every process of one service, first replica first."""
        return [svc for svc in self.services.values() if svc.name == name]

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        pending = set(self.services)
        while pending and time.monotonic() < deadline:
            pending = {n for n in pending if not self.services[n].ready()}
            if pending:
                time.sleep(0.1)
        return not pending

    def supervise_once(self) -> None:
        """Restart services that died, with backoff; report crash loops."""
        now = time.monotonic()
        for svc in self.services.values():
            if svc.proc is None or svc.proc.poll() is None:
                continue
            if svc.next_start == 0.0:
                svc.restarts = [t for t in svc.restarts if t > now - CRASH_LOOP_WINDOW_S]
                delay = min(30.0, 0.5 * 2 ** len(svc.restarts))
                svc.next_start = now + delay
                say(f"{svc.key} exited with code {svc.proc.returncode}; "
                    f"restarting in {delay:.1f}s")  # fmt: skip
                if len(svc.restarts) >= CRASH_LOOP_RESTARTS:
                    say(f"CRASH LOOP: {svc.key} died {len(svc.restarts)} times in "
                        f"{CRASH_LOOP_WINDOW_S:.0f}s; see its log lines above")  # fmt: skip
            elif now >= svc.next_start:
                svc.restarts.append(now)
                svc.next_start = 0.0
                svc.start()
                say(f"{svc.key} restarted")

    def stop(self, drain_timeout_s: float = 35.0) -> None:
        threads = [
            threading.Thread(target=svc.stop, args=(drain_timeout_s,))
            for svc in self.services.values()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()


def write_auth_config(path: Path, passwords: dict[str, str]) -> Path:
    """The accounts and users of shared/bus/permissions.py with these passwords, 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(permissions.embedded_accounts_conf(passwords))
    return path


def on_free_ports(data_dir: Path, nats_url: str, database_url: str) -> LauncherSettings:
    """Settings for a stack on an existing broker and database, every port free (tests,
    benchmarks)."""
    return LauncherSettings(
        data_dir=data_dir, nats_url=nats_url, database_url=SecretStr(database_url),
        intake_port=free_port(), status_port=free_port(), chart_ops_port=free_port(),
        reader_ops_port=free_port(), gateway_port=free_port(), ops_port_base=0,
    )  # fmt: skip


def banner(stack: Stack) -> str:
    s = stack.settings
    api = stack.gateway_url
    intake = f"http://127.0.0.1:{s.intake_port}"
    status = f"http://127.0.0.1:{s.status_port}"
    metrics = "  ".join(f":{svc.ops_port}/metrics" for svc in stack.services.values())
    shape = ", ".join(f"{n} x{len(stack.replicas_of(n))}" for n in ("intake", "chart",
                                                                   "reader", "status"))  # fmt: skip
    nats = stack.nats_url
    if stack.nats_passwords:
        nats += f"  (a user per service; admin's password: {stack.data_dir}/nats*/auth.conf)"
    return f"""
  Human Design pipeline is up ({shape}).
    API: {api}   (intake's and status' public API on one origin, as in Kubernetes)

    demo    {status}/                    (open in a browser)
    intake  {intake}/v1/readings        (POST)
    status  {status}/v1/readings/{{id}}   (GET; /events for SSE)
    nats    {nats}
    metrics {metrics}

  Try it:
    curl -s -X POST {api}/v1/readings -H 'Content-Type: application/json' \\
      -d '{{"birth": {{"date": "1948-04-09", "time": "00:14", "place": {{"latitude": 45.5017, "longitude": -73.5673}}}}, "agent": "personality", "language": "en"}}'
    curl -s {api}/v1/readings/<id>
    curl -N {api}/v1/readings/<id>/events

  Ctrl-C stops everything.
"""  # noqa: E501


def main() -> int:
    import argparse

    from pydantic import ValidationError

    parser = argparse.ArgumentParser(
        prog="python -m shared.launcher",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cluster", action="store_true",
                        help="three clustered NATS servers, streams at R3, SERVICE_REPLICAS "
                             "processes per service (default two each)")  # fmt: skip
    args = parser.parse_args()
    try:
        settings = LauncherSettings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    # `make run` may be signalled instead of us: make dies without passing the signal
    # on, and we are re-parented. Treat that as a stop, so nothing is left behind.
    parent = os.getppid()
    stack = Stack(settings, cluster=args.cluster)
    try:
        stack.start_infrastructure()
        stack.start_services()
        if stack.wait_ready():
            print(banner(stack), file=sys.stderr, flush=True)
        else:
            say("some services are not ready yet; their logs above say why")
        while not stop.wait(0.5):
            if os.getppid() != parent:
                say("parent process went away")
                break
            stack.supervise_once()
    finally:
        say("stopping")
        stack.stop()
        say("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
