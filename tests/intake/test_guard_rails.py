"""Intake's public-API guard rails on a real NATS server: keys, idempotency, limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from nats.js import JetStreamContext
from pydantic import SecretStr

from shared import names
from shared.auth import digest
from shared.events.registry import decode
from shared.settings import IntakeSettings
from tests.intake.helpers import Serve, intake_app

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

KEY_A, KEY_B = "key-of-tenant-a", "key-of-tenant-b"
KEYS = f"a={KEY_A},b=sha256:{digest(KEY_B).hex()}"  # one plain, one stored as a digest
GOOD = {
    "birth": {"date": "1990-01-01", "time": "12:00",
              "place": {"latitude": 52.52, "longitude": 13.405}},
}  # fmt: skip
MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def make_client(js: JetStreamContext, serve: Serve) -> MakeClient:
    async def make(**settings: Any) -> TestClient[Any, Any]:
        keys = SecretStr(settings.pop("api_keys", KEYS))
        return await serve(intake_app(IntakeSettings(api_keys=keys, **settings), js))

    return make


async def requested(js: JetStreamContext) -> int:
    info = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_filter("reading.requested")
    )
    return len(info.state.subjects or {})


async def test_no_key_or_a_wrong_key_is_401_problem(make_client) -> None:
    client = await make_client()
    for headers in ({}, {"X-API-Key": "not-a-key-at-all"}, {"Authorization": "Basic abc"}):
        resp = await client.post("/v1/readings", json=GOOD, headers=headers)
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "not-a-key-at-all" not in await resp.text()


async def test_either_header_and_a_hashed_key_are_accepted(make_client, js) -> None:
    client = await make_client()
    for headers, tenant in (
        ({"X-API-Key": KEY_A}, "a"),
        ({"Authorization": f"Bearer {KEY_B}"}, "b"),
    ):
        resp = await client.post("/v1/readings", json=GOOD, headers=headers)
        assert resp.status == 202, await resp.text()
        rid = (await resp.json())["id"]
        raw = await js.get_last_msg(names.STREAM, names.subject_for("reading.requested", rid))
        assert decode(raw.data).data.tenant == tenant


async def test_ops_endpoints_need_no_key(make_client) -> None:
    client = await make_client()
    # The test app has no ops routes: a 404 (not a 401) shows the guard let it through.
    assert (await client.get("/healthz")).status == 404


async def test_a_retried_request_returns_the_same_reading(make_client, js) -> None:
    client = await make_client()
    headers = {"X-API-Key": KEY_A, "Idempotency-Key": "order-17"}
    first = await client.post("/v1/readings", json=GOOD, headers=headers)
    assert first.status == 202
    assert "Idempotent-Replayed" not in first.headers
    # The same body, other whitespace and key order: the same request.
    again = await client.post(
        "/v1/readings", data=json.dumps(GOOD, indent=2),
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert again.status == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json()) == (await first.json())
    rid = (await first.json())["id"]
    info = await js.stream_info(
        names.STREAM, subjects_filter=names.subject_for("reading.requested", rid)
    )
    assert info.state.subjects == {names.subject_for("reading.requested", rid): 1}


async def test_the_same_key_of_another_tenant_is_another_reading(make_client) -> None:
    client = await make_client()
    a = await client.post("/v1/readings", json=GOOD,
                          headers={"X-API-Key": KEY_A, "Idempotency-Key": "k1"})  # fmt: skip
    b = await client.post("/v1/readings", json=GOOD,
                          headers={"X-API-Key": KEY_B, "Idempotency-Key": "k1"})  # fmt: skip
    assert (a.status, b.status) == (202, 202)
    assert (await a.json())["id"] != (await b.json())["id"]


async def test_a_reused_key_with_another_body_is_409(make_client) -> None:
    client = await make_client()
    headers = {"X-API-Key": KEY_A, "Idempotency-Key": "order-18"}
    assert (await client.post("/v1/readings", json=GOOD, headers=headers)).status == 202
    other = {**GOOD, "language": "de"}
    resp = await client.post("/v1/readings", json=other, headers=headers)
    assert resp.status == 409
    body = await resp.json()
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert "different body" in body["errors"][0]["message"]


async def test_a_malformed_idempotency_key_is_422(make_client) -> None:
    client = await make_client()
    headers = {"X-API-Key": KEY_A, "Idempotency-Key": "x" * 256}
    resp = await client.post("/v1/readings", json=GOOD, headers=headers)
    assert resp.status == 422
    assert (await resp.json())["errors"][0]["field"] == "Idempotency-Key"


async def test_50_concurrent_identical_posts_create_one_reading(make_client, js) -> None:
    client = await make_client()
    before = await requested(js)
    headers = {"X-API-Key": KEY_A, "Idempotency-Key": "burst-1"}
    answers = await asyncio.gather(
        *(client.post("/v1/readings", json=GOOD, headers=headers) for _ in range(50))
    )
    assert [r.status for r in answers] == [202] * 50
    ids = {(await r.json())["id"] for r in answers}
    assert len(ids) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 49
    assert await requested(js) == before + 1


async def test_a_body_over_the_cap_is_413_problem(make_client) -> None:
    client = await make_client(api_max_body_bytes=2048)
    big = {**GOOD, "user_id": "u" * 4000}
    resp = await client.post("/v1/readings", json=big, headers={"X-API-Key": KEY_A})
    assert resp.status == 413
    assert resp.content_type == "application/problem+json"
    assert "2048" in (await resp.json())["detail"]


async def test_unknown_fields_are_named(make_client) -> None:
    client = await make_client()
    resp = await client.post("/v1/readings", json={**GOOD, "colour": "blue"},
                             headers={"X-API-Key": KEY_A})  # fmt: skip
    assert resp.status == 422
    assert {"field": "colour", "message": "unknown field"} in (await resp.json())["errors"]


async def test_over_the_rate_limit_is_429_with_retry_after_per_key(make_client) -> None:
    client = await make_client(api_rate_limit="3/minute")
    statuses = [
        (await client.post("/v1/readings", json=GOOD, headers={"X-API-Key": KEY_A})).status
        for _ in range(4)
    ]
    assert statuses == [202, 202, 202, 429]
    resp = await client.post("/v1/readings", json=GOOD, headers={"X-API-Key": KEY_A})
    assert resp.status == 429
    assert resp.content_type == "application/problem+json"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    # Another key has its own budget.
    other = await client.post("/v1/readings", json=GOOD, headers={"X-API-Key": KEY_B})
    assert other.status == 202


async def test_without_keys_the_api_is_open(make_client, js) -> None:
    client = await make_client(api_keys="")
    resp = await client.post("/v1/readings", json=GOOD)
    assert resp.status == 202
    rid = (await resp.json())["id"]
    raw = await js.get_last_msg(names.STREAM, names.subject_for("reading.requested", rid))
    assert decode(raw.data).data.tenant is None


async def test_a_date_outside_the_ephemeris_is_refused_at_once(make_client) -> None:
    client = await make_client()
    body = {"birth": {**GOOD["birth"], "date": "1799-12-31"}}
    resp = await client.post("/v1/readings", json=body, headers={"X-API-Key": KEY_A})
    assert resp.status == 422
    [error] = (await resp.json())["errors"]
    assert error["field"] == "birth.date"
    assert "1800-01-01" in error["message"] and "DE440" in error["message"]
