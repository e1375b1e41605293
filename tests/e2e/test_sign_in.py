"""Browser sign-in on the real services: JWTs from a local identity provider (its JWKS
served here), each user held to their own readings, and `events_url` that a plain
EventSource opens with no header. One stack; its logs are read at the end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import read_sse, running
from tests.signin import AUDIENCE, ISSUER, SigningKey, provider

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SERVER = {"X-API-Key": "key-of-our-backend-7d1c"}  # tenant `users`: the app's own backend
BODY = {"birth": {"date": "1990-01-01", "time": "12:00",
                  "place": {"latitude": 52.52, "longitude": 13.405}}}  # fmt: skip


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def problem(resp: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    return body


async def test_signed_in_users_see_their_own_readings_and_follow_them_with_no_header(
    nats_url: str, database_url: str, js: Any, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    key = SigningKey.rsa("idp-key-1")
    tokens: list[str] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    async with provider(key) as idp:
        settings = on_free_ports(tmp_path, nats_url, database_url)
        stack = Stack(settings, log_dir=logs, extra_env={
            "LOG_FORMAT": "json", "LOG_LEVEL": "debug", "DRAIN_TIMEOUT_S": "5",
            "API_KEYS": "users=key-of-our-backend-7d1c", "AUTH_JWKS_URL": idp.url,
            "AUTH_ISSUER": ISSUER, "AUTH_AUDIENCE": AUDIENCE,
        })  # fmt: skip
        intake = f"http://127.0.0.1:{settings.intake_port}"
        status = f"http://127.0.0.1:{settings.status_port}"
        alice, bob = key.token("alice"), key.token("bob")
        tokens += [alice, bob]
        async with running(stack):
            # Alice submits: 202, her reading; events_url carries a stream token.
            async with http.post(f"{intake}/v1/readings", json=BODY, headers=bearer(alice)) as r:
                assert r.status == 202, await r.text()
                accepted = await r.json()
            rid = accepted["id"]
            events_url = accepted["events_url"]
            assert "?access_token=" in events_url
            tokens.append(events_url.split("=", 1)[1])

            # Opened with no header at all, it streams the reading to its end.
            async with http.get(events_url) as resp:
                assert resp.status == 200, await resp.text()
                events = await read_sse(resp)
            assert events[-1].event == "reading.generated"

            async with asyncio.timeout(30):  # the projection catches up with the stream
                while True:
                    async with http.get(f"{status}/v1/readings/{rid}", headers=bearer(alice)) as r:
                        assert r.status == 200
                        mine = await r.json()
                    if mine["status"] == "completed":
                        break
                    await asyncio.sleep(0.1)
            assert mine["user_id"] == "alice"
            assert urlsplit(mine["events_url"]).path == f"/v1/readings/{rid}/events"
            async with http.get(f"{status}/v1/readings", headers=bearer(alice)) as resp:
                assert rid in [item["id"] for item in (await resp.json())["items"]]

            # Bob: 404 for Alice's reading on every route, never in his list.
            base = f"{status}/v1/readings/{rid}"
            for method, url in (("GET", base), ("GET", f"{base}/events"),
                                ("GET", f"{base}/bodygraph.svg"), ("DELETE", base),
                                ("POST", f"{base}/regenerate")):  # fmt: skip
                async with http.request(method, url, headers=bearer(bob)) as resp:
                    await problem(resp, 404)
            async with http.get(f"{status}/v1/readings", headers=bearer(bob)) as resp:
                assert resp.status == 200
                assert rid not in [item["id"] for item in (await resp.json())["items"]]
            # ... and he cannot name her: not in a list, not in a body, not for erasure.
            async with http.get(f"{status}/v1/readings?user_id=alice", headers=bearer(bob)) as r:
                assert (await problem(r, 403))["errors"][0]["field"] == "user_id"
            body = {**BODY, "user_id": "alice"}
            async with http.post(f"{intake}/v1/readings", json=body, headers=bearer(bob)) as r:
                assert (await problem(r, 403))["errors"][0]["field"] == "user_id"
            async with http.delete(f"{status}/v1/users/alice/readings", headers=bearer(bob)) as r:
                await problem(r, 403)
            async with http.get(f"{status}/v1/pipeline", headers=bearer(bob)) as r:
                await problem(r, 403)  # operators' route: keys only

            # The stream token opens that reading's events and nothing else.
            token_url = f"{base}?access_token={tokens[-1]}"
            async with http.get(token_url) as resp:
                assert (await problem(resp, 401))["errors"][0]["field"] == "access_token"

            # Expired, or signed by a key the issuer never published: 401 naming the problem.
            expired = key.token("alice", exp=int(time.time()) - 120)
            forged = SigningKey.rsa("idp-key-1").token("alice")
            tokens += [expired, forged]
            for token, why in ((expired, "expired"), (forged, "signature")):
                async with http.get(base, headers=bearer(token)) as resp:
                    assert why in (await problem(resp, 401))["detail"]

            # The app's own backend (an API key of tenant `users`) still works, and sees it.
            async with http.get(base, headers=SERVER) as resp:
                assert resp.status == 200
    text = "\n".join(p.read_text(errors="replace") for p in logs.iterdir())
    assert "reading accepted" in text  # the logs were captured
    for token in tokens:
        assert token not in text, "a token reached a log line"
    assert "secret@example.test" not in text  # nor a claim beyond sub
