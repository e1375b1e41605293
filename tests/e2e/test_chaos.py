"""Chaos on the production shape: a 3-node NATS cluster at R3, two processes of every
service, and kills that strike work in flight (tests/e2e/chaos.py).

While a client posts readings at a steady rate, in turn: a chart replica holding
messages, a reader replica mid-stream, the stream's leader node while POSTs wait for
it, and PostgreSQL (fast shutdown, then SIGKILL) while status has work, each brought
back. Then, from sources the code under test cannot make true by construction:

- the LLM server's own log: one call per reading, except readings whose call a kill
  cut (the server saw the client go away, or the call ended just before a reader
  died): at most two; no call is cut that no kill explains;
- the stream's own count per subject: one `chart.calculated` and one
  `reading.generated` per reading, and no `reading.failed`;
- no dead letters; every reading that got a 202 completed; intake answered only
  202 or 503;
- every kill struck work in flight, as its log line says.

Short form in `make test` (CHAOS_READINGS=150); `make chaos` posts 1,000.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from pathlib import Path

import pytest

from shared.events import chart_calculated, reading_failed, reading_generated
from tests.e2e.chaos import ChaosRig, Client, Kill, chaos_rig
from tests.reader.fake_openai import CallRecord

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(900)]

READINGS = int(os.environ.get("CHAOS_READINGS", "150"))
RATE_PER_S = max(10.0, READINGS / 30)  # the kills take about half a minute
CUT_WINDOW_S = 2.0  # a call that ended this long before a kill may not be published yet
EXPLAINED_S = 10.0  # calls a reader's death cut end (as the server sees it) within this


async def test_every_accepted_reading_completes_exactly_once_through_chaos(
    tmp_path: Path,
) -> None:
    async with chaos_rig(tmp_path) as rig:
        client = Client(rig.http, rig.intake_url, RATE_PER_S)
        posting = asyncio.create_task(client.run(at_least=READINGS))
        try:
            await rig.kill_chart_holding_work()
            await asyncio.sleep(1.0)
            await rig.kill_reader_mid_stream()
            await asyncio.sleep(1.0)
            await rig.kill_stream_leader(client)
            await asyncio.sleep(1.0)
            await rig.stop_postgres(fast=True)
            await asyncio.sleep(1.0)
            await rig.stop_postgres(fast=False)
        finally:
            client.stop()
            await posting
        ids = sorted(set(client.accepted.values()))
        await rig.wait_completed(ids, timeout_s=120 + READINGS / 10)
        await check(rig, client, ids)


async def check(rig: ChaosRig, client: Client, ids: list[str]) -> None:
    assert len(client.accepted) >= READINGS
    assert len(ids) == len(client.accepted), "two keys were given the same reading"
    assert set(client.statuses) <= {202, 503}, client.statuses
    assert client.connection_errors == 0

    for kill in rig.kills:
        assert kill.struck_work, f"a kill struck no work in flight: {kill.line()}"

    calls = calls_per_reading(rig.script.call_log)
    may_repeat = cut_by_a_kill(rig.script.call_log, rig.kills)
    assert set(ids) <= set(calls), "a reading completed without an LLM call"
    once = {r for r in ids if r not in may_repeat}
    repeated = {r: len(calls[r]) for r in once if len(calls[r]) != 1}
    assert repeated == {}, f"LLM called more than once for readings no kill touched: {repeated}"
    assert all(len(calls[r]) <= 2 for r in may_repeat & set(ids))
    assert all(any(c.outcome == "completed" for c in calls[r]) for r in ids)
    assert unexplained_cuts(rig.script.call_log, rig.kills) == []

    charts = await rig.messages_per_reading(chart_calculated.TYPE)
    generated = await rig.messages_per_reading(reading_generated.TYPE)
    failed = await rig.messages_per_reading(reading_failed.TYPE)
    assert {r: charts.get(r, 0) for r in ids if charts.get(r, 0) != 1} == {}
    assert {r: generated.get(r, 0) for r in ids if generated.get(r, 0) != 1} == {}
    assert failed == {}

    dead = await rig.database("SELECT subject, code, message FROM dead_letters")
    assert [dict(r) for r in dead] == []
    versions = await rig.database(
        "SELECT reading_id, count(*) AS n FROM reading_versions WHERE reading_id = ANY($1)"
        " GROUP BY reading_id", ids)  # fmt: skip
    assert sorted(r["reading_id"] for r in versions) == ids
    twice = sum(len(calls[r]) > 1 for r in ids)
    cut = sum(c.outcome == "cut" for c in rig.script.call_log)
    print(f"chaos: {len(ids)} readings completed; {cut} LLM calls cut, {twice} readings called "
          f"twice ({len(may_repeat)} allowed by the kills' windows); intake answered "
          f"{dict(client.statuses)}")  # fmt: skip


def calls_per_reading(log: list[CallRecord]) -> dict[str, list[CallRecord]]:
    """Reading id -> the LLM server's calls for it (`X-Client-Request-Id: <id>:v<version>`)."""
    out: dict[str, list[CallRecord]] = defaultdict(list)
    for call in log:
        out[reading_of(call)].append(call)
    return out


def cut_by_a_kill(log: list[CallRecord], kills: list[Kill]) -> set[str]:
    """Readings whose call a kill may have cut: the server saw the client go away mid-answer,
    or the call ended just before a reader died (its result maybe not yet published)."""
    out = {reading_of(c) for c in log if c.outcome == "cut"}
    for call in log:
        if (
            call.outcome == "completed"
            and call.ended is not None
            and any(k.at - CUT_WINDOW_S <= call.ended <= k.at + 1.0 for k in cutting(kills))
        ):
            out.add(reading_of(call))
    return out


def unexplained_cuts(log: list[CallRecord], kills: list[Kill]) -> list[CallRecord]:
    """Calls the server saw cut that no kill explains: with no fault, no call is cut."""
    return [
        c for c in log
        if c.outcome == "cut" and c.ended is not None and not any(
            k.at - 1.0 <= c.ended <= k.at + EXPLAINED_S for k in cutting(kills)
        )
    ]  # fmt: skip


def cutting(kills: list[Kill]) -> list[Kill]:
    return [k for k in kills if k.what.startswith("reader")]


def reading_of(call: CallRecord) -> str:
    return (call.request_id or "").rsplit(":v", 1)[0]
