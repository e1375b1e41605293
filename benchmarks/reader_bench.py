"""Reader benchmark: the whole pipeline against an OpenAI-compatible server that answers
after 2 s, at reader concurrency 200 (2,000 readings) and 1,000 (10,000 readings), and the
time to the first streamed text on an SSE client. Writes `benchmarks/results/reader.json`.

With --cluster it measures instead what a replicated stream costs: only the concurrency
200 / 2,000 readings case, on one NATS server with the stream at R1 and on a 3-node
cluster (loopback) at R3, in alternating rounds (R1 R3 | R3 R1 | ...; each run on a fresh
stack, after waiting for an idle machine); the medians and their ratio go into
`reader.json` `replication`, the rest of the file stays (a default run likewise keeps
`replication`). About 5 minutes with the default 3 rounds.

With --streaming it measures what streaming the answer costs: the concurrency 200 / 2,000
readings case with the answer in one piece after 2 s, and in --pieces (8) pieces spread
over the same 2 s (the first after 2/8 s, the last at 2 s), in alternating rounds
(1 8 | 8 1 | 1 8 | 8 1 with the default 4 rounds, each after waiting for an idle
machine); medians and their ratio into `reader.json` `streaming`. About 8 minutes. With
--streamed-1000, the concurrency 1,000 / 10,000 readings case with the answer in --pieces
pieces, and beside it in one piece (one run each, reader peak RSS included), into
`reader.json` `concurrency_1000_streamed`. Each
mode keeps the other sections of the file; --readings N shortens a mode's runs.

    python -m benchmarks.reader_bench [--quick] [--cluster [--rounds 3]]
    python -m benchmarks.reader_bench --streaming [--pieces 8] [--rounds 4] [--readings N]
    python -m benchmarks.reader_bench --streamed-1000 [--pieces 8] [--readings N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from benchmarks.infra import (
    BusT,
    CpuSpan,
    Infra,
    code_version,
    infrastructure,
    nats_nodes,
    peak_rss_mb,
    percentiles,
    rss_mb,
    stream_placement,
    stream_totals,
    wait_quiet,
    write_result,
    write_section,
)
from shared.embedded.process import free_port, stop_process, wait_for_port
from shared.launcher import Stack, on_free_ports

BIRTH = {"date": "1987-06-05", "time": "14:30",
         "place": {"latitude": 48.1374, "longitude": 11.5755}}  # fmt: skip


_STAGES = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM chart_at - requested_at))
           AS chart_wait_p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM chart_at - requested_at))
           AS chart_wait_p99,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - chart_at))
           AS reader_wait_p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - chart_at))
           AS reader_wait_p99,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - started_at))
           AS writing_p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - started_at))
           AS writing_p99
FROM readings
"""

# When the reader had its first `concurrency` calls running, from the first request: the
# ramp-up every later wave of calls inherits.
_FULL_SINCE = """
SELECT EXTRACT(EPOCH FROM (SELECT started_at FROM readings ORDER BY started_at OFFSET $1 - 1
                           LIMIT 1) - (SELECT min(requested_at) FROM readings))
"""


# The fake LLM's answer (its CLI default): 288 characters.
ANSWER = "Your chart describes a steady, generous design. " * 6


@dataclass(frozen=True)
class Answer:
    """How the fake LLM answers: `text` in pieces of `chunk_size` characters, the first
    after `first_token_delay` s, each next one `chunk_delay` s later."""

    text: str
    chunk_size: int
    first_token_delay: float
    chunk_delay: float

    @property
    def pieces(self) -> int:
        return -(-len(self.text) // self.chunk_size)

    @classmethod
    def in_pieces(cls, text: str, pieces: int, call_s: float) -> Answer:
        """`text` in `pieces` pieces spread evenly over a call of `call_s` seconds: the
        first after call_s/pieces, the last at call_s (one piece: all of it at call_s)."""
        size = -(-len(text) // pieces)
        actual = -(-len(text) // size)
        return cls(text, size, call_s / actual, call_s / actual if actual > 1 else 0.0)

    def describe(self) -> dict[str, Any]:
        return {"pieces": self.pieces, "text_chars": len(self.text),
                "chars_per_piece": self.chunk_size,
                "first_piece_after_s": round(self.first_token_delay, 4),
                "piece_interval_s": round(self.chunk_delay, 4),
                "last_piece_after_s": round(self.first_token_delay
                                            + (self.pieces - 1) * self.chunk_delay, 4)}  # fmt: skip


def fake_llm(
    port: int, first_token_delay: float, chunk_delay: float = 0.0, answer: Answer | None = None
) -> subprocess.Popen[bytes]:
    """The fake LLM server on `port`; with `answer`, answering that way (the delays given
    are then ignored), else its default text in pieces of 60 characters."""
    args = ["--first-token-delay", str(first_token_delay), "--chunk-delay", str(chunk_delay)]
    if answer is not None:
        args = ["--first-token-delay", str(answer.first_token_delay),
                "--chunk-delay", str(answer.chunk_delay),
                "--chunk-size", str(answer.chunk_size), "--text", answer.text]  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "tests.reader.fake_openai", "--port", str(port),
                             *args])  # fmt: skip
    wait_for_port(port, proc, 30, "fake LLM")
    return proc


def pipeline(infra: Infra[BusT], llm_port: int, **env: str) -> Stack:
    """The four services on `infra` (the stream at R1 on one server, R3 on the cluster)
    against the fake LLM on `llm_port`; not started yet."""
    settings = on_free_ports(infra.tmp, infra.nats.url, infra.pg.url)
    return Stack(settings, extra_env={
        "LOG_FORMAT": "json", "LOG_LEVEL": "warning", "OPENAI_API_KEY": "sk-bench-fake",
        "API_RATE_LIMIT": "",  # the load generator is one client: no per-client limit
        "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "OPENAI_MODEL": "bench",
        "STREAM_REPLICAS": str(infra.stream_replicas), **env,
    })  # fmt: skip


async def run_pipeline(
    readings: int,
    concurrency: int,
    llm_delay: float,
    cluster: bool = False,
    answer: Answer | None = None,
) -> dict[str, Any]:
    """POST `readings` readings; time from the first POST until all are completed. With
    `cluster`, on the 3-node NATS cluster with the stream at R3; with `answer`, the LLM
    answers that way (else its default text, all at once after `llm_delay` s)."""
    with infrastructure(cluster) as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, llm_delay, answer=answer)
        stack = pipeline(infra, llm_port, READER_CONCURRENCY=str(concurrency),
                         CHART_BATCH_SIZE="256")  # fmt: skip
        settings = stack.settings
        stack.start_services()
        try:
            assert stack.wait_ready(90), "stack not ready"
            reader = stack.services["reader"].proc
            assert reader is not None
            intake = f"http://127.0.0.1:{settings.intake_port}/v1/readings"
            peak_rss = rss_mb(reader.pid)
            conn = await asyncpg.connect(infra.pg.url)
            sem = asyncio.Semaphore(64)
            rejected = 0
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:

                async def post() -> None:
                    nonlocal rejected
                    async with sem, http.post(intake, json={"birth": BIRTH}) as resp:
                        if resp.status != 202:
                            rejected += 1

                async def post_all() -> float:
                    await asyncio.gather(*(post() for _ in range(readings)))
                    return time.perf_counter() - t0

                cpu = CpuSpan()
                t0 = time.perf_counter()
                posting = asyncio.create_task(post_all())
                done = 0
                # Refused POSTs (reported as `rejected`) never complete: don't wait for them.
                while done < readings - (rejected if posting.done() else 0):
                    # Fine-grained near the end (the end is what is measured), sparse before
                    # it: each count is a scan the database does instead of projecting.
                    await asyncio.sleep(0.05 if done >= 0.9 * readings else 0.5)
                    done = await conn.fetchval(
                        "SELECT count(*) FROM readings WHERE status = 'completed'"
                    )
                    peak_rss = max(peak_rss, rss_mb(reader.pid))
                    if time.perf_counter() - t0 > 600:
                        break
                elapsed = time.perf_counter() - t0
                cores = cpu.stop()
                posted_in = round(await posting, 2)
            stages = dict(await conn.fetchrow(_STAGES))
            stages["reader_full_after"] = await conn.fetchval(_FULL_SINCE, concurrency)
            await conn.close()
            stream = await stream_placement(infra.nats.url)
            stored = await stream_totals(infra.nats.url)
            # The true peak (VmHWM), not only what the samples above happened to see.
            reader_hwm = peak_rss_mb(reader.pid)
        finally:
            stack.stop(30)
            stop_process(llm)
    return {"readings": readings, "completed": done, "rejected": rejected,
            "reader_concurrency": concurrency, "llm_delay_s": llm_delay,
            "nats_servers": len(nats_nodes(infra.nats)), "stream": stream, "cpu_cores": cores,
            "seconds_first_post_to_all_completed": round(elapsed, 2),
            "readings_per_s": round(done / elapsed, 1),
            "reader_peak_rss_mb": round(peak_rss, 1),
            "reader_vmhwm_mb": round(reader_hwm, 1) if reader_hwm is not None else None,
            "stream_per_reading": {k: round(v / max(done, 1), 1) for k, v in stored.items()},
            "seconds_to_post_all": posted_in,
            # reader_full_after is None with fewer readings than the concurrency
            "stage_seconds": {k: None if v is None else round(float(v), 3)
                              for k, v in stages.items()},
            **({"answer": answer.describe()} if answer is not None else {})}  # fmt: skip


async def first_text(samples: int, first_token_delay: float) -> dict[str, Any]:
    """POST, open SSE at once, time until the first `reading.delta` arrives."""
    with infrastructure() as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, first_token_delay, chunk_delay=0.05)
        stack = pipeline(infra, llm_port)
        settings = stack.settings
        stack.start_services()
        latencies: list[float] = []
        try:
            assert stack.wait_ready(90), "stack not ready"
            intake = f"http://127.0.0.1:{settings.intake_port}/v1/readings"
            status = f"http://127.0.0.1:{settings.status_port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(samples):
                    t0 = time.perf_counter()
                    async with http.post(intake, json={"birth": BIRTH}) as resp:
                        rid = (await resp.json())["id"]
                    async with http.get(f"{status}/v1/readings/{rid}/events") as sse:
                        async for line in sse.content:
                            if line.startswith(b"event: reading.delta"):
                                latencies.append(time.perf_counter() - t0)
                                break
        finally:
            stack.stop(30)
            stop_process(llm)
    return {"samples": samples, "first_token_delay_s": first_token_delay,
            "post_to_first_text": percentiles(latencies), "target_s": 1.3}  # fmt: skip


# The figures compared between R1 and R3 (medians over the rounds, and their ratio).
COMPARED = ("seconds_first_post_to_all_completed", "seconds_to_post_all")
COMPARED_STAGES = ("chart_wait_p50", "chart_wait_p99", "reader_full_after", "writing_p50",
                   "writing_p99")  # fmt: skip


def _figures(run: dict[str, Any]) -> dict[str, float]:
    return {**{k: run[k] for k in COMPARED},
            **{k: run["stage_seconds"][k] for k in COMPARED_STAGES}}  # fmt: skip


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


async def replication(args: argparse.Namespace) -> dict[str, Any]:
    """The concurrency-200 case on one server (R1) and on the 3-node cluster (R3), in the
    order R1 R3 | R3 R1 | ... (a drift in what else runs on the machine then costs both
    alike); medians over the rounds and R3 over R1."""
    readings = 2000 // (10 if args.quick else 1)
    runs: dict[str, list[dict[str, Any]]] = {"r1": [], "r3": []}
    for n in range(1, args.rounds + 1):
        for name in ("r1", "r3") if n % 2 else ("r3", "r1"):
            wait_quiet(args.quiet_wait)
            run = await run_pipeline(readings, 200, 2.0, cluster=name == "r3")
            run["round"] = n
            runs[name].append(run)
            print(f"[reader_bench] round {n} {name}: "
                  f"{run['seconds_first_post_to_all_completed']} s, other processes "
                  f"{run['cpu_cores']['other_cores']} cores", file=sys.stderr)  # fmt: skip
    out: dict[str, Any] = {
        "config": {
            "case": f"only reader concurrency 200 / {readings} readings (LLM answers after "
                    "2 s), to keep the run short; concurrency 1,000 and first_text are the "
                    "default run's, at R1",
            "rounds": args.rounds,
            "order": " | ".join("R1 R3" if n % 2 else "R3 R1" for n in range(1, args.rounds + 1)),
            "r1": "one nats-server, the stream at 1 replica",
            "r3": "3 nats-server nodes clustered on loopback, the stream at 3 replicas; the "
                  "services get every node's URL (NATS_URL) and pick one each",
        },
    }  # fmt: skip
    for name, measured in runs.items():
        figures = [_figures(r) for r in measured]
        out[name] = {
            "median": {k: round(statistics.median(f[k] for f in figures), 3) for k in figures[0]},
            "runs": measured,
        }
    r1, r3 = out["r1"], out["r3"]
    out["r3_over_r1"] = {
        **{k: _ratio(r3["median"][k], r1["median"][k]) for k in r1["median"]},
        "seconds_first_post_to_all_completed_by_round": [
            _ratio(b["seconds_first_post_to_all_completed"],
                   a["seconds_first_post_to_all_completed"])
            for a, b in zip(r1["runs"], r3["runs"], strict=True)
        ],
    }  # fmt: skip
    broken = [
        f"{name} round {run['round']}: {run['completed']} of {run['readings']} completed, "
        f"{run['rejected']} POSTs refused, the stream at {run['stream']['num_replicas']} "
        "replicas"
        for name, measured in runs.items()
        for run in measured
        if run["completed"] < run["readings"]
        or run["stream"]["num_replicas"] != {"r1": 1, "r3": 3}[name]
    ]
    if broken:
        out["broken"] = broken
    out["notes"] = [
        "Every process (load generator, fake LLM, 1 or 3 nats-servers, PostgreSQL, the four "
        "services) shares the same 2 cores: R3's cost here is an upper bound (in production "
        "each NATS node has its own machine, but also a network round trip between nodes).",
        "median: over the rounds; r3_over_r1: the ratio of the medians; *_by_round: each "
        "round's own ratio, to show the noise. cpu_cores.other_cores: what the rest of the "
        "machine used during a run (an upper bound; ~0 on an idle machine).",
    ]
    return out


async def streaming(args: argparse.Namespace) -> dict[str, Any]:
    """The concurrency-200 case with the answer in one piece after 2 s and in
    `args.pieces` pieces spread over the same 2 s, in the order one N | N one | ...;
    medians over the rounds and N pieces over one."""
    readings = args.readings or 2000 // (10 if args.quick else 1)
    answers = {"one_piece": Answer.in_pieces(ANSWER, 1, 2.0),
               "streamed": Answer.in_pieces(ANSWER, args.pieces, 2.0)}  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in answers}
    for n in range(1, args.rounds + 1):
        for name in ("one_piece", "streamed") if n % 2 else ("streamed", "one_piece"):
            wait_quiet(args.quiet_wait)
            run = await run_pipeline(readings, 200, 2.0, answer=answers[name])
            run["round"] = n
            runs[name].append(run)
            print(f"[reader_bench] round {n} {name}: "
                  f"{run['seconds_first_post_to_all_completed']} s, other processes "
                  f"{run['cpu_cores']['other_cores']} cores", file=sys.stderr)  # fmt: skip
    pieces = answers["streamed"].pieces
    out: dict[str, Any] = {
        "code": code_version(),
        "config": {
            "case": f"reader concurrency 200 / {readings} readings, each LLM call 2 s long",
            "one_piece": answers["one_piece"].describe(),
            "streamed": answers["streamed"].describe(),
            "rounds": args.rounds,
            "order": " | ".join(f"1 {pieces}" if n % 2 else f"{pieces} 1"
                                for n in range(1, args.rounds + 1)),
        },
    }  # fmt: skip
    for name, measured in runs.items():
        figures = [_figures(r) for r in measured]
        out[name] = {
            "median": {k: round(statistics.median(f[k] for f in figures), 3) for k in figures[0]},
            "runs": measured,
        }
    one, streamed = out["one_piece"], out["streamed"]
    out["streamed_over_one_piece"] = {
        **{k: _ratio(streamed["median"][k], one["median"][k]) for k in one["median"]},
        "seconds_first_post_to_all_completed_by_round": [
            _ratio(b["seconds_first_post_to_all_completed"],
                   a["seconds_first_post_to_all_completed"])
            for a, b in zip(one["runs"], streamed["runs"], strict=True)
        ],
    }  # fmt: skip
    out["target_ratio"] = 1.05
    broken = [
        f"{name} round {run['round']}: {run['completed']} of {run['readings']} completed, "
        f"{run['rejected']} POSTs refused"
        for name, measured in runs.items()
        for run in measured
        if run["completed"] < run["readings"]
    ]
    if broken:
        out["broken"] = broken
    out["notes"] = [
        "Both answers take the same 2 s: one piece at 2 s, or N equal pieces at 2/N s, "
        "2*2/N s, ..., 2 s. Every process (load generator, fake LLM, NATS, PostgreSQL, the "
        "four services) shares the same 2 cores.",
        "median: over the rounds; streamed_over_one_piece: the ratio of the medians; "
        "*_by_round: each round's own ratio, to show the noise. cpu_cores.other_cores: what "
        "the rest of the machine used during a run (an upper bound; ~0 on an idle machine).",
    ]
    return out


async def streamed_1000(args: argparse.Namespace) -> dict[str, Any]:
    """The concurrency-1,000 case with the answer in `args.pieces` pieces over the 2 s, and
    beside it (run first, on a fresh stack) the same case with the answer in one piece."""
    readings = args.readings or 10000 // (10 if args.quick else 1)
    answers = {"one_piece": Answer.in_pieces(ANSWER, 1, 2.0),
               "streamed": Answer.in_pieces(ANSWER, args.pieces, 2.0)}  # fmt: skip
    out: dict[str, Any] = {"code": code_version()}
    for name, answer in answers.items():
        wait_quiet(args.quiet_wait)
        out[name] = await run_pipeline(readings, 1000, 2.0, answer=answer)
        print(f"[reader_bench] {name}: {out[name]['seconds_first_post_to_all_completed']} s, "
              f"reader peak {out[name]['reader_vmhwm_mb']} MB, other processes "
              f"{out[name]['cpu_cores']['other_cores']} cores", file=sys.stderr)  # fmt: skip
    one, streamed = out["one_piece"], out["streamed"]
    out["streamed_over_one_piece"] = {
        k: _ratio(streamed[k], one[k])
        for k in ("seconds_first_post_to_all_completed", "reader_vmhwm_mb")
    }
    out["target_s"] = 30
    out["target_reader_rss_mb"] = 400
    out["notes"] = [
        "One run each, one piece first: a single pair, so the ratio carries the machine's "
        "drift between the two runs (see cpu_cores.other_cores of each).",
        "reader_peak_rss_mb: the largest of the samples taken every 0.5 s while waiting; "
        "reader_vmhwm_mb: the kernel's peak (VmHWM) of the reader process over its life.",
    ]
    return out


async def main(args: argparse.Namespace) -> int:
    name = "reader" if not args.quick else "reader-quick"
    if args.streaming or args.streamed_1000:
        t0 = time.perf_counter()
        section = "streaming" if args.streaming else "concurrency_1000_streamed"
        result = await (streaming(args) if args.streaming else streamed_1000(args))
        result["runtime_s"] = round(time.perf_counter() - t0, 1)
        path = write_section(name, section, result)
        if args.streaming:
            one, streamed = result["one_piece"]["median"], result["streamed"]["median"]
            lines = ["", f"reader benchmark, one piece beside {args.pieces} -> {path} "
                     f"`{section}`",
                     f"  one piece  all completed after "
                     f"{one['seconds_first_post_to_all_completed']} s (median of {args.rounds})",
                     f"  {args.pieces} pieces   all completed after "
                     f"{streamed['seconds_first_post_to_all_completed']} s",
                     f"  ratio      {result['streamed_over_one_piece']}"]  # fmt: skip
            lines += [f"  BROKEN: {b}" for b in result.get("broken", [])]
            print("\n".join(lines), file=sys.stderr)
            return 1 if "broken" in result else 0
        runs = {k: result[k] for k in ("one_piece", "streamed")}
        for k, r in runs.items():
            print(f"reader benchmark, concurrency 1,000, {k} -> {path} `{section}`: "
                  f"{r['completed']} of {r['readings']} completed after "
                  f"{r['seconds_first_post_to_all_completed']} s, reader peak "
                  f"{r['reader_vmhwm_mb']} MB", file=sys.stderr)  # fmt: skip
        return 0 if all(r["completed"] == r["readings"] for r in runs.values()) else 1
    if args.cluster:
        t0 = time.perf_counter()
        result = await replication(args)
        result["runtime_s"] = round(time.perf_counter() - t0, 1)
        path = write_section(name, "replication", result)
        lines = ["", f"reader benchmark, R1 beside R3 -> {path} `replication`"]
        for setup in ("r1", "r3"):
            m = result[setup]["median"]
            lines.append(f"  {setup}  all completed after "
                         f"{m['seconds_first_post_to_all_completed']} s, "
                         f"posted in {m['seconds_to_post_all']} s, chart wait p99 "
                         f"{m['chart_wait_p99']} s (medians of {args.rounds})")  # fmt: skip
        lines.append(f"  R3/R1  {result['r3_over_r1']}")
        lines += [f"  BROKEN: {b}" for b in result.get("broken", [])]
        print("\n".join(lines), file=sys.stderr)
        return 1 if "broken" in result else 0
    scale = 10 if args.quick else 1
    results: dict[str, Any] = {
        "first_text": await first_text(5 if args.quick else 20, 1.0),
        "concurrency_200": await run_pipeline(2000 // scale, 200, 2.0),
        "concurrency_1000": await run_pipeline(10000 // scale, 1000, 2.0),
    }
    results["concurrency_200"]["target_s"] = 21
    results["concurrency_1000"]["target_s"] = 30
    results["concurrency_1000"]["target_reader_rss_mb"] = 400
    kept = ("replication", "streaming", "concurrency_1000_streamed", "before_live_text")
    write_result(name, results, keep=kept)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the readings")
    parser.add_argument(
        "--cluster", action="store_true",
        help="instead: concurrency 200 at R1 (one server) beside R3 (3-node cluster), "
             "alternating, into reader.json `replication` (the rest of the file stays)",
    )  # fmt: skip
    parser.add_argument(
        "--streaming", action="store_true",
        help="instead: concurrency 200, the answer in one piece beside --pieces pieces over "
             "the same 2 s, alternating, into reader.json `streaming` (the rest stays)",
    )  # fmt: skip
    parser.add_argument(
        "--streamed-1000", action="store_true",
        help="instead: concurrency 1,000 / 10,000 readings with the answer in one piece, then "
             "in --pieces pieces over the 2 s, into reader.json `concurrency_1000_streamed`",
    )  # fmt: skip
    parser.add_argument("--pieces", type=int, default=8,
                        help="with --streaming, --streamed-1000: pieces per answer")  # fmt: skip
    parser.add_argument("--readings", type=int, default=0,
                        help="with --streaming, --streamed-1000: readings per run instead of "
                             "2,000 / 10,000")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=None,
                        help="with --cluster (default 3), --streaming (default 4): runs per "
                             "setup")  # fmt: skip
    parser.add_argument(
        "--quiet-wait", type=float, default=60.0,
        help="with --cluster, --streaming, --streamed-1000: seconds to wait for an idle "
             "machine before each run",
    )  # fmt: skip
    parsed = parser.parse_args()
    if parsed.rounds is None:
        parsed.rounds = 4 if parsed.streaming else 3
    raise SystemExit(asyncio.run(main(parsed)))
