"""Intake on a real NATS server: 202 only once the event is stored; 422 names each bad field."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from nats.js import JetStreamContext

from shared import names
from shared.events.registry import decode
from shared.settings import IntakeSettings
from tests.bus import stream_replicas
from tests.intake.helpers import intake_app

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

GOOD = {
    "birth": {"date": "1948-04-09", "time": "00:14",
              "place": {"latitude": 45.5017, "longitude": -73.5673, "name": "Montreal"}},
    "agent": "business", "language": "de", "user_id": "user-1",
}  # fmt: skip


@pytest.fixture
async def client(js: JetStreamContext) -> AsyncIterator[TestClient[Any, Any]]:
    settings = IntakeSettings(status_base_url="http://status.example")
    async with TestClient(TestServer(intake_app(settings, js))) as c:
        yield c


async def stored(js: JetStreamContext) -> int:
    return int((await js.stream_info(names.STREAM)).state.messages)


async def test_accepted_reading_is_durable_before_the_202(client, js) -> None:
    resp = await client.post("/v1/readings", json=GOOD)
    assert resp.status == 202
    body = await resp.json()
    rid = body["id"]
    assert resp.headers["Location"] == f"http://status.example/v1/readings/{rid}"
    assert body["events_url"] == f"http://status.example/v1/readings/{rid}/events"
    assert body["status"] == "queued"
    raw = await js.get_last_msg(names.STREAM, names.subject_for("reading.requested", rid))
    event = decode(raw.data)
    assert raw.headers is not None and raw.headers[names.MSG_ID_HEADER] == event.id
    assert event.source == "/services/intake"  # the publisher's, named once per service
    assert (event.data.agent, event.data.language, event.data.user_id) == ("business", "de",
                                                                             "user-1")  # fmt: skip
    assert event.data.birth.place.latitude == 45.5017


def with_birth(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(GOOD))
    body["birth"].update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        ({**GOOD, "agent": "astrologer"}, "agent"),
        ({**GOOD, "language": "fr"}, "language"),
        (with_birth(place={"latitude": 200, "longitude": 10}), "birth.place.latitude"),
        (with_birth(date="1990-02-30"), "birth.date"),
        (with_birth(time="25:61"), "birth.time"),
        (with_birth(timezone="Mars/Olympus_Mons"), "birth.timezone"),
        (with_birth(place={"latitude": 10}), "birth.place"),
        ({**GOOD, "colour": "blue"}, "colour"),
        ({"agent": "business"}, "birth"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_nothing_is_published(
    client, js, body, field
) -> None:
    before = await stored(js)
    if isinstance(body, bytes):
        resp = await client.post("/v1/readings", data=body,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    else:
        resp = await client.post("/v1/readings", json=body)
    assert resp.status == 422
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    problem = await resp.json()
    assert problem["status"] == 422 and problem["title"]
    assert field in [e["field"] for e in problem["errors"]], problem
    assert all(e["message"] for e in problem["errors"])
    assert await stored(js) == before


async def test_unknown_routes_answer_problem_json(client) -> None:
    resp = await client.get("/v1/nothing-here")
    assert resp.status == 404
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    resp = await client.get("/v1/readings")
    assert resp.status == 405


async def test_a_full_stream_is_a_503_and_nothing_is_lost(client, js) -> None:
    from dataclasses import replace

    from shared.bus.topology import stream_config

    await js.update_stream(replace(stream_config(stream_replicas()), max_bytes=16 * 1024))
    statuses = []
    for _ in range(40):
        resp = await client.post("/v1/readings", json=GOOD)
        statuses.append(resp.status)
        if resp.status == 503:
            assert resp.headers["Retry-After"]
            assert (await resp.json())["status"] == 503
            break
    assert statuses[-1] == 503 and set(statuses[:-1]) == {202}
    # Every 202 is still in the stream: refused new, not dropped old.
    assert await stored(js) == len(statuses) - 1
    await js.update_stream(stream_config(stream_replicas()))


async def test_past_capacity_intake_sheds_with_503_not_a_queue(js) -> None:
    import asyncio

    settings = IntakeSettings(intake_max_in_flight=1)
    async with TestClient(TestServer(intake_app(settings, js))) as c:

        async def post() -> int:
            resp = await c.post("/v1/readings", json=GOOD)
            if resp.status == 503:
                assert resp.headers["Retry-After"]
            return resp.status

        statuses = await asyncio.gather(*(post() for _ in range(50)))
    assert set(statuses) == {202, 503}
    assert await stored(js) == statuses.count(202)
