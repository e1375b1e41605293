"""`hdq` against the real stack: NATS, PostgreSQL and the four services as processes.

The reader composes offline, so a reading completes in about a second. One
stack serves the whole module (tests/hdq/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from services.reader.offline import OFFLINE_LABEL
from shared.embedded.process import free_port
from shared.launcher import Stack
from tests.hdq.helpers import Run, arun

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(180)]

BERLIN = ["--date", "1990-01-01", "--time", "12:00", "--place", "Berlin", "--country", "DE"]
# The chart of 1990-01-01 12:00 in Berlin, as the summary prints it.
CHART_LINES = [
    "Type:              Generator",
    "Strategy:          To Respond",
    "Authority:         Emotional",
    "Profile:           2/4",
    "Definition:        Single",
    "Incarnation cross: Right Angle Cross (38/39 | 48/21)",
    "Defined centers:   Solar Plexus, Sacral, Root",
    "Channels:          9-52, 39-55",
]


@pytest.fixture
def urls(intake_url: str, status_url: str) -> list[str]:
    return ["--intake", intake_url, "--status", status_url]


def _user() -> str:
    return f"hdq-{uuid.uuid4().hex[:8]}"


def _assert_completed_reading(run: Run, reading_id: str) -> None:
    assert f"Reading {reading_id}  v1  completed (100%)  personality/en" in run.out
    for line in CHART_LINES:
        assert line in run.out, run.out
    assert OFFLINE_LABEL["en"] in run.out  # the text, which says it was composed offline
    assert "\n## " in run.out  # printed as written (markdown), not re-wrapped
    assert len(run.out.split()) > 300


async def test_submit_watch_prints_progress_then_chart_and_text(urls: list[str]) -> None:
    run = await arun(*urls, "submit", *BERLIN, "--user-id", _user(), "--watch")
    assert run.code == 0, run
    reading_id = run.out.splitlines()[0]
    uuid.UUID(reading_id)  # the id comes first, so a script can take it
    _assert_completed_reading(run, reading_id)
    assert "completed (100%)" in run.err.splitlines()  # stage lines on stderr, not stdout
    assert "queued" not in run.out


async def test_submit_watch_on_a_terminal_renders_live(urls: list[str]) -> None:
    run = await arun(*urls, "submit", *BERLIN, "--watch", terminal=True)
    assert run.code == 0, run
    assert "reading " in run.err  # the id, as a hint for a person
    assert "━" in run.out  # the progress bar was drawn
    assert "Incarnation cross" in run.out and "Right Angle Cross (38/39 | 48/21)" in run.out
    assert "Your design at a glance" in run.out  # the text, rendered as markdown


async def test_submit_prints_the_id_and_get_list_show_it(urls: list[str]) -> None:
    user = _user()
    submitted = await arun(*urls, "submit", *BERLIN, "--user-id", user)
    assert submitted.code == 0, submitted
    reading_id = submitted.out.strip()
    uuid.UUID(reading_id)

    watched = await arun(*urls, "get", reading_id, "--watch")
    assert watched.code == 0, watched
    got = await arun(*urls, "get", reading_id)
    assert got.code == 0, got
    _assert_completed_reading(got, reading_id)

    listed = await arun(*urls, "list", "--user-id", user)
    assert listed.code == 0, listed
    header, row = listed.out.splitlines()
    assert header.split() == ["id", "status", "progress", "agent", "language", "created"]
    assert row.split()[:5] == [reading_id, "completed", "100%", "personality", "en"]

    empty = await arun(*urls, "list", "--user-id", _user())
    assert (empty.code, empty.out) == (0, "")
    assert "no readings" in empty.err


async def test_list_pages_with_a_cursor(urls: list[str]) -> None:
    user = _user()
    ids = [(await arun(*urls, "submit", *BERLIN, "--user-id", user)).out.strip() for _ in range(3)]
    for reading_id in ids:  # a list shows what the projection holds: wait for it
        assert (await arun(*urls, "get", reading_id, "--watch")).code == 0
    first = await arun(*urls, "--json", "list", "--user-id", user, "--limit", "2")
    page = first.json()
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    second = await arun(
        *urls, "list", "--user-id", user, "--limit", "2", "--cursor", page["next_cursor"]
    )
    assert second.code == 0 and second.out.splitlines()[1].split()[0] == ids[0]


async def test_pipeline_shows_stages_readings_and_durations(urls: list[str]) -> None:
    await arun(*urls, "submit", *BERLIN, "--watch")
    run = await arun(*urls, "pipeline")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[0] == "Stages"
    assert lines[1].split() == [
        "stage",
        "consumer",
        "pending",
        "in",
        "flight",
        "redelivered",
        "waiting",
        "dead",
    ]
    assert {line.split()[0] for line in lines[2:5]} == {"chart", "reader", "status"}
    assert "Readings" in lines and any(line.startswith("completed ") for line in lines)
    assert any(line.startswith("Durations, last 15 min") for line in lines)


async def test_json_output_parses(urls: list[str], status_url: str) -> None:
    user = _user()
    submitted = await arun(*urls, "--json", "submit", *BERLIN, "--user-id", user)
    assert submitted.code == 0, submitted
    accepted = submitted.json()
    assert accepted["status"] == "queued" and accepted["version"] == 1
    assert accepted["events_url"] == f"{status_url}/v1/readings/{accepted['id']}/events"

    # --json after the command name works too, and --watch gives the final document only.
    watched = await arun(*urls, "get", accepted["id"], "--watch", "--json")
    assert watched.code == 0, watched
    reading = watched.json()
    assert reading["status"] == "completed" and reading["chart"]["type"] == "generator"
    assert reading["reading"]["text"].startswith(OFFLINE_LABEL["en"])
    assert watched.err == ""

    listed = (await arun(*urls, "--json", "list", "--user-id", user)).json()
    assert [i["id"] for i in listed["items"]] == [accepted["id"]]
    stats = (await arun(*urls, "--json", "pipeline")).json()
    assert set(stats["stages"]) == {"chart", "reader", "status"}


async def test_invalid_input_exits_2_naming_each_field(urls: list[str]) -> None:
    run = await arun(
        *urls,
        "submit",
        "--date",
        "1990-01-01",
        "--time",
        "25:00",
        "--place",
        "Berlin",
        "--agent",
        "poet",
        "--watch",
    )
    assert run.code == 2, run
    assert run.out == ""
    assert "Invalid request (422)" in run.err
    assert "  birth.time: " in run.err and "HH:MM" in run.err
    assert "  agent: " in run.err

    as_json = await arun(
        *urls, "--json", "submit", "--date", "1990-01-01", "--time", "25:00", "--place", "Berlin"
    )
    assert as_json.code == 2
    error = as_json.err_json()["error"]
    assert (error["status"], error["kind"]) == (422, "validation")
    assert [e["field"] for e in error["errors"]] == ["birth.time"]


async def test_a_failed_reading_exits_1_with_its_code_and_message(urls: list[str]) -> None:
    run = await arun(
        *urls,
        "submit",
        "--date",
        "1990-01-01",
        "--time",
        "12:00",
        "--place",
        "Qwxzzyville",
        "--watch",
    )
    assert run.code == 1, run
    assert "failed (100%)" in run.out
    assert "failed: place_not_found: " in run.out and "(stage chart)" in run.out


async def test_regenerate_watch_follows_the_new_version(urls: list[str]) -> None:
    reading_id = (await arun(*urls, "submit", *BERLIN, "--watch")).out.splitlines()[0]
    run = await arun(*urls, "regenerate", reading_id, "--agent", "business", "--watch")
    assert run.code == 0, run
    assert f"Reading {reading_id}  v2  completed (100%)  business/en" in run.out
    assert "Type:              Generator" in run.out


async def test_cancel_a_waiting_reading_but_not_a_finished_one(
    urls: list[str], stack: Stack
) -> None:
    chart = stack.services["chart"]
    await asyncio.to_thread(chart.kill)  # nothing charts: the reading waits, queued
    try:
        reading_id = (await arun(*urls, "submit", *BERLIN)).out.strip()
        cancelled = await arun(*urls, "cancel", reading_id)
        assert cancelled.code == 0, cancelled
        assert cancelled.out.strip() == f"{reading_id} cancelled (v1)"
        watched = await arun(*urls, "get", reading_id, "--watch", "--max-wait", "30")
        assert watched.code == 1, watched  # a cancelled reading is not a success
        assert f"Reading {reading_id}  v1  cancelled" in watched.out
    finally:
        chart.start()
        assert await asyncio.to_thread(stack.wait_ready, 60)
    finished = (await arun(*urls, "submit", *BERLIN, "--watch")).out.splitlines()[0]
    refused = await arun(*urls, "cancel", finished)
    assert refused.code == 1, refused
    assert refused.err.startswith("error: Conflict (409): ") and "already finished" in refused.err


async def test_unknown_reading_exits_1(urls: list[str]) -> None:
    run = await arun(*urls, "get", "no-such-reading")
    assert run.code == 1
    assert "Not Found (404)" in run.err and "no-such-reading" in run.err


async def test_the_installed_entry_point(intake_url: str, status_url: str) -> None:
    hdq = Path(sys.executable).with_name("hdq")
    assert hdq.exists(), "install the project (make install) so the `hdq` script exists"
    env = {**os.environ, "HDQ_INTAKE_URL": intake_url, "HDQ_STATUS_URL": status_url}
    proc = await asyncio.to_thread(
        subprocess.run,
        [str(hdq), "submit", *BERLIN, "--watch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for line in CHART_LINES:
        assert line in proc.stdout
    assert OFFLINE_LABEL["en"] in proc.stdout
    assert proc.stderr.splitlines()[-1] == "completed (100%)"

    down = f"http://127.0.0.1:{free_port()}"
    proc = await asyncio.to_thread(
        subprocess.run,
        [str(hdq), "--status", down, "pipeline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert proc.stderr.strip() == (
        f"error: cannot reach the status service at {down}: connection refused (is it running?)"
    )
