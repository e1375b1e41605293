"""The chaos rig: the production shape on one machine, a steady client, and kills by state.

`ChaosRig` runs a 3-node NATS cluster (R3), PostgreSQL, the local
OpenAI-compatible server (streaming each answer over about a second) and
two processes of every service, supervised as `make cluster` does. A
`Client` posts readings at a steady rate the way a careful client does
(each with its own `Idempotency-Key`, retrying a 503 as told).

Each kill waits for a state, not for a clock: a chart replica that holds
messages, a reader replica with LLM calls open, the stream's leader node
while POSTs are waiting for it, PostgreSQL while the status consumer has
work. What was in flight is read from sources outside the victim (the
broker's consumer info, the LLM server's own log of open calls, the
client's own count of unanswered requests) and written into a `Kill`
record, printed as one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client.parser import text_string_to_metric_families

from shared import names
from shared.bus.connect import server_list
from shared.bus.publish import BUS_ERRORS
from shared.embedded.nats_cluster import EmbeddedNatsCluster
from shared.embedded.postgres import EmbeddedPostgres
from shared.embedded.process import free_port
from shared.launcher import ServiceProcess, Stack, on_free_ports
from tests.databases import pg_home
from tests.reader.fake_openai import Script, fake_openai

REPLICAS = {"intake": 2, "chart": 2, "reader": 2, "status": 2}
BODY = {"birth": {"date": "1979-03-04", "time": "06:45",
                  "place": {"latitude": 59.33, "longitude": 18.07}}}  # fmt: skip
# About a second per answer, in pieces: a reader killed at any moment is mid-stream.
ANSWER = "Your design is steady and generous; it responds rather than starts. " * 4


def llm_script() -> Script:
    return Script(text=ANSWER, chunk_size=24, first_token_delay_s=0.3, chunk_delay_s=0.06)


@dataclass
class Kill:
    """One fault, what was in flight when it struck, and what showed that it did."""

    what: str
    at: float  # time.time() of the signal
    in_flight: dict[str, Any]
    recovered_at: float | None = None  # when the system had what it lost back (a new leader)
    restarted_at: float | None = None
    struck_work: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        times = {k: round(v - self.at, 2) for k, v in (("recovered_after_s", self.recovered_at),
                 ("restarted_after_s", self.restarted_at)) if v is not None}  # fmt: skip
        return json.dumps({"event": "chaos kill", "what": self.what, "at": round(self.at, 3),
                           "in_flight": self.in_flight, "struck_work": self.struck_work,
                           "evidence": self.evidence, **times}, sort_keys=True)  # fmt: skip


class Client:
    """Posts readings at a steady rate until told to stop; each reading has its own key."""

    def __init__(self, http: aiohttp.ClientSession, intake: str, rate_per_s: float) -> None:
        self._http = http
        self._url = f"{intake}/v1/readings"
        self._gap = 1.0 / rate_per_s
        self.accepted: dict[str, str] = {}  # Idempotency-Key -> reading id
        self.statuses: Counter[int] = Counter()
        self.connection_errors = 0
        self.waiting: set[str] = set()  # keys of POSTs sent and not answered yet
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self, at_least: int) -> None:
        """Post one reading every `1/rate` s until stopped and `at_least` were accepted."""
        tasks: set[asyncio.Task[None]] = set()
        n = 0
        while not (self._stop.is_set() and len(self.accepted) >= at_least):
            task = asyncio.create_task(self._one(f"chaos-{n}"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
            await asyncio.sleep(self._gap)
        await asyncio.gather(*tasks)

    async def _one(self, key: str) -> None:
        for _ in range(300):  # a client retries a 503 as told, with the same key
            self.waiting.add(key)
            try:
                async with self._http.post(
                    self._url, json=BODY, headers={"Idempotency-Key": key}
                ) as resp:
                    self.statuses[resp.status] += 1
                    if resp.status == 202:
                        self.accepted[key] = (await resp.json())["id"]
                        return
                    retry = float(resp.headers.get("Retry-After", "1"))
            except aiohttp.ClientError:
                self.connection_errors += 1
                retry = 0.5
            finally:
                self.waiting.discard(key)
            await asyncio.sleep(min(retry, 1.0))
        raise AssertionError(f"{key}: no 202 after 300 tries")


class ChaosRig:
    """Infrastructure, services and the probes a kill is triggered by."""

    def __init__(self, tmp: Path, cluster: EmbeddedNatsCluster, pg: EmbeddedPostgres,
                 stack: Stack, script: Script, js: JetStreamContext,
                 http: aiohttp.ClientSession) -> None:  # fmt: skip
        self.tmp = tmp
        self.cluster = cluster
        self.pg = pg
        self.stack = stack
        self.script = script
        self.js = js
        self.http = http
        self.kills: list[Kill] = []

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.intake_port}"

    # -- probes: sources outside the process that is killed --------------------------

    async def gauge(self, svc: ServiceProcess, metric: str) -> float:
        """The sum of a gauge's samples on one replica's /metrics (0 when unreachable)."""
        try:
            async with self.http.get(f"http://127.0.0.1:{svc.ops_port}/metrics") as resp:
                text = await resp.text()
        except aiohttp.ClientError:
            return 0.0
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            if family.name == metric
            for s in family.samples
        )

    async def consumer(self, durable: str) -> tuple[int, int]:
        """(pending, ack pending) of a durable consumer, as the broker counts them."""
        info = await self.js.consumer_info(names.STREAM, durable)
        return int(info.num_pending or 0), int(info.num_ack_pending or 0)

    async def stream_leader(self) -> str:
        info = await self.js.stream_info(names.STREAM)
        assert info.cluster is not None and info.cluster.leader, "the stream has no leader"
        return str(info.cluster.leader)

    async def wait_for(
        self, what: str, probe: Callable[[], Awaitable[bool]], timeout_s: float = 60.0
    ) -> None:
        """Poll `probe` until true; a probe the bus cannot answer yet counts as false."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if await probe():
                    return
            except BUS_ERRORS:
                pass  # a consumer or stream between leaders: ask again
            await asyncio.sleep(0.002)
        raise AssertionError(f"no {what} within {timeout_s:.0f}s")

    # -- kills -------------------------------------------------------------------------

    async def kill_chart_holding_work(self, attempts: int = 20) -> Kill:
        """SIGKILL a chart replica whose handlers hold messages; the broker must still count
        them as unacknowledged afterwards (else the kill missed and is tried again)."""
        for _ in range(attempts):
            victim: ServiceProcess | None = None

            async def holding() -> bool:
                nonlocal victim
                for svc in self.stack.replicas_of("chart"):
                    if await self.gauge(svc, "hd_handlers_in_flight") > 0:
                        victim = svc
                        return True
                return False

            await self.wait_for("a chart replica holding work", holding)
            assert victim is not None
            held = await self.gauge(victim, "hd_handlers_in_flight")
            kill = Kill(f"chart replica {victim.key} (SIGKILL)", time.time(),
                        {"handlers_in_flight": held})  # fmt: skip
            await asyncio.to_thread(victim.kill)
            _, ack_pending = await self.consumer(names.CHART_CONSUMER)
            kill.evidence = {"chart_ack_pending_after_kill": ack_pending}
            kill.struck_work = held > 0 and ack_pending > 0
            if kill.struck_work:
                return self._record(kill)
            await self._until_ready(victim)  # it had finished in between: try again
        raise AssertionError("never caught a chart replica holding work")

    async def kill_reader_mid_stream(self) -> Kill:
        """SIGKILL a reader replica with LLM calls open; the LLM server must see calls cut."""
        victim: ServiceProcess | None = None

        async def streaming() -> bool:
            nonlocal victim
            for svc in self.stack.replicas_of("reader"):
                if await self.gauge(svc, "hd_llm_calls_in_flight") > 0:
                    victim = svc
                    return True
            return False

        await self.wait_for("a reader replica mid-stream", streaming)
        assert victim is not None
        calls = await self.gauge(victim, "hd_llm_calls_in_flight")
        open_at_kill = [c for c in self.script.call_log if c.outcome == "streaming"]
        kill = Kill(
            f"reader replica {victim.key} (SIGKILL)",
            time.time(),
            {"llm_calls_in_flight": calls, "llm_server_open_calls": len(open_at_kill)},
        )
        await asyncio.to_thread(victim.kill)
        await asyncio.sleep(1.0)  # the server notices the closed connections
        cut = [c for c in self.script.call_log
               if c.outcome == "cut" and c.ended is not None and c.ended >= kill.at]  # fmt: skip
        kill.evidence = {"llm_calls_cut": len(cut)}
        kill.struck_work = bool(cut)
        return self._record(kill)

    async def kill_stream_leader(self, client: Client) -> Kill:
        """SIGKILL the node leading the stream while POSTs wait for it; a new leader must be
        elected, those POSTs must still end in a 202, and the node restarted rejoins."""
        leader = await self.stream_leader()
        node = self.cluster.node(leader)
        await self.wait_for("POSTs in flight", self._posts_waiting(client))
        waiting = set(client.waiting)
        assert node.proc is not None
        node.proc.kill()  # at once: no await between the state seen and the signal
        kill = Kill(f"NATS node {leader}, the stream leader (SIGKILL)", time.time(),
                    {"posts_waiting": len(waiting)})  # fmt: skip
        await asyncio.to_thread(node.kill)  # reaps it
        new_leader = ""

        async def elected() -> bool:
            nonlocal new_leader
            with contextlib.suppress(Exception):
                new_leader = await self.stream_leader()
            return bool(new_leader) and new_leader != leader

        await self.wait_for("a new stream leader", elected, 30)
        kill.recovered_at = time.time()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(self.cluster.start_node, leader)
        kill.restarted_at = time.time()
        await self.wait_for("the node caught up", self._replicas_current, 60)
        await self.wait_for("the waiting POSTs answered", self._answered(client, waiting), 60)
        accepted = sum(k in client.accepted for k in waiting)
        kill.evidence = {"new_leader": new_leader, "waiting_posts_accepted": accepted}
        kill.struck_work = bool(waiting) and new_leader != leader
        return self._record(kill)

    async def stop_postgres(self, *, fast: bool) -> Kill:
        """Stop PostgreSQL (fast shutdown, or SIGKILL) while the status consumer has work,
        then start it again on the same port and data."""

        async def status_busy() -> bool:
            pending, ack_pending = await self.consumer(names.STATUS_CONSUMER)
            return pending + ack_pending > 0

        await self.wait_for("status with work", status_busy)
        pending, ack_pending = await self.consumer(names.STATUS_CONSUMER)
        how = "fast shutdown" if fast else "SIGKILL"
        kill = Kill(f"PostgreSQL ({how})", time.time(),
                    {"status_pending": pending, "status_ack_pending": ack_pending})  # fmt: skip
        await asyncio.to_thread(self.pg.stop if fast else self.pg.kill)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(self.pg.start)
        kill.restarted_at = time.time()
        kill.struck_work = pending + ack_pending > 0
        return self._record(kill)

    def _record(self, kill: Kill) -> Kill:
        self.kills.append(kill)
        print(kill.line(), flush=True)
        return kill

    def _posts_waiting(self, client: Client) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            return bool(client.waiting)

        return probe

    def _answered(self, client: Client, keys: set[str]) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            return all(k in client.accepted for k in keys)

        return probe

    async def _replicas_current(self) -> bool:
        with contextlib.suppress(Exception):
            info = await self.js.stream_info(names.STREAM)
            peers = info.cluster.replicas if info.cluster else None
            return bool(peers) and all(p.current and not p.offline for p in peers or [])
        return False

    async def _until_ready(self, svc: ServiceProcess) -> None:
        async def ready() -> bool:
            await asyncio.to_thread(self.stack.supervise_once)
            return await asyncio.to_thread(svc.ready)

        await self.wait_for(f"{svc.key} back", ready, 60)

    # -- what the assertions read --------------------------------------------------------

    async def messages_per_reading(self, event_type: str) -> dict[str, int]:
        """Reading id -> messages of `event_type` the stream holds for it (the broker's count)."""
        info = await self.js.stream_info(names.STREAM, subjects_filter=names.subject_filter(
            event_type))  # fmt: skip
        counts = info.state.subjects or {}
        return {subject.rsplit(".", 1)[1]: int(n) for subject, n in counts.items()}

    async def wait_completed(self, ids: list[str], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while True:
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    conn = await asyncpg.connect(self.pg.url)
                    try:
                        done = await conn.fetchval(
                            "SELECT count(*) FROM readings WHERE id = ANY($1)"
                            " AND status = 'completed'", ids)  # fmt: skip
                    finally:
                        await conn.close()
                    if done == len(ids):
                        return
                await asyncio.sleep(0.5)

    async def database(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.pg.url)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()


@asynccontextmanager
async def chaos_rig(tmp: Path) -> AsyncIterator[ChaosRig]:
    """Start everything; stop everything on the way out, whatever happened."""
    with pg_home() as home:
        async with _chaos_rig(tmp, home) as rig:
            yield rig


@asynccontextmanager
async def _chaos_rig(tmp: Path, pg_dir: Path) -> AsyncIterator[ChaosRig]:
    cluster = EmbeddedNatsCluster(tmp / "nats", size=3)
    pg = EmbeddedPostgres(pg_dir / "pg", free_port())  # durable: a SIGKILL loses no commit
    script = llm_script()
    nc: NATS | None = None
    stack: Stack | None = None
    supervisor: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(pg.start)
        async with (
            fake_openai(script) as llm_url,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        ):
            settings = on_free_ports(tmp, cluster.url, pg.url)
            stack = Stack(settings, log_dir=tmp, replicas=REPLICAS, extra_env={
                "LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3", "STREAM_REPLICAS": "3",
                "OPENAI_API_KEY": "sk-chaos-test-not-a-real-key", "OPENAI_BASE_URL": llm_url,
                "OPENAI_MODEL": "test-model",
                "API_RATE_LIMIT": "",  # one client posting steadily: no per-client limit
            })  # fmt: skip
            stack.start_services()
            assert await asyncio.to_thread(stack.wait_ready, 90), "services did not start"
            nc = await nats.connect(server_list(cluster.url))
            rig = ChaosRig(tmp, cluster, pg, stack, script, nc.jetstream(timeout=5), http)

            async def supervise() -> None:  # what `make cluster` does: restart what died
                while True:
                    await asyncio.to_thread(stack.supervise_once)
                    await asyncio.sleep(0.2)

            supervisor = asyncio.create_task(supervise())
            yield rig
    finally:
        if supervisor is not None:
            supervisor.cancel()
        if nc is not None:
            with contextlib.suppress(Exception):
                await nc.close()
        if stack is not None:
            await asyncio.to_thread(stack.stop, 10)
        await asyncio.to_thread(cluster.stop)
        await asyncio.to_thread(pg.stop)
