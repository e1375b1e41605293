"""Reader benchmark: the whole pipeline against an OpenAI-compatible server that answers
after 2 s, at reader concurrency 200 (2,000 readings) and 1,000 (10,000 readings), and the
time to the first streamed text on an SSE client. Writes `benchmarks/results/reader.json`.

    python -m benchmarks.reader_bench [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import Any

import aiohttp
import asyncpg

from benchmarks.infra import infrastructure, percentiles, rss_mb, write_result
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


def fake_llm(
    port: int, first_token_delay: float, chunk_delay: float = 0.0
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.reader.fake_openai", "--port", str(port),
                             "--first-token-delay", str(first_token_delay),
                             "--chunk-delay", str(chunk_delay)])  # fmt: skip
    wait_for_port(port, proc, 30, "fake LLM")
    return proc


async def run_pipeline(readings: int, concurrency: int, llm_delay: float) -> dict[str, Any]:
    """POST `readings` readings; time from the first POST until all are completed."""
    with infrastructure() as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, llm_delay)
        settings = on_free_ports(infra.tmp, infra.nats.url, infra.pg.url)
        stack = Stack(settings, extra_env={
            "LOG_FORMAT": "json", "LOG_LEVEL": "warning", "OPENAI_API_KEY": "sk-bench-fake",
            "API_RATE_LIMIT": "",  # the load generator is one client: no per-client limit
            "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "OPENAI_MODEL": "bench",
            "READER_CONCURRENCY": str(concurrency), "CHART_BATCH_SIZE": "256",
        })  # fmt: skip
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
                posted_in = round(await posting, 2)
            stages = dict(await conn.fetchrow(_STAGES))
            stages["reader_full_after"] = await conn.fetchval(_FULL_SINCE, concurrency)
            await conn.close()
        finally:
            stack.stop(30)
            stop_process(llm)
    return {"readings": readings, "completed": done, "rejected": rejected,
            "reader_concurrency": concurrency, "llm_delay_s": llm_delay,
            "seconds_first_post_to_all_completed": round(elapsed, 2),
            "readings_per_s": round(done / elapsed, 1),
            "reader_peak_rss_mb": round(peak_rss, 1), "seconds_to_post_all": posted_in,
            "stage_seconds": {k: round(float(v), 3) for k, v in stages.items()}}  # fmt: skip


async def first_text(samples: int, first_token_delay: float) -> dict[str, Any]:
    """POST, open SSE at once, time until the first `reading.delta` arrives."""
    with infrastructure() as infra:
        llm_port = free_port()
        llm = fake_llm(llm_port, first_token_delay, chunk_delay=0.05)
        settings = on_free_ports(infra.tmp, infra.nats.url, infra.pg.url)
        stack = Stack(settings, extra_env={
            "LOG_FORMAT": "json", "LOG_LEVEL": "warning", "OPENAI_API_KEY": "sk-bench-fake",
            "API_RATE_LIMIT": "",  # the load generator is one client: no per-client limit
            "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "OPENAI_MODEL": "bench",
        })  # fmt: skip
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


async def main(args: argparse.Namespace) -> None:
    scale = 10 if args.quick else 1
    results: dict[str, Any] = {
        "first_text": await first_text(5 if args.quick else 20, 1.0),
        "concurrency_200": await run_pipeline(2000 // scale, 200, 2.0),
        "concurrency_1000": await run_pipeline(10000 // scale, 1000, 2.0),
    }
    results["concurrency_200"]["target_s"] = 21
    results["concurrency_1000"]["target_s"] = 30
    results["concurrency_1000"]["target_reader_rss_mb"] = 400
    write_result("reader" if not args.quick else "reader-quick", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the readings")
    asyncio.run(main(parser.parse_args()))
