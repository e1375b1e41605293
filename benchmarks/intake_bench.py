"""Intake benchmark: accepted `POST /v1/readings` per second and latency under `wrk`.

One `python -m services.intake` process (API key set, per-key rate limit off) on an
embedded NATS server in a temp folder; `wrk -t1 -c50` posts a valid birth with an
`X-API-Key` and a unique `Idempotency-Key` per request (benchmarks/intake.lua), after a
short warm-up. Then every accepted reading is looked for in JetStream: the messages on
`hd.reading.requested.*` must be at least the 202s. The same runs against a bare aiohttp
handler that publishes to JetStream (benchmarks/bare_intake.py): the ceiling here.
Finally py-spy samples intake under the same load (a separate run, so the sampler does
not cost the measured one) and the profile is summarised by package and function.

Everything (wrk, intake, NATS) shares the machine's cores, so other work disturbs the
figures: each measured run waits for an idle machine first and is repeated (up to
--attempts) when other processes used more than 0.1 core meanwhile; the least disturbed
run is reported, with that figure (`cpu_cores_used.other`). Writes
`benchmarks/results/intake.json`; exits non-zero only when the run itself broke
(a process died, wrk failed, nothing accepted, an accepted reading missing from the
stream), not for missing the target. About 90 s on an idle machine.

With --cluster it measures instead what a replicated stream costs: the same intake (one
replica) under the same load on one server with the stream at R1 and on a 3-node cluster
(EmbeddedNatsCluster, loopback) at R3, both up at once and measured in alternating rounds
(R1 R3 | R3 R1 | R1 R3), each run with the discipline above and every 202 looked for in
its stream; the medians and their ratio go into `intake.json` `replication`, the rest of
the file stays (a default run likewise keeps `replication`). About 3 minutes.

    python -m benchmarks.intake_bench [--duration 20] [--connections 50] [--no-bare]
    python -m benchmarks.intake_bench --cluster [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import nats
import psutil
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from benchmarks.infra import (
    QUIET_CORES,
    NatsBus,
    busy_cpu_s,
    embedded_nats,
    nats_nodes,
    nats_pids,
    peak_rss_mb,
    rss_mb,
    stream_placement,
    stream_replicas,
    wait_quiet,
    write_result,
    write_section,
)
from shared import names
from shared.bus.connect import server_list
from shared.bus.topology import ensure_stream
from shared.embedded.process import free_port, stop_process, wait_for_port
from shared.launcher import ServiceProcess

HERE = Path(__file__).resolve().parent
LUA = HERE / "intake.lua"
API_KEY = "hd-bench-intake-key-0123456789abcdef"
TENANT = "bench"
BODY = {"birth": {"date": "1990-01-01", "time": "12:00",
                  "place": {"latitude": 52.52, "longitude": 13.405}}}  # fmt: skip
REQUESTED = names.subject_filter("reading.requested")
TARGET_ACCEPTED_PER_S = 6000
TARGET_P99_MS = 15.0
RESULT_LINE = re.compile(r"^BENCH_RESULT (\{.*\})$", re.MULTILINE)


class BenchBroken(RuntimeError):
    """The run itself failed (as opposed to missing the target)."""


@dataclass
class Target:
    """One HTTP server under test: its process and where it listens."""

    name: str
    pid: int
    url: str
    alive: Callable[[], bool]
    more_pids: list[int] = field(default_factory=list)  # further replicas on the same port


@dataclass
class Run:
    """One wrk run against a target, with the CPU each process used meanwhile."""

    label: str
    wrk: dict[str, Any]
    wall_s: float
    cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return int(self.wrk["statuses"].get("202", 0))


# -- infrastructure ---------------------------------------------------------------------


@contextmanager
def nats_in_tmp(cluster: bool = False) -> Iterator[NatsBus]:
    """NATS with JetStream in a temp folder (no PostgreSQL: intake needs none): one server,
    or with `cluster` the 3-node cluster."""
    with (
        tempfile.TemporaryDirectory(prefix="hd-bench-intake-") as tmp,
        embedded_nats(Path(tmp), cluster) as bus,
    ):
        yield bus


@contextmanager
def intake_process(
    bus: NatsBus, replicas: int = 1, nats_url: str | None = None
) -> Iterator[Target]:
    """`python -m services.intake` x `replicas` on one port (SO_REUSEPORT, as pods behind a
    Service), as in production: auth on with one key, logs at info, no per-key rate limit;
    the stream at R1 on one server, at R3 on the cluster. `nats_url`: connect there
    instead of to any node of `bus`."""
    port = free_port()
    env = {
        **os.environ, "NATS_URL": nats_url or bus.url, "INTAKE_PORT": str(port),
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "json", "API_KEYS": f"{TENANT}={API_KEY}", "API_RATE_LIMIT": "",
        "HTTP_REUSEPORT": "true", "STREAM_REPLICAS": str(stream_replicas(bus)),
    }  # fmt: skip
    services = [ServiceProcess("intake", env, port, log_path=_devnull()) for _ in range(replicas)]
    try:
        for svc in services:
            svc.start()
            assert svc.proc is not None
            proc = svc.proc
            deadline = time.monotonic() + 60
            while not svc.ready():
                if proc.poll() is not None:
                    raise BenchBroken(f"intake exited with code {proc.returncode} while starting")
                if time.monotonic() > deadline:
                    raise BenchBroken("intake did not become ready within 60 s")
                time.sleep(0.05)
        procs = [s.proc for s in services if s.proc is not None]
        yield Target("intake", procs[0].pid, f"http://127.0.0.1:{port}",
                     lambda: all(p.poll() is None for p in procs),
                     [p.pid for p in procs[1:]])  # fmt: skip
    finally:
        for svc in services:
            svc.stop(15)


def _devnull() -> Path:
    """Where the replicas' logs go: a line per accepted reading is part of the cost measured,
    but not worth keeping (or letting fill a pipe nobody reads)."""
    return Path(os.devnull)


@contextmanager
def bare_process(bus: NatsBus) -> Iterator[Target]:
    """benchmarks/bare_intake.py: parse nothing, publish, 202."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bare_intake", "--port", str(port), "--nats",
         bus.url],
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc, 30, "bare intake")
        yield Target("bare", proc.pid, f"http://127.0.0.1:{port}", lambda: proc.poll() is None)
    finally:
        stop_process(proc, signal.SIGTERM, 10)


# -- load ------------------------------------------------------------------------------


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchBroken("wrk not found: `make wrk` installs it (Debian package)")
    return found


def run_wrk(
    target: Target, label: str, seconds: float, connections: int, threads: int,
    others: dict[str, list[int]],
) -> Run:  # fmt: skip
    """Run wrk with intake.lua against `target`; CPU seconds of wrk (RUSAGE_CHILDREN),
    the target and each group of pids in `others` (summed) while it ran."""
    env = {**os.environ, "BENCH_API_KEY": API_KEY, "BENCH_RUN": f"{label}-{uuid.uuid4().hex[:8]}"}
    cmd = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
           "--timeout", "5s", "-s", str(LUA), f"{target.url}/v1/readings"]  # fmt: skip
    procs = {"server": [psutil.Process(p) for p in [target.pid, *target.more_pids]],
             **{k: [psutil.Process(p) for p in pids] for k, pids in others.items()}}  # fmt: skip
    before = {k: _cpu(p) for k, p in procs.items()}
    busy_before = busy_cpu_s()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    wall = time.perf_counter() - t0
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {k: round(_cpu(p) - before[k], 2) for k, p in procs.items()}  # replicas together
    cpu["wrk"] = round(
        (children_after.ru_utime + children_after.ru_stime)
        - (children_before.ru_utime + children_before.ru_stime),
        2,
    )
    # Whatever else ran on the machine meanwhile (it competes for the same cores).
    cpu["other"] = round(max(0.0, busy_cpu_s() - busy_before - sum(cpu.values())), 2)
    if out.returncode != 0:
        raise BenchBroken(f"wrk exited with {out.returncode}: {out.stderr.strip()}")
    match = RESULT_LINE.search(out.stdout)
    if match is None:
        raise BenchBroken(f"no BENCH_RESULT line from wrk:\n{out.stdout}\n{out.stderr}")
    if not target.alive():
        raise BenchBroken(f"{target.name} died during the {label} run")
    return Run(label, json.loads(match.group(1)), round(wall, 2), cpu)


def _cpu(procs: list[psutil.Process]) -> float:
    return sum(float(t.user + t.system) for t in (p.cpu_times() for p in procs))


# -- checks ----------------------------------------------------------------------------


async def probes(url: str) -> dict[str, Any]:
    """Is auth, validation and idempotency on? Answers of a few single requests."""
    endpoint = f"{url}/v1/readings"
    key = {"X-API-Key": API_KEY}
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        async with http.post(endpoint, json=BODY) as resp:
            out["no_api_key"] = resp.status
        async with http.post(endpoint, json=BODY, headers={"X-API-Key": "wrong-key"}) as resp:
            out["wrong_api_key"] = resp.status
        async with http.post(endpoint, json={"birth": {"date": "1990-13-01"}}, headers=key) as r:
            out["invalid_body"] = r.status
        idem = {**key, "Idempotency-Key": f"probe-{uuid.uuid4().hex}"}
        ids = []
        for _ in range(2):
            async with http.post(endpoint, json=BODY, headers=idem) as resp:
                body = await resp.json() if resp.status < 300 else {}
                ids.append((resp.status, body.get("id")))
        out["same_idempotency_key_twice"] = [s for s, _ in ids]
    out["auth_enforced"] = out["no_api_key"] == 401 and out["wrong_api_key"] == 401
    out["validation_enforced"] = out["invalid_body"] == 422
    out["idempotency_enforced"] = ids[0][1] is not None and ids[0][1] == ids[1][1]
    return out


async def count_requested(url: str) -> dict[str, int]:
    """Messages on `hd.reading.requested.*` (an ephemeral consumer's pending count) and
    in the whole stream."""
    nc = await nats.connect(server_list(url))
    try:
        js = nc.jetstream(timeout=10.0)
        info = await js.add_consumer(
            names.STREAM,
            config=ConsumerConfig(filter_subject=REQUESTED, deliver_policy=DeliverPolicy.ALL,
                                  ack_policy=AckPolicy.NONE, inactive_threshold=30.0),
        )  # fmt: skip
        with contextlib.suppress(Exception):
            await js.delete_consumer(names.STREAM, info.name)
        stream = await js.stream_info(names.STREAM)
        return {"requested": int(info.num_pending or 0),
                "stream_messages": int(stream.state.messages)}  # fmt: skip
    finally:
        await nc.close()


def durable_check(before: dict[str, int], after: dict[str, int], runs: list[Run]) -> dict[str, Any]:
    accepted = sum(r.accepted for r in runs)
    stored = after["requested"] - before["requested"]
    return {
        "accepted_202": accepted, "stored_requested": stored, "extra_stored": stored - accepted,
        "ok": stored >= accepted,
        "note": "stored >= accepted: every 202 is in the stream; a few more can be stored "
                "when wrk stops with requests in flight (published, answer not counted)",
    }  # fmt: skip


# -- profile ---------------------------------------------------------------------------


def py_spy_binary() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile(
    target: Target, seconds: float, connections: int, threads: int, keep: Path | None
) -> tuple[Run | None, dict[str, Any]]:
    """py-spy on the target for `seconds` while wrk loads it; the samples summarised."""
    spy = py_spy_binary()
    if spy is None:
        return None, {"skipped": "py-spy not installed (.venv/bin/pip install py-spy)"}
    with tempfile.TemporaryDirectory(prefix="hd-bench-spy-") as tmp:
        raw = keep or Path(tmp) / "intake.collapsed"
        cmd = [spy, "record", "--pid", str(target.pid), "--duration", f"{seconds:g}", "--rate",
               "250", "--format", "raw", "--output", str(raw)]  # fmt: skip
        spy_proc: subprocess.Popen[bytes] | None = None

        def start_spy() -> None:
            nonlocal spy_proc
            spy_proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        # wrk runs `seconds` + 3: the sampler starts 1 s in, once the load is steady.
        timer = threading.Timer(1.0, start_spy)
        timer.start()
        try:
            run = run_wrk(target, "profile", seconds + 3, connections, threads, {})
        finally:
            timer.join()
            if spy_proc is not None:
                try:
                    _, err = spy_proc.communicate(timeout=seconds + 30)
                except subprocess.TimeoutExpired:
                    stop_process(spy_proc, signal.SIGINT, 10)
                    err = b""
        if spy_proc is None or spy_proc.returncode != 0 or not raw.exists():
            detail = err.decode(errors="replace").strip()[-400:] if spy_proc else "not started"
            return run, {"skipped": f"py-spy failed: {detail}"}
        return run, summarise_profile(raw.read_text())


# Libraries whose time is counted wherever they are on a sample's stack (inclusive).
# aiohttp and asyncio are at the root of every request's stack: only their self time says
# something (self_by_package_pct).
LIBRARIES: dict[str, tuple[str, ...]] = {
    "pydantic (validate, construct, dump)": ("(pydantic/",),
    "nats-py (publish, request/ack, read loop)": ("(nats/",),
    "structlog + logging": ("(structlog/", "(logging/"),
    "prometheus_client": ("(prometheus_client/",),
    "uuid": ("(uuid.py",),
    "hashlib / secrets": ("(hashlib.py", "(secrets.py"),
    "json (stdlib)": ("(json/",),
    "contextvars helpers (contextlib)": ("(contextlib.py",),
}
# Frames at the root of every stack: the entry point, not an owner of work.
_ROOT_FILES = ("__main__.py", "shared/runner.py")

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _split(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame)
    return (m.group("func"), m.group("file")) if m else (frame, "?")


def _package(file: str) -> str:
    """`aiohttp/web_protocol.py` -> aiohttp; the project's own files keep two levels."""
    file = file.split("site-packages/", 1)[-1].lstrip("/")
    parts = file.split("/")
    if parts[0] in ("services", "shared", "benchmarks"):
        return "/".join(parts[:2])
    if len(parts) == 1:
        return parts[0].removesuffix(".py")  # stdlib module: uuid, selectors, ...
    return parts[0]


def _ours(file: str) -> bool:
    return file.startswith(("services/", "shared/")) and not file.endswith(_ROOT_FILES)


def summarise_profile(collapsed: str, top: int = 25) -> dict[str, Any]:
    """py-spy raw (collapsed) stacks -> where the CPU goes.

    - by_owner_pct: each sample belongs to the innermost frame of the project's own code
      on its stack (library time counts for the function of ours that called it); samples
      with none (aiohttp parsing and writing, the NATS read loop, the event loop) belong
      to the package of their innermost frame;
    - libraries_inclusive_pct: samples with a library anywhere on the stack;
    - self_*: the innermost Python frame alone."""
    total = 0
    by_owner: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    for row in collapsed.splitlines():
        stack, _, count_text = row.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_split(f) for f in stack.split(";")
                  if f and not f.startswith(("process ", "thread "))]  # fmt: skip
        if not frames:
            continue
        total += count
        func, file = frames[-1]
        by_package[_package(file)] += count
        by_function[f"{func} ({file})"] += count
        owner = next((f"{fn} ({fl})" for fn, fl in reversed(frames) if _ours(fl)), None)
        by_owner[owner or f"{_package(file)}, outside our code"] += count
        for name, needles in LIBRARIES.items():
            if any(n in f"({fl}" for _, fl in frames for n in needles):
                libraries[name] += count

    def pct(counts: Counter[str], n: int | None = None) -> dict[str, float]:
        return {k: round(100 * v / total, 1) for k, v in counts.most_common(n)} if total else {}

    return {
        "samples": total,
        "note": "py-spy at 250 Hz, samples where intake's thread was running (idle excluded); "
                "C and Rust code (pydantic-core, json, hashlib) counts for the Python frame "
                "that called it",
        "by_owner_pct": pct(by_owner, top),
        "libraries_inclusive_pct": pct(libraries),
        "self_by_package_pct": pct(by_package, 15),
        "self_top_functions_pct": pct(by_function, top),
    }  # fmt: skip


# -- the benchmark ---------------------------------------------------------------------


def summary(run: Run) -> dict[str, Any]:
    w = run.wrk
    lat = w["latency_ms"]
    duration = w["duration_s"]
    accepted = run.accepted
    errors = (w["requests"] - accepted) + sum(w["socket_errors"].values())
    return {
        "requests": w["requests"], "accepted_202": accepted, "duration_s": round(duration, 2),
        "accepted_per_s": round(accepted / duration) if duration else 0,
        "requests_per_s": round(w["requests"] / duration) if duration else 0,
        "p50_ms": lat["p50"], "p90_ms": lat["p90"], "p99_ms": lat["p99"],
        "p999_ms": lat["p999"], "max_ms": lat["max"], "mean_ms": lat["mean"],
        "statuses": w["statuses"], "socket_errors": w["socket_errors"], "errors": errors,
        "cpu_s": run.cpu_s,
        "cpu_cores_used": {k: round(v / run.wall_s, 2) for k, v in run.cpu_s.items()},
    }  # fmt: skip


def least_disturbed(
    target: Target, label: str, args: argparse.Namespace, others: dict[str, list[int]]
) -> tuple[Run, list[Run]]:
    """Measured runs `label`-1, -2, ... (up to --attempts), each after waiting for an idle
    machine, until one is undisturbed (other processes used <= QUIET_CORES); the least
    disturbed run and all of them."""
    main: Run | None = None
    runs: list[Run] = []
    for attempt in range(1, args.attempts + 1):
        wait_quiet(args.quiet_wait)
        run = run_wrk(target, f"{label}-{attempt}", args.duration, args.connections,
                      args.threads, others)  # fmt: skip
        runs.append(run)
        if main is None or run.cpu_s["other"] < main.cpu_s["other"]:
            main = run
        if run.cpu_s["other"] <= QUIET_CORES * run.wall_s:
            break
        print(f"[intake_bench] {target.name} {label}: other processes used "
              f"{run.cpu_s['other'] / run.wall_s:.2f} cores during run {attempt}",
              file=sys.stderr)  # fmt: skip
    assert main is not None
    return main, runs


def bench_target(kind: str, args: argparse.Namespace, profile_out: Path | None) -> dict[str, Any]:
    with nats_in_tmp() as server:
        others = {"nats": nats_pids(server)}
        starter = (
            functools.partial(intake_process, replicas=args.replicas)
            if kind == "intake"
            else bare_process
        )
        with starter(server) as target:
            checks = asyncio.run(probes(target.url)) if kind == "intake" else {}
            baseline = asyncio.run(count_requested(server.url))
            warm = run_wrk(target, "warmup", args.warmup, args.connections, args.threads, others)
            main, measured = least_disturbed(target, "measured", args, others)
            runs = [warm, *measured]
            rss = sum(rss_mb(p) for p in [target.pid, *target.more_pids])
            hwm = peak_rss_mb(target.pid)
            hwm = round(hwm, 1) if hwm is not None else None
            prof: dict[str, Any] = {}
            if kind == "intake" and args.profile_seconds > 0:
                prof_run, prof = profile(target, args.profile_seconds, args.connections,
                                         args.threads, profile_out)  # fmt: skip
                if prof_run is not None:
                    runs.append(prof_run)
                    loaded = summary(prof_run)
                    prof["under_load"] = {k: loaded[k] for k in ("accepted_per_s", "p99_ms")}
            time.sleep(1.0)  # let publishes still in flight when wrk stopped be acked
            after = asyncio.run(count_requested(server.url))
    durable = durable_check(baseline, after, runs)
    durable["runs"] = {r.label: r.accepted for r in runs}
    result = {
        **summary(main), "run": main.label,
        "warmup": {"seconds": args.warmup, "accepted_202": warm.accepted},
        "durable": durable, "rss_mb": round(rss, 1), "peak_rss_mb": hwm,
    }  # fmt: skip
    if checks:
        result["probes"] = checks
    if prof:
        result["profile"] = prof
    return result


# -- R1 beside R3 (--cluster) ----------------------------------------------------------

# The figures compared between R1 and R3 (medians over the rounds, and their ratio).
COMPARED = ("accepted_per_s", "p50_ms", "p99_ms", "max_ms")


@dataclass
class Setup:
    """One broker under test for the whole comparison: a single server (the stream at R1)
    or the 3-node cluster (R3), with its own intake replicas."""

    name: str
    bus: NatsBus
    target: Target
    probes: dict[str, Any]
    baseline: dict[str, int]
    runs: list[Run] = field(default_factory=list)  # every wrk run, warm-up included
    measured: list[Run] = field(default_factory=list)  # the one reported per round

    @property
    def pids(self) -> list[int]:
        return [*nats_pids(self.bus), self.target.pid, *self.target.more_pids]


async def create_stream(bus: NatsBus) -> str:
    """Create the stream at `bus`'s replicas (as intake does when it starts), wait until it
    has a leader and every replica is current; the leader's server name."""
    nc = await nats.connect(server_list(bus.url))
    try:
        js = nc.jetstream(timeout=10.0)
        await ensure_stream(js, stream_replicas(bus))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = await js.stream_info(names.STREAM)
            cluster = info.cluster
            if cluster is None:  # JetStream not clustered: this server holds the stream
                return nats_nodes(bus)[0].server_name
            peers = cluster.replicas or []
            full = len(peers) == stream_replicas(bus) - 1 and all(p.current for p in peers)
            if cluster.leader and full:
                return str(cluster.leader)
            await asyncio.sleep(0.1)
        raise BenchBroken("the stream has no leader with current replicas after 30 s")
    finally:
        await nc.close()


def follower_url(bus: NatsBus, leader: str) -> str:
    """Where intake connects: on the cluster, a node that is not the stream's leader (it
    forwards each publish to the leader and the ack back, as for 2 of 3 clients in
    production, whose client picks a node at random); on one server, the server."""
    followers = [n for n in nats_nodes(bus) if n.server_name != leader]
    return followers[0].url if len(nats_nodes(bus)) > 1 and followers else bus.url


def client_nodes(bus: NatsBus, client_name: str) -> dict[str, int]:
    """How many connections named `client_name` each node serves (its monitoring `/connz`):
    whether intake publishes through the stream leader or through a node that forwards."""
    out: dict[str, int] = {}
    for node in nats_nodes(bus):
        if node.monitor_port is None:
            continue
        url = f"http://127.0.0.1:{node.monitor_port}/connz?limit=1024"
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(url, timeout=2) as r:
            conns = json.load(r).get("connections") or []
            out[node.server_name] = sum(1 for c in conns if c.get("name") == client_name)
    return out


def compact(run: Run) -> dict[str, Any]:
    full = summary(run)
    keys = (*COMPARED, "errors", "cpu_cores_used")
    return {"run": run.label, **{k: full[k] for k in keys}}


def bench_replication(args: argparse.Namespace) -> dict[str, Any]:
    """The same intake under the same wrk load on one server (R1) and on the 3-node
    cluster (R3), both up for the whole comparison: a warm-up each, then `--rounds` rounds
    of one measured run each, in the order R1 R3, R3 R1, R1 R3, ... (a drift in what
    else runs on the machine then costs both alike); each measured run is the least
    disturbed of up to --attempts. Medians over the rounds, and R3 over R1."""
    setups: dict[str, Setup] = {}
    with ExitStack() as stack:
        for name, cluster in (("r1", False), ("r3", True)):
            bus = stack.enter_context(nats_in_tmp(cluster))
            url = follower_url(bus, asyncio.run(create_stream(bus)))
            target = stack.enter_context(intake_process(bus, args.replicas, url))
            setups[name] = Setup(name, bus, target, asyncio.run(probes(target.url)),
                                 asyncio.run(count_requested(bus.url)))  # fmt: skip

        def others(s: Setup) -> dict[str, list[int]]:
            # The other setup idles meanwhile (raft heartbeats at R3): its CPU is `idle`.
            return {"nats": nats_pids(s.bus),
                    "idle": [p for o in setups.values() if o is not s for p in o.pids]}  # fmt: skip

        for s in setups.values():
            s.runs.append(run_wrk(s.target, f"{s.name}-warmup", args.warmup, args.connections,
                                  args.threads, others(s)))  # fmt: skip
        for n in range(1, args.rounds + 1):
            for name in ("r1", "r3") if n % 2 else ("r3", "r1"):
                s = setups[name]
                main, runs = least_disturbed(s.target, f"{name}-round{n}", args, others(s))
                s.runs += runs
                s.measured.append(main)
                print(f"[intake_bench] round {n} {name}: {main.accepted / main.wall_s:.0f}/s "
                      f"p99 {main.wrk['latency_ms']['p99']:.1f} ms", file=sys.stderr)  # fmt: skip
        time.sleep(1.0)  # let publishes still in flight when wrk stopped be acked
        out: dict[str, Any] = {}
        for s in setups.values():
            durable = durable_check(s.baseline, asyncio.run(count_requested(s.bus.url)), s.runs)
            durable["runs"] = {r.label: r.accepted for r in s.runs}
            measured = [summary(r) for r in s.measured]
            median = {k: round(statistics.median(m[k] for m in measured), 3) for k in COMPARED}
            out[s.name] = {
                "nats_servers": len(nats_nodes(s.bus)),
                "stream": asyncio.run(stream_placement(s.bus.url)),
                "intake_connections_by_node": client_nodes(s.bus, "intake"),
                "median": median,
                "rounds": [compact(r) for r in s.measured],
                "durable": durable, "probes": s.probes,
            }  # fmt: skip
    r1, r3 = out["r1"], out["r3"]
    out["r3_over_r1"] = {
        **{k: _ratio(r3["median"][k], r1["median"][k]) for k in COMPARED},
        "accepted_per_s_by_round": [_ratio(b["accepted_per_s"], a["accepted_per_s"])
                                    for a, b in zip(r1["rounds"], r3["rounds"], strict=True)],
        "p99_ms_by_round": [_ratio(b["p99_ms"], a["p99_ms"])
                            for a, b in zip(r1["rounds"], r3["rounds"], strict=True)],
    }  # fmt: skip
    return out


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def main_cluster(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "config": {
            "wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency "
                   f"-s benchmarks/intake.lua (after a {args.warmup:g} s warm-up each)",
            "intake_replicas": args.replicas,
            "rounds": args.rounds,
            "order": " | ".join("R1 R3" if n % 2 else "R3 R1"
                                for n in range(1, args.rounds + 1)),
            "r1": "one nats-server, the stream at 1 replica",
            "r3": "3 nats-server nodes clustered on loopback, the stream at 3 replicas",
        },
    }  # fmt: skip
    broken: list[str] = []
    try:
        out.update(bench_replication(args))
    except BenchBroken as exc:
        broken.append(str(exc))
    for name in ("r1", "r3"):
        r = out.get(name)
        if r is None:
            continue
        if r["stream"]["num_replicas"] != {"r1": 1, "r3": 3}[name]:
            broken.append(f"{name}: the stream has {r['stream']['num_replicas']} replicas")
        if not r["median"]["accepted_per_s"]:
            broken.append(f"{name}: no request was accepted")
        if not r["durable"]["ok"]:
            broken.append(f"{name}: {r['durable']['accepted_202']} accepted but only "
                          f"{r['durable']['stored_requested']} stored")  # fmt: skip
    out["notes"] = [
        f"{args.replicas} intake replica(s). One is the default here: two would take ~1.5 of "
        "the 2 cores and leave the three nats-servers of R3 fighting intake for CPU, a cost "
        "production (NATS on its own nodes) does not pay; with one, intake is bound by its "
        "own core at R1 and R3 alike and the second core holds NATS and wrk.",
        "Everything (wrk, intake, 1 or 3 nats-servers) shares the same 2 cores: R3's cost "
        "here is an upper bound (in production each node has its own machine, but also a "
        "network round trip between nodes instead of loopback).",
        "median: over the rounds; r3_over_r1: the ratio of the medians (> 1 for latency and "
        "< 1 for accepted_per_s is what R3 costs); *_by_round: each round's own ratio, to "
        "show the noise.",
        "cpu_cores_used: `nats` is every node of the setup measured, `idle` the other setup "
        "(up, unloaded), `other` the rest of the machine (should be ~0).",
    ]
    if broken:
        out["broken"] = broken
    out["runtime_s"] = round(time.perf_counter() - t0, 1)
    path = write_section("intake", "replication", out)
    lines = ["", f"intake benchmark, R1 beside R3 -> {path} `replication`"]
    for name in ("r1", "r3"):
        if name in out:
            m, d = out[name]["median"], out[name]["durable"]
            lines.append(f"  {name}  {m['accepted_per_s']:>6}/s accepted  p50 {m['p50_ms']:.2f} ms"
                         f"  p99 {m['p99_ms']:.2f} ms  (medians of {args.rounds})  durable "
                         f"{d['stored_requested']}/{d['accepted_202']}")  # fmt: skip
    if "r3_over_r1" in out:
        q = out["r3_over_r1"]
        lines.append(
            f"  R3/R1  accepted {q['accepted_per_s']}  p50 {q['p50_ms']}  "
            f"p99 {q['p99_ms']}  (by round: {q['accepted_per_s_by_round']})"
        )
    lines += [f"  BROKEN: {b}" for b in broken]
    print("\n".join(lines), file=sys.stderr)
    return 1 if broken else 0


def main(args: argparse.Namespace) -> int:
    if args.cluster:
        args.replicas = args.replicas or 1
        return main_cluster(args)
    args.replicas = args.replicas or 2
    t0 = time.perf_counter()
    config = {"wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency "
                     f"-s benchmarks/intake.lua (after a {args.warmup:g} s warm-up)",
              "body": BODY, "target_accepted_per_s": TARGET_ACCEPTED_PER_S,
              "target_p99_ms": TARGET_P99_MS}  # fmt: skip
    out: dict[str, Any] = {"config": config}
    broken: list[str] = []
    kinds = ["intake"] + ([] if args.no_bare else ["bare"])
    for kind in kinds:
        try:
            out[kind] = bench_target(kind, args, args.profile_out)
        except BenchBroken as exc:
            broken.append(f"{kind}: {exc}")
            out[kind] = {"broken": str(exc)}
            continue
        if not out[kind]["accepted_202"]:
            broken.append(f"{kind}: no request was accepted (statuses {out[kind]['statuses']})")
        if not out[kind]["durable"]["ok"]:
            broken.append(f"{kind}: {out[kind]['durable']['accepted_202']} accepted but only "
                          f"{out[kind]['durable']['stored_requested']} stored")  # fmt: skip
    intake = out.get("intake", {})
    if "accepted_per_s" in intake:
        out["meets_target"] = bool(intake["accepted_per_s"] >= TARGET_ACCEPTED_PER_S
                                   and intake["p99_ms"] < TARGET_P99_MS
                                   and intake["durable"]["ok"])  # fmt: skip
        if "accepted_per_s" in out.get("bare", {}):
            ratio = intake["accepted_per_s"] / out["bare"]["accepted_per_s"]
            out["intake_vs_bare"] = round(ratio, 3)
    out["notes"] = [
        "Closed loop: 50 connections, each sends its next request when the previous answer "
        "arrives (wrk); latency is wrk's, from write to full response.",
        "wrk, intake and nats-server share the machine's cores; cpu_cores_used shows the "
        "split, `other` is everything else that ran meanwhile (should be ~0).",
        "probes show whether auth (401 without/with a wrong key), validation (422) and "
        "idempotency (same id for a repeated Idempotency-Key) were on during the run.",
    ]
    if broken:
        out["broken"] = broken
    out["runtime_s"] = round(time.perf_counter() - t0, 1)
    path = write_result("intake", out, keep=("replication",))
    print_summary(out, path)
    return 1 if broken else 0


def print_summary(out: dict[str, Any], path: Path) -> None:
    lines = ["", f"intake benchmark -> {path}"]
    for kind in ("intake", "bare"):
        r = out.get(kind)
        if not r:
            continue
        if "broken" in r:
            lines.append(f"  {kind:6} BROKEN: {r['broken']}")
            continue
        d = r["durable"]
        other = r["cpu_cores_used"].get("other", 0.0)
        if other > 0.1:
            lines.append(f"  {kind:6} WARNING: other processes used {other} cores meanwhile")
        lines.append(f"  {kind:6} {r['accepted_per_s']:>6}/s accepted  p50 {r['p50_ms']:.2f} ms  "
                     f"p99 {r['p99_ms']:.2f} ms  max {r['max_ms']:.1f} ms  errors {r['errors']}  "
                     f"durable {d['stored_requested']}/{d['accepted_202']} "
                     f"({'ok' if d['ok'] else 'MISSING'})  rss {r['rss_mb']} MB")  # fmt: skip
    if "probes" in out.get("intake", {}):
        p = out["intake"]["probes"]
        lines.append(f"  intake: auth {'on' if p['auth_enforced'] else 'OFF'}, validation "
                     f"{'on' if p['validation_enforced'] else 'OFF'}, idempotency "
                     f"{'on' if p['idempotency_enforced'] else 'OFF'}")  # fmt: skip
    if "meets_target" in out:
        lines.append(f"  target >= {TARGET_ACCEPTED_PER_S}/s at p99 < {TARGET_P99_MS:g} ms: "
                     f"{'met' if out['meets_target'] else 'NOT met'}")  # fmt: skip
    prof = out.get("intake", {}).get("profile", {})
    if "by_owner_pct" in prof:
        lines.append("  intake CPU by owner (py-spy, % of samples):")
        lines += [f"    {v:5.1f}  {k}" for k, v in list(prof["by_owner_pct"].items())[:15]]
        lines.append("  libraries, inclusive:")
        lines += [f"    {v:5.1f}  {k}" for k, v in prof["libraries_inclusive_pct"].items()]
    for b in out.get("broken", []):
        lines.append(f"  BROKEN: {b}")
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--profile-seconds", type=float, default=10.0, help="0 = no py-spy")
    parser.add_argument(
        "--profile-out",
        type=Path,
        default=None,
        help="keep py-spy's collapsed stacks here (speedscope.app opens them)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="measured runs at most, while other processes disturb them",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait for an idle machine before a measured run",
    )
    parser.add_argument("--no-bare", action="store_true", help="skip the bare handler")
    parser.add_argument(
        "--replicas", type=int, default=None,
        help="intake replicas sharing the port (as pods behind a Service); default 2 (one "
             "per core), 1 with --cluster",
    )  # fmt: skip
    parser.add_argument(
        "--cluster", action="store_true",
        help="instead: R1 (one server) beside R3 (3-node cluster), interleaved, into "
             "intake.json `replication` (the rest of the file stays)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="with --cluster: measured runs per setup, alternating R1 R3 | R3 R1 | ...",
    )  # fmt: skip
    raise SystemExit(main(parser.parse_args()))
