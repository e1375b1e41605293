"""Status service benchmark: projection throughput, polling latency, SSE fan-out.

Runs against a real NATS server and PostgreSQL (embedded, in a temp folder)
and a real `python -m services.status` process. Writes
`benchmarks/results/status.json`.

    python -m benchmarks.status_bench [--readings 6000] [--sse-clients 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from typing import Any

import aiohttp
import nats
from nats.js import JetStreamContext

from benchmarks.infra import (
    Infra,
    histogram_quantiles,
    infrastructure,
    percentiles,
    rss_mb,
    scrape_buckets,
    service,
    write_result,
)
from shared import names
from shared.bus.publish import Publisher
from shared.bus.topology import STATUS, ensure_stream
from shared.events.envelope import Envelope
from shared.launcher import ServiceProcess
from tests import factories as f

EVENT_LINE = re.compile(rb"\nevent: ([a-z.]+)\r\n")


def story(rid: str) -> list[Envelope[Any]]:
    """The five events of one reading, as the pipeline publishes them."""
    return [f.requested(rid, user_id=f"user-{rid[:2]}"), f.calculated(rid), f.started(rid),
            f.delta(rid, 0, "Your design "), f.generated(rid, "Your design, in full.")]  # fmt: skip


async def publish_all(js: JetStreamContext, events: list[Envelope[Any]]) -> None:
    pub = Publisher(js, service="bench")
    for i in range(0, len(events), 500):
        await asyncio.gather(*(pub.publish(e) for e in events[i : i + 500]))


async def projection(
    js: JetStreamContext, infra: Infra, readings: int
) -> tuple[dict[str, Any], list[str], ServiceProcess]:
    """Publish `readings` x 5 events, then time a fresh status service projecting them."""
    ids = [f.new_id() for _ in range(readings)]
    events = [e for rid in ids for e in story(rid)]
    await publish_all(js, events)
    last_seq = (await js.stream_info(names.STREAM)).state.last_seq
    svc = service("status", infra)
    t0 = t1 = None
    try:
        while True:
            try:
                info = await js.consumer_info(names.STREAM, STATUS.durable)
            except Exception:
                await asyncio.sleep(0.02)
                continue
            now = time.perf_counter()
            if t0 is None and info.delivered.stream_seq > 0:
                t0 = now
            if info.ack_floor.stream_seq >= last_seq:
                t1 = now
                break
            await asyncio.sleep(0.02)
    except BaseException:
        svc.stop(10)
        raise
    assert t0 is not None and t1 is not None
    rate = len(events) / (t1 - t0)
    result = {"events": len(events), "seconds": round(t1 - t0, 3),
              "events_per_s": round(rate), "target_events_per_s": 5000}  # fmt: skip
    return result, ids, svc


async def polling(base: str, ids: list[str], rate: int, seconds: float) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i/rate; latency counts from when it was due."""
    latencies: list[float] = []
    errors = 0
    conn = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=conn) as http:

        async def one(i: int, due: float) -> None:
            nonlocal errors
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            async with http.get(f"{base}/v1/readings/{ids[i % len(ids)]}") as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - due)

        # Warm-up, then the measured run.
        await asyncio.gather(*(one(i, time.perf_counter()) for i in range(200)))
        latencies.clear()
        t0 = time.perf_counter() + 0.1
        total = int(rate * seconds)
        await asyncio.gather(*(one(i, t0 + i / rate) for i in range(total)))
    return {"rate_per_s": rate, "seconds": seconds, "errors": errors,
            **percentiles(latencies), "target_p99_ms": 10}  # fmt: skip


async def fanout(
    js: JetStreamContext, base: str, status_pid: int, clients: int, readings: int,
    events_per_s: float,
) -> dict[str, Any]:  # fmt: skip
    """`clients` SSE clients over `readings` readings; then each reading's next four
    events are published, paced at `events_per_s` (0 = as fast as possible, a burst)."""
    ids = [f.new_id() for _ in range(readings)]
    await publish_all(js, [f.requested(rid) for rid in ids])
    published: dict[tuple[str, str], float] = {}
    delays: list[float] = []
    connected = 0
    done = 0
    all_connected = asyncio.Event()
    peak_rss = 0.0

    async def client(http: aiohttp.ClientSession, rid: str) -> None:
        # Scans raw chunks for `event:` lines: the load generator shares the two cores
        # with the server, so it must stay cheap per frame.
        nonlocal connected, done
        async with http.get(f"{base}/v1/readings/{rid}/events") as resp:
            tail = b""
            async for chunk in resp.content.iter_any():
                buf = tail + chunk
                now = time.perf_counter()
                for m in EVENT_LINE.finditer(buf):
                    event = m.group(1).decode()
                    if event == "reading.requested":
                        connected += 1
                        if connected == clients:
                            all_connected.set()
                    elif (rid, event) in published:
                        delays.append(now - published[(rid, event)])
                cut = buf.rfind(b"\n")
                tail = buf[cut + 1 :][-64:]
        done += 1

    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as http:
        before = await _lag_buckets(http, base)
        tasks = []
        for i in range(clients):
            tasks.append(asyncio.create_task(client(http, ids[i % readings])))
            if i % 250 == 249:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(all_connected.wait(), 120)
        rss_connected = rss_mb(status_pid)
        pub = Publisher(js, service="bench")
        interval = 1 / events_per_s if events_per_s else 0.0
        t_next = time.perf_counter()
        for make in (f.calculated, f.started, lambda r: f.delta(r, 0, "x" * 200), f.generated):
            for rid in ids:
                event = make(rid)
                if interval:
                    t_next += interval
                    if (wait := t_next - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                published[(rid, event.type)] = time.perf_counter()
                await pub.publish(event)
            peak_rss = max(peak_rss, rss_mb(status_pid))
            if not interval:
                await asyncio.sleep(0.5)
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        peak_rss = max(peak_rss, rss_mb(status_pid))
        server_side = histogram_quantiles(before, await _lag_buckets(http, base))
    return {"clients": clients, "readings": readings, "events_per_s": events_per_s or "burst",
            "server_side": {**server_side, "note": "event age when written to the client "
                            "socket (hd_sse_delivery_lag_seconds)"},
            "client_observed": {**percentiles(delays), "note": "publish to receipt, measured "
                                "in the load generator sharing the two cores"},
            "deliveries": len(delays),
            "expected_deliveries": clients * 4,
            "status_rss_mb_connected": round(rss_connected, 1),
            "status_rss_mb_peak": round(peak_rss, 1),
            "target_p99_ms": 100, "target_rss_mb": 600}  # fmt: skip


async def _lag_buckets(http: aiohttp.ClientSession, base: str) -> dict[float, float]:
    async with http.get(f"{base}/metrics") as resp:
        return scrape_buckets(await resp.text(), "hd_sse_delivery_lag_seconds")


async def main(args: argparse.Namespace) -> None:
    with infrastructure() as infra:
        nc = await nats.connect(infra.nats.url)
        js = nc.jetstream()
        await ensure_stream(js)
        try:
            proj, ids, svc = await projection(js, infra, args.readings)
            base = f"http://127.0.0.1:{svc.ops_port}"
            try:
                poll = await polling(base, ids, args.rate, args.seconds) if args.rate else {}
                assert svc.proc is not None
                # Every client on its own reading, events arriving as a busy pipeline
                # emits them; then the worst case: 100 clients per reading, in bursts.
                steady = await fanout(js, base, svc.proc.pid, args.sse_clients,
                                      args.sse_clients, args.sse_rate)  # fmt: skip
                burst = await fanout(js, base, svc.proc.pid, args.sse_clients,
                                     max(1, args.sse_clients // 100), 0)  # fmt: skip
            finally:
                svc.stop(15)
        finally:
            await nc.close()
    write_result("status", {"projection": proj, "polling": poll, "sse_fanout": steady,
                            "sse_fanout_burst": burst})  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=6000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sse-clients", type=int, default=5000)
    parser.add_argument("--sse-rate", type=float, default=2000.0, help="events/s, steady case")
    asyncio.run(main(parser.parse_args()))
