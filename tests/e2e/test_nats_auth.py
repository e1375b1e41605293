"""Least privilege on the bus: with the production accounts on, each service's user does
its whole job and nothing more (shared/bus/permissions.py).

A real nats-server runs with the accounts the launcher writes (`EMBEDDED_NATS_AUTH`),
the four services log in as their own users, and a reading flows end to end (with the
reader's shared limiter on, so its KV bucket is used too) and is regenerated. Nothing
is refused on the way; and what a user is not given, the server refuses.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import nats
import pytest
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from pydantic import SecretStr

from shared import names
from shared.bus import permissions
from shared.bus.connect import connect
from shared.bus.live import ask_so_far, serve_so_far
from shared.bus.topology import ensure_stream
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.process import free_port
from shared.events.reading_delta import ReadingDelta
from shared.launcher import Stack, on_free_ports, write_auth_config
from shared.settings import LauncherSettings, NatsCredentials
from tests.e2e.helpers import post_reading, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# The server logs "Publish Violation" / "Subscription Violation"; a client's error
# callback gets "permissions violation".
VIOLATION = re.compile(r"violation", re.IGNORECASE)


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {user: secrets.token_urlsafe(24) for user in permissions.USERS}


@pytest.fixture(scope="module")
def auth_nats(
    tmp_path_factory: pytest.TempPathFactory, passwords: dict[str, str]
) -> Iterator[EmbeddedNats]:
    root = tmp_path_factory.mktemp("nats-auth")
    server = EmbeddedNats(root, free_port(), config_file=write_auth_config(root / "auth.conf",
                                                                           passwords))  # fmt: skip
    server.start()
    yield server
    server.stop()


async def login(server: EmbeddedNats, user: str, passwords: dict[str, str]) -> NATS:
    return await connect(server.url, service=user, credentials=NatsCredentials(
        user, SecretStr(passwords[user])))  # fmt: skip


def violations(path: Path, skip: int = 0) -> list[str]:
    """Lines of a log (from character `skip` on) that report a refusal."""
    return [line for line in path.read_text()[skip:].splitlines() if VIOLATION.search(line)]


async def test_each_service_does_its_job_as_its_own_user(
    auth_nats: EmbeddedNats, passwords: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    seen = len(auth_nats.log_file.read_text())
    settings = on_free_ports(tmp_path, auth_nats.url, database_url)
    stack = Stack(settings, log_dir=logs, nats_passwords=passwords, extra_env={
        "LOG_FORMAT": "json", "DRAIN_TIMEOUT_S": "3",
        "READER_RPM": "6000",  # the shared limiter's KV bucket in use
        "PRIORITY_TENANTS": "*",  # the high-priority subjects and consumers in use
    })  # fmt: skip
    intake = f"http://127.0.0.1:{settings.intake_port}"
    status = f"http://127.0.0.1:{settings.status_port}"
    async with running(stack), aiohttp.ClientSession() as http:
        rid = await post_reading(http, intake)
        high = await post_reading(http, intake, {
            "birth": {"date": "1990-01-01", "time": "12:00",
                      "place": {"latitude": 52.52, "longitude": 13.405}},
            "priority": "high"})  # fmt: skip
        await wait_status(http, status, rid, {"completed"})
        await wait_status(http, status, high, {"completed"})
        async with http.post(f"{status}/v1/readings/{rid}/regenerate",
                             json={"agent": "business", "priority": "high"}) as resp:  # fmt: skip
            assert resp.status == 202, await resp.text()
        async with asyncio.timeout(30):
            while (await wait_status(http, status, rid, {"completed"}))["version"] < 2:
                await asyncio.sleep(0.1)
        async with http.get(f"{status}/v1/pipeline") as resp:  # status reads every consumer
            assert resp.status == 200, await resp.text()
    assert not violations(auth_nats.log_file, seen), violations(auth_nats.log_file, seen)
    for log in logs.iterdir():
        assert not violations(log), f"{log.name}: {violations(log)}"
    for name in permissions.SERVICES:  # each logged in as itself
        assert f'"user":"{name}","event":"bus connected"' in (logs / f"{name}.log").read_text()
        assert passwords[name] not in (logs / f"{name}.log").read_text()


async def test_what_a_user_is_not_given_is_refused(
    auth_nats: EmbeddedNats, passwords: dict[str, str]
) -> None:
    admin = await login(auth_nats, permissions.ADMIN_USER, passwords)
    await ensure_stream(admin.jetstream())
    refused: list[str] = []

    async def on_error(exc: Exception) -> None:
        refused.append(str(exc))

    async def as_user(user: str) -> NATS:
        return await nats.connect(auth_nats.url, user=user, password=passwords[user],
                                  inbox_prefix=permissions.inbox_prefix(user),
                                  error_cb=on_error)  # fmt: skip

    intake, chart, reader = [await as_user(u) for u in ("intake", "chart", "reader")]
    try:
        # intake may not delete the stream, nor publish another stage's event.
        with pytest.raises(NatsError):
            await intake.jetstream(timeout=1).delete_stream(names.STREAM)
        await intake.publish(names.subject_for("chart.calculated", "r1"), b"{}")
        # chart may not delete the status' consumer, nor listen to live text.
        await chart.subscribe(names.LIVE_TEXT_FILTER)
        with pytest.raises(NatsError):
            await chart.jetstream(timeout=1).delete_consumer(names.STREAM, names.STATUS_CONSUMER)
        # reader may not read another service's replies.
        await reader.subscribe(f"{permissions.inbox_prefix('status')}.>")
        await intake.flush()
        await chart.flush()
        await reader.flush()
        await asyncio.sleep(0.3)
        assert (await admin.jetstream().stream_info(names.STREAM)).config.name == names.STREAM
    finally:
        for conn in (intake, chart, reader, admin):
            await conn.close()
    text = "\n".join(refused)
    for subject in ("$JS.API.STREAM.DELETE.READINGS", "hd.chart.calculated.r1", "live.text.*",
                    "$JS.API.CONSUMER.DELETE.READINGS.status", "_INBOX_status.>"):  # fmt: skip
        assert subject.lower() in text, f"{subject} was not refused: {refused}"
    with pytest.raises(NatsError):  # a wrong password: no connection at all
        await nats.connect(auth_nats.url, user="intake", password="wrong",
                           allow_reconnect=False, connect_timeout=2)  # fmt: skip


async def test_status_asks_the_reader_for_the_text_so_far(
    auth_nats: EmbeddedNats, passwords: dict[str, str]
) -> None:
    """Request/reply across users: status asks on live.sofar.<id>; the reader answers to
    status' own inbox, a subject it may not publish to but for this answer."""
    seen = len(auth_nats.log_file.read_text())  # the refusals of other tests before
    reader = await login(auth_nats, "reader", passwords)
    status = await login(auth_nats, "status", passwords)
    piece = ReadingDelta(reading_id="r1", index=0, text="so far", attempt="a", offset=0)
    try:
        sub = await serve_so_far(reader, lambda rid: piece if rid == "r1" else None)
        await reader.flush()
        answer = await ask_so_far(status, "r1", timeout_s=2)
        assert answer is not None and answer.text == "so far"
        await sub.unsubscribe()
    finally:
        await reader.close()
        await status.close()
    assert not violations(auth_nats.log_file, seen)


async def test_the_launcher_writes_the_accounts_with_fresh_passwords(tmp_path: Path) -> None:
    """EMBEDDED_NATS_AUTH: a password per user, in a file only its owner reads; the
    services get theirs, and nobody gets in without one."""
    settings = LauncherSettings(data_dir=tmp_path, embedded_nats_auth=True,
                                embedded_nats_port=free_port())  # fmt: skip
    stack = Stack(settings)
    server = stack._single_nats()
    assert server.config_file is not None
    assert server.config_file.stat().st_mode & 0o777 == 0o600
    assert set(stack.nats_passwords) == set(permissions.USERS)
    server.start()
    try:
        admin = await login(server, permissions.ADMIN_USER, stack.nats_passwords)
        await admin.close()
        with pytest.raises(NatsError):
            await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)
    finally:
        server.stop()
