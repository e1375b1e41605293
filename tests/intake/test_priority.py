"""`priority` at intake: high only for PRIORITY_TENANTS (403 else), 422 for an unknown value.

Real NATS: an accepted high request is stored on its priority's subject, and a
refused one stores nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from nats.js import JetStreamContext
from pydantic import SecretStr

from shared import names
from shared.events.registry import decode
from shared.settings import IntakeSettings
from tests.intake.helpers import Serve, intake_app

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

GOLD = {"X-API-Key": "key-of-gold"}
FREE = {"X-API-Key": "key-of-free"}
KEYS = SecretStr("gold=key-of-gold,free=key-of-free")
BODY: dict[str, Any] = {
    "birth": {"date": "1990-01-01", "time": "12:00",
              "place": {"latitude": 52.52, "longitude": 13.405}},
}  # fmt: skip


def settings(**overrides: Any) -> IntakeSettings:
    return IntakeSettings(**{"api_keys": KEYS, "priority_tenants": "gold",
                             "api_rate_limit": "", **overrides})  # fmt: skip


async def requests_stored(js: JetStreamContext) -> dict[str, int]:
    """Stored `reading.requested` per priority."""
    out = {}
    for priority in names.PRIORITIES:
        info = await js.stream_info(
            names.STREAM,
            subjects_filter=names.subject_filter("reading.requested", priority),
        )
        out[priority] = sum((info.state.subjects or {}).values())
    return out


async def test_an_allowed_tenant_gets_high_priority_on_its_subject(
    serve: Serve, js: JetStreamContext
) -> None:
    client = await serve(intake_app(settings(), js))
    resp = await client.post("/v1/readings", json={**BODY, "priority": "high"}, headers=GOLD)
    assert resp.status == 202, await resp.text()
    rid = (await resp.json())["id"]
    raw = await js.get_last_msg(
        names.STREAM, f"{names.HIGH_SUBJECT_PREFIX}.reading.requested.{rid}"
    )
    assert raw.data is not None and decode(raw.data).data.priority == "high"
    resp = await client.post("/v1/readings", json=BODY, headers=FREE)  # normal: anyone
    assert resp.status == 202
    assert await requests_stored(js) == {"high": 1, "normal": 1}


async def test_another_tenant_asking_for_high_gets_403_naming_priority(
    serve: Serve, js: JetStreamContext
) -> None:
    client = await serve(intake_app(settings(), js))
    resp = await client.post("/v1/readings", json={**BODY, "priority": "high"}, headers=FREE)
    assert resp.status == 403
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert [e["field"] for e in problem["errors"]] == ["priority"]
    assert await requests_stored(js) == {"high": 0, "normal": 0}


async def test_an_unknown_priority_is_422_naming_priority(
    serve: Serve, js: JetStreamContext
) -> None:
    client = await serve(intake_app(settings(), js))
    for value in ("urgent", "HIGH", 1, None):
        resp = await client.post("/v1/readings", json={**BODY, "priority": value}, headers=GOLD)
        assert resp.status == 422, value
        assert resp.content_type == "application/problem+json"
        assert [e["field"] for e in (await resp.json())["errors"]] == ["priority"], value
    assert await requests_stored(js) == {"high": 0, "normal": 0}


async def test_the_open_api_gets_high_only_with_a_star(serve: Serve, js: JetStreamContext) -> None:
    open_api = await serve(intake_app(settings(api_keys=SecretStr("")), js))
    resp = await open_api.post("/v1/readings", json={**BODY, "priority": "high"})
    assert resp.status == 403
    everyone = await serve(intake_app(settings(api_keys=SecretStr(""), priority_tenants="*"), js))
    resp = await everyone.post("/v1/readings", json={**BODY, "priority": "high"})
    assert resp.status == 202
    assert await requests_stored(js) == {"high": 1, "normal": 0}


async def test_an_idempotency_key_covers_both_priorities(
    serve: Serve, js: JetStreamContext
) -> None:
    client = await serve(intake_app(settings(), js))
    key = {**GOLD, "Idempotency-Key": "order-17"}
    first = await client.post("/v1/readings", json=BODY, headers=key)
    assert first.status == 202
    again = await client.post("/v1/readings", json=BODY, headers=key)
    assert again.status == 202 and again.headers["Idempotent-Replayed"] == "true"
    # The same key with high priority is another body: 409, and no second reading on the
    # high subject (the compare-and-set covers every priority of the reading).
    other = await client.post("/v1/readings", json={**BODY, "priority": "high"}, headers=key)
    assert other.status == 409
    assert await requests_stored(js) == {"high": 0, "normal": 1}
