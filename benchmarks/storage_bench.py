"""Storage benchmark: what one reading leaves in the stream and in PostgreSQL, with its
answer streamed in 1, 8, 100 and 1,000 pieces.

For each piece count, on a fresh stack (embedded NATS + PostgreSQL, the four services, the
reader against the fake LLM server): the same answer text (~6 KB of English prose) split
into N pieces spread evenly over a 2 s call; `--readings` readings are posted and waited
for until every one is completed and every consumer is drained. Then, divided by the
readings:

- the stream: messages and bytes as the broker counts them, and by event type (each
  message read back, its stored size computed as nats-server's file store does);
- PostgreSQL: the growth of every table of the public schema (`pg_total_relation_size`,
  heap + TOAST + indexes + free-space maps, after minus before): `as_written`, what the
  disk took, dead row versions and autovacuum's maps included; then `compacted`, after
  `VACUUM FULL` of those tables, the live rows only (the figure that does not depend on
  when autovacuum ran), and the rows per reading.

Each piece count's figures beside the 1-piece run's go into `ratio_to_one_piece`.
Writes `benchmarks/results/storage.json`. Records, asserts no target; exits 1 when a run
broke (a reading not completed, failed or refused, a process died, a consumer not drained).
About 5 minutes with the defaults (each run after waiting up to 30 s for an idle machine).

    python -m benchmarks.storage_bench [--readings 200] [--pieces 1 8 100 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
import nats

from benchmarks.infra import (
    CpuSpan,
    Infra,
    code_version,
    infrastructure,
    percentiles,
    wait_quiet,
    write_result,
)
from benchmarks.reader_bench import BIRTH, Answer, fake_llm, pipeline
from shared import names
from shared.bus.connect import server_list
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.process import free_port, stop_process
from shared.launcher import ServiceProcess
from tests.reader.fake_openai import fetch_call_log

PIECES = (1, 8, 100, 1000)
CALL_S = 2.0  # every answer takes the same 2 s, however many pieces
TEXT_CHARS = 6000  # divisible by 1, 8, 100 and 1,000: equal pieces


def answer_text(chars: int = TEXT_CHARS) -> str:
    """`chars` characters of English prose: the project's gate keynotes, numbered. Real
    words, not one sentence repeated: PostgreSQL compresses a value over ~2 KB, and a
    repeated sentence would shrink to nothing where real text shrinks by about half."""
    from services.reader.knowledge.gates import GATES

    lines = [f"Gate {g.number}, {g.name.get('en')}: {g.keynote.get('en')}" for g in GATES.values()]
    text = "\n".join(lines)
    while len(text) < chars:
        text += "\n" + text
    return text[:chars]


_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
_SIZES = """
SELECT t.tablename AS name,
       pg_total_relation_size(c.oid) AS total,
       pg_table_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes
FROM pg_tables t JOIN pg_class c ON c.relname = t.tablename
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = t.schemaname
WHERE t.schemaname = 'public'
"""


async def table_sizes(conn: asyncpg.Connection) -> dict[str, dict[str, int]]:
    """Bytes of every table of the public schema: total, heap + TOAST (+ maps), indexes."""
    return {
        r["name"]: {"total": r["total"], "table": r["table_bytes"], "indexes": r["index_bytes"]}
        for r in await conn.fetch(_SIZES)
    }


async def row_counts(conn: asyncpg.Connection, tables: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in tables:
        ident = await conn.fetchval("SELECT quote_ident($1)", table)
        out[table] = await conn.fetchval(f"SELECT count(*) FROM public.{ident}")
    return out


async def compact(conn: asyncpg.Connection, tables: list[str]) -> None:
    """VACUUM FULL + ANALYZE each table: rewritten with its live rows only."""
    for table in tables:
        ident = await conn.fetchval("SELECT quote_ident($1)", table)
        await conn.execute(f"VACUUM (FULL, ANALYZE) public.{ident}")


def stored_size(subject: str, headers: bytes, data: bytes) -> int:
    """A message's size in the stream as nats-server's file store counts it
    (`fileStoreMsgSize`): record length, sequence, timestamp, subject length, header
    length when there are headers, subject, headers, payload, checksum."""
    if not headers:
        return 22 + len(subject) + len(data) + 8
    return 22 + len(subject) + 4 + len(headers) + len(data) + 8


async def stream_contents(url: str) -> dict[str, Any]:
    """The stream's totals as the broker reports them, each message read back and counted
    by event type (messages, payload bytes, stored bytes), and the other streams (KV
    buckets) if any."""
    import base64

    nc = await nats.connect(server_list(url))
    try:
        js = nc.jetstream(timeout=10.0)
        state = (await js.stream_info(names.STREAM)).state
        by_type: dict[str, dict[str, int]] = {}
        deleted = set(state.deleted or [])
        for seq in range(state.first_seq, state.last_seq + 1):
            if seq in deleted or not state.messages:
                continue
            msg = await js.get_msg(names.STREAM, seq)
            subject = msg.subject or ""
            data = msg.data or b""
            headers = base64.b64decode(msg.hdrs) if msg.hdrs else b""
            parsed = names.parse_subject(subject)
            kind = parsed[0] if parsed else subject
            row = by_type.setdefault(kind, {"messages": 0, "payload_bytes": 0, "bytes": 0})
            row["messages"] += 1
            row["payload_bytes"] += len(data)
            row["bytes"] += stored_size(subject, headers, data)
        others = {
            str(info.config.name): {"messages": info.state.messages, "bytes": info.state.bytes}
            for info in await js.streams_info()
            if info.config.name != names.STREAM
        }
    finally:
        await nc.close()
    return {"messages": int(state.messages), "bytes": int(state.bytes), "by_type": by_type,
            "other_streams": others}  # fmt: skip


async def drained(url: str, timeout_s: float) -> dict[str, dict[str, int]] | None:
    """Wait until every consumer of the stream has nothing pending or unacked; their
    counts, or None when one still had work after `timeout_s`."""
    nc = await nats.connect(server_list(url))
    try:
        js = nc.jetstream(timeout=10.0)
        deadline = time.monotonic() + timeout_s
        while True:
            counts = {
                str(c.name): {"pending": c.num_pending or 0, "ack_pending": c.num_ack_pending or 0}
                for c in await js.consumers_info(names.STREAM)
            }
            if all(not v["pending"] and not v["ack_pending"] for v in counts.values()):
                return counts
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.2)
    finally:
        await nc.close()


def per_reading(value: float, readings: int) -> float:
    return round(value / readings, 1)


def _growth(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], readings: int
) -> dict[str, Any]:
    tables = {
        name: {k: per_reading(v - before.get(name, {}).get(k, 0), readings)
               for k, v in sizes.items()}
        for name, sizes in sorted(after.items())
    }  # fmt: skip
    return {
        "bytes_per_reading": per_reading(
            sum(s["total"] - before.get(n, {}).get("total", 0) for n, s in after.items()),
            readings,
        ),
        "tables_per_reading": tables,
    }


async def post_all(intake: str, readings: int) -> tuple[int, int]:
    """POST `readings` readings (64 at a time); (accepted, refused)."""
    sem = asyncio.Semaphore(64)
    accepted = refused = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:

        async def post() -> None:
            nonlocal accepted, refused
            async with sem, http.post(intake, json={"birth": BIRTH}) as resp:
                if resp.status == 202:
                    accepted += 1
                else:
                    refused += 1

        await asyncio.gather(*(post() for _ in range(readings)))
    return accepted, refused


async def run(pieces: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh stack whose LLM answers in `pieces` pieces: post, wait, measure."""
    answer = Answer.in_pieces(answer_text(args.text_chars), pieces, args.call_s)
    broken: list[str] = []
    out: dict[str, Any] = {"answer": answer.describe(), "readings": args.readings}
    wait_quiet(args.quiet_wait)
    with infrastructure() as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, 0.0, answer=answer)
        stack = pipeline(infra, llm_port, READER_CONCURRENCY=str(args.concurrency))
        stack.start_services()
        try:
            if not stack.wait_ready(90):
                late = [k for k, svc in stack.services.items() if not svc.ready()]
                raise RuntimeError(f"not ready after 90 s: {late}; {_dead(stack.services, llm)}")
            out.update(await measure(infra, stack.settings.intake_port, llm_port, args, broken,
                                     lambda: _dead(stack.services, llm)))  # fmt: skip
        except Exception as exc:
            broken.append(f"{type(exc).__name__}: {exc}")
        finally:
            stack.stop(30)
            stop_process(llm)
    if broken:
        out["broken"] = broken
    return out


def _dead(services: dict[str, ServiceProcess], llm: subprocess.Popen[bytes]) -> list[str]:
    dead = [f"{key} exited ({svc.proc.returncode})" for key, svc in services.items()
            if svc.proc is not None and svc.proc.poll() is not None]  # fmt: skip
    if llm.poll() is not None:
        dead.append(f"fake LLM exited ({llm.returncode})")
    return dead


async def measure(
    infra: Infra[EmbeddedNats],
    intake_port: int,
    llm_port: int,
    args: argparse.Namespace,
    broken: list[str],
    dead: Callable[[], list[str]],
) -> dict[str, Any]:
    readings = args.readings
    conn = await asyncpg.connect(infra.pg.url)
    try:
        tables = [r["tablename"] for r in await conn.fetch(_TABLES)]
        before = await table_sizes(conn)
        rows_before = await row_counts(conn, tables)
        stream_before = await stream_contents(infra.nats.url)
        cpu = CpuSpan()
        t0 = time.perf_counter()
        accepted, refused = await post_all(f"http://127.0.0.1:{intake_port}/v1/readings",
                                           readings)  # fmt: skip
        if refused:
            broken.append(f"{refused} of {readings} POSTs refused")
        statuses: dict[str, int] = {}
        while True:
            statuses = {r["status"]: r["n"] for r in await conn.fetch(
                "SELECT status, count(*) AS n FROM readings GROUP BY status")}  # fmt: skip
            if statuses.get("completed", 0) >= accepted:
                break
            if statuses.get("failed") or statuses.get("cancelled"):
                broken.append(f"readings not completed: {statuses}")
                break
            if died := dead():
                broken.extend(died)
                break
            if time.perf_counter() - t0 > args.timeout:
                broken.append(f"after {args.timeout} s only {statuses} of {accepted} readings")
                break
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - t0
        cores = cpu.stop()
        consumers = await drained(infra.nats.url, 60)
        if consumers is None:
            broken.append("a consumer still had work 60 s after the last reading completed")
        calls = await fetch_call_log(f"http://127.0.0.1:{llm_port}")
        durations = [c.ended - c.started for c in calls if c.ended is not None]
        outcomes: dict[str, int] = {}
        for c in calls:
            outcomes[c.outcome] = outcomes.get(c.outcome, 0) + 1
        writing = [float(r["s"]) for r in await conn.fetch(
            "SELECT EXTRACT(EPOCH FROM completed_at - started_at) AS s FROM readings "
            "WHERE completed_at IS NOT NULL")]  # fmt: skip
        stream = await stream_contents(infra.nats.url)
        after = await table_sizes(conn)
        rows = await row_counts(conn, tables)
        await compact(conn, tables)
        compacted = await table_sizes(conn)
    finally:
        await conn.close()
    done = statuses.get("completed", 0)
    n = max(done, 1)
    s_msgs = stream["messages"] - stream_before["messages"]
    s_bytes = stream["bytes"] - stream_before["bytes"]
    by_type = {
        kind: {"messages_per_reading": round(v["messages"] / n, 2),
               "bytes_per_reading": per_reading(v["bytes"], n),
               "payload_bytes_per_reading": per_reading(v["payload_bytes"], n)}
        for kind, v in sorted(stream["by_type"].items())
    }  # fmt: skip
    accounted = sum(v["bytes"] for v in stream["by_type"].values())
    return {
        "completed": done,
        "statuses": statuses,
        "seconds_first_post_to_all_completed": round(elapsed, 2),
        "cpu_cores": cores,
        "llm": {"calls": len(calls), "outcomes": outcomes, "call_seconds": percentiles(durations)},
        "writing_seconds": percentiles(writing),
        "consumers_drained": len(consumers) if consumers is not None else None,
        "stream": {
            "messages_per_reading": round(s_msgs / n, 2),
            "bytes_per_reading": per_reading(s_bytes, n),
            "by_type": by_type,
            "by_type_bytes_match_broker": accounted == stream["bytes"],
            "other_streams": stream["other_streams"],
            "totals": {"messages": stream["messages"], "bytes": stream["bytes"]},
        },
        "postgres": {
            "as_written": _growth(before, after, n),
            "compacted": _growth(before, compacted, n),
            "rows_per_reading": {
                t: round((c - rows_before.get(t, 0)) / n, 2) for t, c in sorted(rows.items())
            },
        },
    }


# The figures compared with the 1-piece run.
def _figures(run: dict[str, Any]) -> dict[str, float]:
    return {
        "stream_messages": run["stream"]["messages_per_reading"],
        "stream_bytes": run["stream"]["bytes_per_reading"],
        "postgres_bytes_as_written": run["postgres"]["as_written"]["bytes_per_reading"],
        "postgres_bytes_compacted": run["postgres"]["compacted"]["bytes_per_reading"],
    }


async def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    version = code_version()
    runs: dict[str, dict[str, Any]] = {}
    for pieces in args.pieces:
        run_ = await run(pieces, args)
        runs[str(pieces)] = run_
        summary = f"{_figures(run_)}" if "broken" not in run_ else f"BROKEN {run_['broken']}"
        print(f"[storage_bench] {pieces} pieces: {summary}", file=sys.stderr)
    ok = {k: _figures(v) for k, v in runs.items() if "broken" not in v}
    base = ok.get("1")
    result: dict[str, Any] = {
        "code": version,
        "config": {
            "readings_per_run": args.readings,
            "pieces": list(args.pieces),
            "text_chars": args.text_chars,
            "call_s": args.call_s,
            "reader_concurrency": args.concurrency,
            "stack": "one nats-server (the stream at R1), one embedded PostgreSQL, one "
            "process of each service; a fresh stack per piece count",
        },
        "per_reading": ok,
        "ratio_to_one_piece": {
            k: {f: round(v[f] / base[f], 3) if base[f] else None for f in v} for k, v in ok.items()
        }
        if base
        else None,
        "runs": runs,
        "notes": [
            "per_reading: the stream's messages and bytes (as the broker counts them) and "
            "PostgreSQL's bytes (all tables of the public schema, after minus before) over "
            "the readings completed. as_written: the files as the run left them (dead row "
            "versions of updated rows, autovacuum's free-space and visibility maps); "
            "compacted: after VACUUM FULL, the live rows.",
            "Each answer is the same text in N equal pieces, the first after call_s/N, the "
            "last at call_s; runs[].llm.call_seconds shows how long the calls really took "
            "(a loaded machine stretches them, and the reader then sends more deltas).",
            "stream.by_type bytes: each message's stored size computed as nats-server's file "
            "store does (by_type_bytes_match_broker: the sum equals the broker's count).",
        ],
        "runtime_s": round(time.perf_counter() - t0, 1),
    }
    broken = [f"{k} pieces: {b}" for k, v in runs.items() for b in v.get("broken", [])]
    if broken:
        result["broken"] = broken
    # A section taken with other code (`before_live_text`) stays.
    path = write_result(args.name, result, keep=("before_live_text",))
    lines = [
        "",
        f"storage benchmark -> {path} (commit {version['commit']})",
        "  pieces  stream msgs  stream bytes  pg as written  pg compacted  (per reading)",
    ]
    for k, f in ok.items():
        lines.append(
            f"  {k:>6}  {f['stream_messages']:>11}  {f['stream_bytes']:>12}  "
            f"{f['postgres_bytes_as_written']:>13}  {f['postgres_bytes_compacted']:>12}"
        )
    if result["ratio_to_one_piece"]:
        for k, r in result["ratio_to_one_piece"].items():
            lines.append(f"  {k:>6} / 1: {r}")
    lines += [f"  BROKEN: {b}" for b in broken]
    print("\n".join(lines), file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readings", type=int, default=200, help="readings per piece count")
    parser.add_argument("--pieces", type=int, nargs="+", default=list(PIECES))
    parser.add_argument("--concurrency", type=int, default=10,
                        help="READER_CONCURRENCY (low: 1,000 pieces in 2 s per call are a "
                             "lot of work for two cores)")  # fmt: skip
    parser.add_argument("--text-chars", type=int, default=TEXT_CHARS)
    parser.add_argument("--call-s", type=float, default=CALL_S, help="each answer's duration")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for all readings of a run")  # fmt: skip
    parser.add_argument("--quiet-wait", type=float, default=30.0,
                        help="seconds to wait for an idle machine before each run")  # fmt: skip
    parser.add_argument("--name", default="storage", help="results/<name>.json")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
