"""Shared scaffolding for benchmarks: embedded NATS (one server, or a 3-node cluster) +
PostgreSQL in a temp folder, service processes, percentiles, CPU accounting and the JSON
result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, overload

import nats
import psutil

# typing.TypeVar takes a default from Python 3.13; typing_extensions comes with pydantic.
from typing_extensions import TypeVar

from shared import names
from shared.bus.connect import server_list
from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import ServiceProcess

RESULTS = Path(__file__).parent / "results"
CLUSTER_SIZE = 3

# The broker of a benchmark: one server (the stream at R1) or a cluster (R3, as production).
NatsBus = EmbeddedNats | EmbeddedNatsCluster
BusT = TypeVar("BusT", bound=NatsBus, default=EmbeddedNats)


@dataclass
class Infra(Generic[BusT]):
    nats: BusT
    pg: EmbeddedPostgres
    tmp: Path

    @property
    def stream_replicas(self) -> int:
        return stream_replicas(self.nats)


async def stream_totals(url: str) -> dict[str, int]:
    """The stream's messages and bytes as the broker counts them."""
    nc = await nats.connect(server_list(url))
    try:
        state = (await nc.jetstream(timeout=10.0).stream_info(names.STREAM)).state
    finally:
        await nc.close()
    return {"messages": int(state.messages), "bytes": int(state.bytes)}


def code_version() -> dict[str, Any]:
    """The commit measured and the files that differed from it (others' work in progress
    is measured too): what a result was taken with."""
    root = Path(__file__).parent.parent

    def git(*args: str) -> str:
        with suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=30, check=True)  # fmt: skip
            return done.stdout
        return ""

    dirty = [row[3:] for row in git("status", "--porcelain").splitlines() if len(row) > 3]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None,
            "uncommitted": dirty}  # fmt: skip


def nats_nodes(bus: NatsBus) -> list[EmbeddedNats]:
    """The nats-server processes of `bus`: itself, or every node of the cluster."""
    return list(bus.nodes) if isinstance(bus, EmbeddedNatsCluster) else [bus]


def nats_pids(bus: NatsBus) -> list[int]:
    return [node.proc.pid for node in nats_nodes(bus) if node.proc is not None]


def stream_replicas(bus: NatsBus) -> int:
    """The replicas the stream gets on `bus` (`STREAM_REPLICAS`): one per node."""
    return len(nats_nodes(bus))


async def stream_placement(url: str) -> dict[str, Any]:
    """The stream's replicas as the broker reports them: how many, the leader, each
    follower's state."""
    nc = await nats.connect(server_list(url))
    try:
        info = await nc.jetstream(timeout=10.0).stream_info(names.STREAM)
    finally:
        await nc.close()
    out: dict[str, Any] = {"num_replicas": info.config.num_replicas}
    if info.cluster is not None:
        out["leader"] = info.cluster.leader
        out["followers"] = {str(p.name): {"current": p.current, "lag": p.lag}
                            for p in info.cluster.replicas or []}  # fmt: skip
    return out


@contextmanager
def embedded_nats(root: Path, cluster: bool = False) -> Iterator[NatsBus]:
    """A started NATS server with JetStream under `root`, or with `cluster` a started
    3-node cluster on loopback (its meta leader elected); stopped on exit."""
    bus: NatsBus = (
        EmbeddedNatsCluster(root / "nats-cluster", size=CLUSTER_SIZE)
        if cluster
        else EmbeddedNats(root / "nats", free_port())
    )
    try:
        bus.start()
        yield bus
    finally:
        bus.stop()


@overload
def infrastructure(
    cluster: Literal[False] = False,
) -> AbstractContextManager[Infra[EmbeddedNats]]: ...


@overload
def infrastructure(cluster: bool) -> AbstractContextManager[Infra[NatsBus]]: ...


def infrastructure(cluster: bool = False) -> AbstractContextManager[Infra[Any]]:
    """NATS (one server, or with `cluster` the 3-node cluster) and PostgreSQL in a temp
    folder. Services started by `service` or with `Infra.stream_replicas` in their
    environment create the stream at R1 on one server and at R3 on the cluster."""
    return _infrastructure(cluster)


@contextmanager
def _infrastructure(cluster: bool) -> Iterator[Infra[Any]]:
    with (
        tempfile.TemporaryDirectory(prefix="hd-bench-") as tmp,
        embedded_nats(Path(tmp), cluster) as bus,
    ):
        pg = EmbeddedPostgres(Path(tmp) / "pg", free_port())
        pg.start()
        try:
            yield Infra(bus, pg, Path(tmp))
        finally:
            pg.stop()


def service(name: str, infra: Infra[BusT], **env: str) -> ServiceProcess:
    """Start one service against the benchmark infrastructure; wait until ready."""
    port = free_port()
    port_var = {"intake": "INTAKE_PORT", "status": "STATUS_PORT", "chart": "CHART_OPS_PORT",
                "reader": "READER_OPS_PORT"}[name]  # fmt: skip
    full_env = {
        **os.environ, "NATS_URL": infra.nats.url, "DATABASE_URL": infra.pg.url,
        "STREAM_REPLICAS": str(infra.stream_replicas), "LOG_FORMAT": "json",
        "LOG_LEVEL": "warning", port_var: str(port), **env,
    }  # fmt: skip
    svc = ServiceProcess(name, full_env, port)
    svc.start()
    deadline = time.monotonic() + 90
    while not svc.ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not become ready")
        time.sleep(0.05)
    return svc


# A measured run with more CPU than this (cores) used by other processes is disturbed.
QUIET_CORES = 0.1


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    t = psutil.cpu_times()
    idle = sum(getattr(t, f, 0.0) for f in ("idle", "iowait", "steal", "guest", "guest_nice"))
    return float(sum(t) - idle)


def wait_quiet(timeout_s: float) -> None:
    """Wait (up to `timeout_s`) until the machine is idle apart from the idle servers:
    other work on a 2-core machine takes the cores the benchmark measures."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cores = psutil.cpu_percent(interval=2.0) / 100 * (os.cpu_count() or 1)
        if cores <= QUIET_CORES:
            return


class CpuSpan:
    """CPU used between creation and `stop()` by this process and its descendants (the
    benchmark and everything it started) and by the rest of the machine (`other`), in
    cores. A descendant that both starts and ends within the span is missed, and its CPU
    counted as other's: `other` is an upper bound."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._busy0 = busy_cpu_s()
        self._ours0 = _tree_cpu_s()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        busy = busy_cpu_s() - self._busy0
        ours = sum(cpu - self._ours0.get(pid, 0.0) for pid, cpu in _tree_cpu_s().items())
        return {
            "ours_cores": round(ours / wall, 2) if wall else 0.0,
            "other_cores": round(max(0.0, busy - ours) / wall, 2) if wall else 0.0,
        }


def _tree_cpu_s() -> dict[int, float]:
    """CPU seconds of this process and each living descendant, by pid."""
    me = psutil.Process()
    out: dict[int, float] = {}
    for proc in [me, *me.children(recursive=True)]:
        with suppress(psutil.Error):
            t = proc.cpu_times()
            out[proc.pid] = float(t.user + t.system)
    return out


def rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return float(proc.memory_info().rss) / 2**20


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident set size (VmHWM) of `pid`, this process when None, in MiB; None when
    the process or its /proc entry is gone."""
    with suppress(OSError):
        for row in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return None


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds of latencies given in seconds."""
    if not values:
        return {}
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(qs[49] * 1000, 3),
        "p95_ms": round(qs[94] * 1000, 3),
        "p99_ms": round(qs[98] * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
        "count": len(values),
    }


def _stamp() -> dict[str, Any]:
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform()},
    }  # fmt: skip


def _previous(path: Path) -> dict[str, Any]:
    with suppress(OSError, ValueError):
        old = json.loads(path.read_text())
        if isinstance(old, dict):
            return old
    return {}


def write_result(name: str, result: dict[str, Any], keep: tuple[str, ...] = ()) -> Path:
    """Write `benchmarks/results/<name>.json`; the sections named in `keep` that the file
    already has (written by another mode of the benchmark) stay as they are."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    old = _previous(path)
    kept = {k: old[k] for k in keep if k in old and k not in result}
    payload = {"benchmark": name, **_stamp(), **result, **kept}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    return path


def write_section(name: str, section: str, result: dict[str, Any]) -> Path:
    """Put `result` (stamped with its own date and machine) as `section` into
    `benchmarks/results/<name>.json`, keeping the rest of the file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = _previous(path) or {"benchmark": name}
    payload[section] = {**_stamp(), **result}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload[section], indent=2))
    return path


def scrape_buckets(metrics_text: str, name: str) -> dict[float, float]:
    """Cumulative bucket counts of histogram `name` (summed over labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return buckets


def histogram_quantiles(
    before: dict[float, float], after: dict[float, float], qs: tuple[float, ...] = (0.5, 0.99)
) -> dict[str, float | None]:
    """Quantiles (ms) of the observations between two scrapes, interpolated in buckets."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    out: dict[str, float | None] = {}
    for q in qs:
        key = f"p{round(q * 100)}_ms"
        if total <= 0:
            out[key] = None
            continue
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in zip(bounds, counts, strict=True):
            if count >= rank:
                if bound == float("inf"):
                    out[key] = float("inf")
                else:
                    frac = (rank - lower_count) / max(count - lower_count, 1e-9)
                    out[key] = round((lower_bound + frac * (bound - lower_bound)) * 1000, 2)
                break
            lower_bound, lower_count = bound, count
    return out
