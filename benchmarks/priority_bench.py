"""Priority benchmark: normal readings queued behind a slow LLM, then a few high ones.

The whole pipeline (the four services as processes, embedded NATS and PostgreSQL)
against the fake OpenAI-compatible server answering after --llm-delay s, the reader at
--concurrency calls. --normal readings are POSTed first (normal priority), then, once
all are accepted, --high readings with `"priority": "high"` (PRIORITY_TENANTS=*). Each
reading's time to complete is `completed_at - requested_at` as the status projection
recorded them. The acceptance: the high readings' p99 is below the normal readings' p50.
Writes `benchmarks/results/priority.json`.

    python -m benchmarks.priority_bench [--normal 1000] [--high 10] [--concurrency 50]
                                        [--llm-delay 1.0]

The default (1,000 + 10 at 50 calls of 1 s) runs for about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import aiohttp
import asyncpg

from benchmarks.infra import infrastructure, percentiles, write_result
from benchmarks.reader_bench import BIRTH, fake_llm, pipeline
from shared.embedded.process import free_port, stop_process

_TIMES = """
SELECT id, EXTRACT(EPOCH FROM completed_at - requested_at) AS took
FROM readings WHERE status = 'completed' AND id = ANY($1::text[])
"""


async def post_many(http: aiohttp.ClientSession, url: str, n: int, priority: str) -> list[str]:
    sem = asyncio.Semaphore(64)

    async def post() -> str | None:
        async with sem, http.post(url, json={"birth": BIRTH, "priority": priority}) as resp:
            return str((await resp.json())["id"]) if resp.status == 202 else None

    ids = await asyncio.gather(*(post() for _ in range(n)))
    return [i for i in ids if i is not None]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with infrastructure() as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, args.llm_delay)
        stack = pipeline(infra, llm_port, READER_CONCURRENCY=str(args.concurrency),
                         PRIORITY_TENANTS="*")  # fmt: skip
        stack.start_services()
        try:
            assert stack.wait_ready(90), "stack not ready"
            url = f"http://127.0.0.1:{stack.settings.intake_port}/v1/readings"
            conn = await asyncpg.connect(infra.pg.url)
            async with aiohttp.ClientSession() as http:
                t0 = time.perf_counter()
                normal = await post_many(http, url, args.normal, "normal")
                normal_posted_s = time.perf_counter() - t0
                high = await post_many(http, url, args.high, "high")
            every = normal + high
            times: dict[str, float] = {}
            while len(times) < len(every) and time.perf_counter() - t0 < args.max_wait:
                await asyncio.sleep(0.5)
                times = {r["id"]: float(r["took"]) for r in await conn.fetch(_TIMES, every)}
            elapsed = time.perf_counter() - t0
            await conn.close()
        finally:
            stack.stop(30)
            stop_process(llm)
    normal_times = [times[i] for i in normal if i in times]
    high_times = [times[i] for i in high if i in times]
    n, h = percentiles(normal_times), percentiles(high_times)
    return {
        "config": {"normal": args.normal, "high": args.high,
                   "reader_concurrency": args.concurrency, "llm_delay_s": args.llm_delay,
                   "order": "every normal reading accepted first, then the high ones"},
        "accepted": {"normal": len(normal), "high": len(high)},
        "completed": {"normal": len(normal_times), "high": len(high_times)},
        "seconds_to_post_normal": round(normal_posted_s, 2),
        "seconds_first_post_to_all_completed": round(elapsed, 2),
        "time_to_complete": {"normal": n, "high": h},
        "acceptance": {
            "rule": "high p99 < normal p50",
            "high_p99_ms": h.get("p99_ms"), "normal_p50_ms": n.get("p50_ms"),
            "met": bool(h and n and h["p99_ms"] < n["p50_ms"]
                        and len(high_times) == len(high) and len(normal_times) == len(normal)),
        },
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--normal", type=int, default=1000)
    parser.add_argument("--high", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50, help="READER_CONCURRENCY")
    parser.add_argument("--llm-delay", type=float, default=1.0, help="seconds per LLM answer")
    parser.add_argument("--max-wait", type=float, default=280.0, help="give up after (s)")
    result = asyncio.run(run(parser.parse_args()))
    write_result("priority", result)
    met = result["acceptance"]["met"]
    print(f"[priority_bench] acceptance {'met' if met else 'NOT met'}", file=sys.stderr)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
