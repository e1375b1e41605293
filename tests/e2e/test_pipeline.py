"""The whole pipeline in real processes: POST -> chart -> reading -> status, SSE and rows."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import asyncpg
import pytest

from shared.bus.topology import CHART, READER, STATUS
from shared.events.chart import BODIES
from shared.events.reading_requested import Language
from shared.launcher import Stack
from tests.e2e.helpers import post_reading, read_sse, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_a_reading_flows_through_every_stage(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url, database_url
) -> None:
    rid = await post_reading(http, intake_url)

    # Polled at once: never a 404 for an accepted reading.
    async with http.get(f"{status_url}/v1/readings/{rid}") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] in {"queued", "chart_ready", "generating",
                                                  "completed"}  # fmt: skip

    async with http.get(f"{status_url}/v1/readings/{rid}/events") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = await asyncio.wait_for(read_sse(resp), 30)
    types = [e.event for e in events if e.event != "hello"]
    assert types[0] == "reading.requested"
    assert types[-1] == "reading.generated"  # and the stream closed after it
    assert {"chart.calculated", "reading.started"} <= set(types)
    ids = [e.id for e in events if e.id is not None]
    seqs = [int(i.split(".")[0]) for i in ids]  # live text: `<seq>.<attempt>.<chars>`
    assert seqs == sorted(seqs) and len(ids) == len(set(ids))

    body = await wait_status(http, status_url, rid, {"completed"})
    assert body["progress"] == 100
    for side in ("personality", "design"):
        acts = body["chart"]["activations"][side]
        assert set(acts) == set(BODIES)
        for act in acts.values():
            assert 1 <= act["gate"] <= 64 and 1 <= act["line"] <= 6
    assert body["reading"]["composed_offline"] is True
    assert body["reading"]["text"].strip()
    assert all(body["stages"][k] for k in ("requested_at", "chart_at", "started_at",
                                           "completed_at"))  # fmt: skip

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT status, status_rank FROM readings WHERE id = $1", rid)
        assert tuple(row) == ("completed", 100)
        assert await conn.fetchval("SELECT count(*) FROM charts WHERE reading_id=$1", rid) == 1
        versions = await conn.fetch(
            "SELECT version, is_current FROM reading_versions WHERE reading_id=$1", rid
        )
        assert [tuple(v) for v in versions] == [(1, True)]
    finally:
        await conn.close()


async def test_sse_resumes_after_last_event_id_without_gaps_or_repeats(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url
) -> None:
    rid = await post_reading(http, intake_url)
    await wait_status(http, status_url, rid, {"completed"})
    async with http.get(f"{status_url}/v1/readings/{rid}/events") as resp:
        full = await asyncio.wait_for(read_sse(resp), 30)
    cut = full[1]
    async with http.get(f"{status_url}/v1/readings/{rid}/events",
                        headers={"Last-Event-ID": str(cut.id)}) as resp:  # fmt: skip
        rest = await asyncio.wait_for(read_sse(resp), 30)
    assert [e.id for e in rest] == [e.id for e in full[2:]]


async def test_a_bad_place_fails_the_reading_with_a_code(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url
) -> None:
    rid = await post_reading(http, intake_url, {
        "birth": {"date": "1990-01-01", "time": "12:00", "place": {"name": "Qwxzyville"}},
    })  # fmt: skip
    body = await wait_status(http, status_url, rid, {"failed"})
    assert body["error"]["code"] == "place_not_found"
    assert "Qwxzyville" in body["error"]["message"]
    # ... and the pipeline keeps going for the next one.
    ok = await post_reading(http, intake_url)
    await wait_status(http, status_url, ok, {"completed"})


async def test_sigterm_drains_every_service_and_exits_zero(stack: Stack) -> None:
    for svc in stack.services.values():
        assert svc.proc is not None
        svc.proc.send_signal(signal.SIGTERM)
    for svc in stack.services.values():
        assert svc.proc is not None
        code = await asyncio.to_thread(svc.proc.wait, 20)
        assert code == 0, f"{svc.name} exited with {code}"


async def test_consumers_are_declared_by_the_services(stack: Stack, js) -> None:
    for spec in (CHART, READER, STATUS):
        info = await js.consumer_info("READINGS", spec.durable)
        assert info.config.filter_subject or info.config.filter_subjects


async def test_garbage_is_dead_lettered_with_a_reason_and_blocks_nothing(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url, js
) -> None:
    from shared.events.registry import CONTRACTS

    bad = "0badbad0-0000-4000-8000-000000000000"
    subjects = [f"hd.{t}.{bad[:-2]}{i:02d}" for i, t in enumerate(sorted(CONTRACTS))]
    for subject in subjects:  # a hand-made garbage message on each subject
        await js.publish(subject, b"\x00\xffnot an event")
    rid = await post_reading(http, intake_url)
    await wait_status(http, status_url, rid, {"completed"})  # nothing was blocked
    requested_bad = subjects[sorted(CONTRACTS).index("reading.requested")].rsplit(".", 1)[1]
    failed = await wait_status(http, status_url, requested_bad, {"failed"})
    assert failed["error"]["code"] == "undecodable"

    async with http.get(f"{status_url}/v1/dead-letters?limit=100") as resp:
        items = (await resp.json())["items"]
    unreadable = {i["subject"]: i for i in items if i["stage"] == "bus"}
    for subject in subjects:
        assert unreadable[subject]["code"] == "undecodable"
        assert unreadable[subject]["raw_excerpt"]
    chart_failure = [i for i in items if i["stage"] == "chart" and i["reading_id"] == requested_bad]
    assert chart_failure and chart_failure[0]["code"] == "undecodable"

    async with http.get(f"{status_url}/v1/pipeline") as resp:
        view = await resp.json()
    assert set(view["stages"]) == {"chart", "reader", "status"}
    assert view["stages"]["chart"]["dead"] >= 1
    assert view["dead_letters_unreadable"] >= len(subjects)
    assert view["readings_by_status"]["completed"] >= 1
    assert view["durations_s"]["total_p50"] is not None
    async with http.get(f"http://127.0.0.1:{stack.settings.status_port}/metrics") as resp:
        metrics = await resp.text()
    assert 'outcome="poison"' in metrics  # and operators see it


@pytest.mark.parametrize("language", ["en", "de"])
async def test_every_agent_writes_a_labelled_reading_offline_in_each_language(
    stack: Stack, http: aiohttp.ClientSession, intake_url, status_url, language: Language
) -> None:
    from services.reader.agents import get_agent
    from services.reader.offline import OFFLINE_LABEL

    agents = ["personality", "business", "relationship", "crisis"]
    ids = {
        agent: await post_reading(http, intake_url, {
            "birth": {"date": "1948-04-09", "time": "00:14",
                      "place": {"latitude": 45.5017, "longitude": -73.5673}},
            "agent": agent, "language": language,
        })
        for agent in agents
    }  # fmt: skip
    texts = {}
    for agent, rid in ids.items():
        body = await wait_status(http, status_url, rid, {"completed"})
        reading = body["reading"]
        assert (reading["agent"], reading["language"]) == (agent, language)
        assert reading["prompt_version"].startswith(agent)
        text = reading["text"]
        assert text.splitlines()[0] == OFFLINE_LABEL[language]  # says it was not an AI
        assert get_agent(agent).title.get(language) in text  # the agent's own framing
        assert "51" in text  # the conscious Sun gate of this chart
        assert len(text.split()) > 300
        texts[agent] = text
    assert len(set(texts.values())) == 4
