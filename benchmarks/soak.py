"""Soak: moderate load on the whole stack for a long time, memory of every process
sampled as it goes (flat means no leak). Not part of CI: `make soak` (30 minutes).

    python -m benchmarks.soak [--minutes 30] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp

from benchmarks.infra import infrastructure, rss_mb, write_result
from shared.launcher import Stack, on_free_ports

BODY = {"birth": {"date": "1992-11-23", "time": "08:05",
                  "place": {"latitude": 50.94, "longitude": 6.96}}}  # fmt: skip


async def soak(minutes: float, rate: float, sample_s: float) -> dict[str, Any]:
    with infrastructure() as infra:
        settings = on_free_ports(infra.tmp, infra.nats.url, infra.pg.url)
        stack = Stack(
            settings, extra_env={"LOG_FORMAT": "json", "LOG_LEVEL": "warning", "API_RATE_LIMIT": ""}
        )  # one client: no limit
        stack.start_services()
        samples: list[dict[str, Any]] = []
        posted = failed = 0
        try:
            assert stack.wait_ready(90)
            procs = {name: svc.proc for name, svc in stack.services.items()}
            procs_pid = {n: p.pid for n, p in procs.items() if p is not None}
            if infra.nats.proc:
                procs_pid["nats-server"] = infra.nats.proc.pid
            if infra.pg.proc:
                procs_pid["postgres"] = infra.pg.proc.pid
            intake = f"http://127.0.0.1:{settings.intake_port}/v1/readings"
            t0 = time.monotonic()
            next_sample = t0
            async with aiohttp.ClientSession() as http:
                while (now := time.monotonic()) - t0 < minutes * 60:
                    async with http.post(intake, json=BODY) as resp:
                        posted += 1
                        failed += resp.status != 202
                    if now >= next_sample:
                        samples.append(
                            {
                                "t_s": round(now - t0),
                                **{n: round(rss_mb(pid), 1) for n, pid in procs_pid.items()},
                            }
                        )
                        print(samples[-1], flush=True)
                        next_sample += sample_s
                    await asyncio.sleep(1 / rate)
        finally:
            stack.stop(30)
    first, last = samples[0], samples[-1]
    growth = {n: round(last[n] - first[n], 1) for n in first if n != "t_s"}
    return {"minutes": minutes, "rate_per_s": rate, "posted": posted, "not_accepted": failed,
            "rss_mb_growth_first_to_last": growth, "samples": samples}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="readings per second")
    parser.add_argument("--sample-s", type=float, default=30.0)
    args = parser.parse_args()
    write_result("soak", asyncio.run(soak(args.minutes, args.rate, args.sample_s)))


if __name__ == "__main__":
    main()
