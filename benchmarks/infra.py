"""Shared scaffolding for benchmarks: embedded NATS + PostgreSQL in a temp folder,
service processes, percentiles and the JSON result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import ServiceProcess

RESULTS = Path(__file__).parent / "results"


@dataclass
class Infra:
    nats: EmbeddedNats
    pg: EmbeddedPostgres
    tmp: Path


@contextmanager
def infrastructure() -> Iterator[Infra]:
    with tempfile.TemporaryDirectory(prefix="hd-bench-") as tmp:
        root = Path(tmp)
        nats = EmbeddedNats(root / "nats", free_port())
        pg = EmbeddedPostgres(root / "pg", free_port())
        nats.start()
        pg.start()
        try:
            yield Infra(nats, pg, root)
        finally:
            nats.stop()
            pg.stop()


def service(name: str, infra: Infra, **env: str) -> ServiceProcess:
    """Start one service against the benchmark infrastructure; wait until ready."""
    port = free_port()
    port_var = {"intake": "INTAKE_PORT", "status": "STATUS_PORT", "chart": "CHART_OPS_PORT",
                "reader": "READER_OPS_PORT"}[name]  # fmt: skip
    full_env = {
        **os.environ, "NATS_URL": infra.nats.url, "DATABASE_URL": infra.pg.url,
        "LOG_FORMAT": "json", "LOG_LEVEL": "warning", port_var: str(port), **env,
    }  # fmt: skip
    svc = ServiceProcess(name, full_env, port)
    svc.start()
    deadline = time.monotonic() + 90
    while not svc.ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not become ready")
        time.sleep(0.05)
    return svc


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


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform()},
        **result,
    }  # fmt: skip
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
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
