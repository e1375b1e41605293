"""Schemathesis with every check against the running stack: no failure on either service.

The four services run as real processes (real NATS and PostgreSQL) with API keys on,
and the one API document (`shared/api_document.py`, served by both) is run against
the one origin that routes each path to its service (the dev gateway,
`shared/gateway.py`, as the Kubernetes edge routes it). Schemathesis runs its
examples, coverage (boundary values, wrong types, missing and extra parameters,
unsupported methods), fuzzing (valid and invalid data) and stateful phases, the last
following the document's links: submit -> read, events, bodygraph, regenerate ->
cancel. It runs with tenant A's key, a fixed seed and deterministic generation, so the
same cases run every time, and with every check `--checks all` has: no 5xx; every
answer documented (status, content type, headers, schema); valid data accepted and
invalid data refused; a reading just created is found where the links lead; auth is
enforced; an undocumented method is a 405 with `Allow`.

One check result is dropped, narrowly (`cancel_keeps_the_reading`): `use_after_free`
takes a successful `DELETE` for the removal of its resource, but
`DELETE /v1/readings/{id}` cancels the reading's current version, and the reading
stays readable by design (status `cancelled`, every version kept; README "New
version, cancel"). Every other use-after-free it finds still fails the test.

Readings take a moment to finish, so a second run aims the reading operations at a
real, finished reading of tenant A: its 200, 304, SSE stream, bodygraph, 202 and 409
answers are checked against the document too.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import schemathesis
from nats.js import JetStreamContext
from schemathesis import engine
from schemathesis.engine import Status, events
from schemathesis.openapi.checks import UseAfterFree

from shared.api_document import document
from shared.launcher import Stack, on_free_ports
from tests.e2e.helpers import post_reading, running, wait_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

KEY = "test-key-a"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "object_level_authorization",
)
"""What `--checks all` runs (schemathesis 4) but `max_response_time`, which has no limit
there either. `object_level_authorization` replays reads as other identities of an
`[auth.wfc]` set, which this run does not configure, so it finds nothing to replay here;
tenant B's 404 for tenant A's reading on every route is tests/e2e/test_public_api.py's."""
SEED = 20_240_409
MAX_EXAMPLES = 20  # per operation and phase; with the rest, ~30 s on 2 cores
STATEFUL_EXAMPLES = 25  # scenarios of the stateful phase, each up to STATEFUL_STEPS calls
STATEFUL_STEPS = 6
USER = "schemathesis-user"
BIRTH = {"date": "1948-04-09", "time": "00:14",
         "place": {"latitude": 45.5017, "longitude": -73.5673}}  # fmt: skip


@pytest.fixture
async def stack(
    nats_url: str, database_url: str, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[Stack]:
    settings = on_free_ports(tmp_path, nats_url, database_url)
    st = Stack(settings, extra_env={
        "LOG_FORMAT": "json", "LOG_LEVEL": "warning", "DRAIN_TIMEOUT_S": "5",
        "READER_PROVIDER": "offline",
        "API_KEYS": f"tenant-a={KEY},tenant-b=test-key-b",
        "API_RATE_LIMIT": "",  # the run is sequential; a 429 would only hide the handler
    })  # fmt: skip
    async with running(st):
        yield st


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    linked: Counter[tuple[str, int]] = field(default_factory=Counter)  # reached by a link


def cancel_keeps_the_reading(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """`filter_failure`: keep every failure but a read after a cancel (see the docstring)."""
    if isinstance(failure, UseAfterFree):
        method, _, path = failure.free.partition(" ")
        parts = path.split("?")[0].strip("/").split("/")
        cancel = method == "DELETE" and len(parts) == 3 and parts[:2] == ["v1", "readings"]
        return not cancel
    return True


def run_schemathesis(
    schema_url: str,
    base_url: str,
    *,
    parameters: dict[str, Any] | None = None,
    method: str | None = None,
    path_regex: str | None = None,
    max_examples: int = MAX_EXAMPLES,
    stateful: bool = True,
) -> Outcome:
    """One schemathesis run (the engine of its CLI) over the document at `schema_url`."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "workers": 1,
        "base-url": base_url,
        "headers": {"X-API-Key": KEY},
        "request-timeout": 15,
        "max-stream-events": 200,
        "generation": {"mode": "all", "max-examples": max_examples, "deterministic": True,
                       "no-shrink": True, "database": "none",
                       "allow-x00": True},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True},
                   "stateful": {"enabled": stateful, "max-steps": STATEFUL_STEPS,
                                "generation": {"max-examples": STATEFUL_EXAMPLES}}},
        "parameters": parameters or {},
    })  # fmt: skip
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_url(schema_url, config=config)
    if method is not None or path_regex is not None:
        schema = schema.include(method=method, path_regex=path_regex)
    schema.hook("filter_failure")(cancel_keeps_the_reading)
    outcome = Outcome()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            for case_id, interaction in recorder.interactions.items():
                if interaction.response is not None:
                    node = recorder.cases[case_id]
                    answer = (node.value.operation.label, interaction.response.status_code)
                    outcome.statuses[answer] += 1
                    if node.transition is not None:
                        outcome.linked[answer] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        outcome.failures.append(_describe(recorder, case_id, check))
        elif isinstance(event, events.NonFatalError):
            outcome.failures.append(f"{event.label}: error: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return outcome


def _describe(recorder: Any, case_id: str, check: Any) -> str:
    failure = check.failure_info.failure
    interaction = recorder.interactions.get(case_id)
    answer = ""
    if interaction is not None and interaction.response is not None:
        body = interaction.response.content or b""
        answer = f"\n  answer: {interaction.response.status_code} {body[:500]!r}"
    return (f"{recorder.label}: {check.name}: {failure.title}\n  {failure.message}"
            f"\n  reproduce: {check.failure_info.code_sample}{answer}")  # fmt: skip


async def test_every_check_passes_on_both_services(stack: Stack) -> None:
    intake = f"http://127.0.0.1:{stack.settings.intake_port}"
    status = f"http://127.0.0.1:{stack.settings.status_port}"
    origin = stack.gateway_url  # one origin, each path routed to its service
    async with aiohttp.ClientSession() as http:
        documents = [await (await http.get(f"{url}/openapi.json")).json()
                     for url in (intake, status)]  # fmt: skip
    assert documents[0] == documents[1] == document()
    schema_url = f"{status}/openapi.json"
    runs = {"every phase": await asyncio.to_thread(run_schemathesis, schema_url, origin)}

    # A real, finished reading of tenant A for the reading operations: first read it
    # (200, 304, the SSE stream), then regenerate it (202, then 409 while version 2 is
    # not finished: the chart service is stopped, so it never is), then cancel (202).
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as http:
        reading_id = await post_reading(http, intake, {"birth": BIRTH, "user_id": USER})
        await wait_status(http, status, reading_id, {"completed"}, timeout_s=60)
    parameters = {"path.id": reading_id, "query.user_id": USER}
    for method in ("GET", "POST", "DELETE"):
        if method == "POST":
            await asyncio.to_thread(stack.services["chart"].stop, 5)
        runs[f"status, {method} a real reading"] = await asyncio.to_thread(
            run_schemathesis, schema_url, origin, parameters=parameters,
            method=method, path_regex=r"^/v1/readings/", max_examples=5, stateful=False,
        )  # fmt: skip

    failures = [f"[{name}] {f}" for name, run in runs.items() for f in run.failures]
    assert not failures, "\n\n".join(failures)
    # The runs reached the handlers, not only the guard rails.
    seen = {(label, code) for run in runs.values() for label, code in run.statuses}
    for want in [
        ("POST /v1/readings", 202),
        ("POST /v1/readings", 422),
        ("GET /v1/readings/{id}", 200),
        ("GET /v1/readings/{id}", 404),
        ("GET /v1/readings/{id}/events", 200),
        ("GET /v1/readings/{id}/bodygraph.svg", 200),
        ("GET /v1/readings", 200),
        ("GET /v1/readings", 422),
        ("POST /v1/readings/{id}/regenerate", 202),
        ("DELETE /v1/readings/{id}", 202),
    ]:
        assert want in seen, f"{want} never happened: {sorted(seen)}"
    assert not [s for s in seen if s[1] >= 500]
    # The stateful phase followed every link from a new reading to the reading itself (a
    # 404 there is `ensure_resource_availability`'s failure; 409 is "not yet" or "ended").
    linked = {label for label, code in runs["every phase"].linked if code != 404}
    assert {"GET /v1/readings/{id}", "GET /v1/readings/{id}/events",
            "GET /v1/readings/{id}/bodygraph.svg", "POST /v1/readings/{id}/regenerate",
            "DELETE /v1/readings/{id}"} <= linked, runs["every phase"].linked  # fmt: skip


async def test_inputs_schemathesis_does_not_send_are_4xx_too(stack: Stack) -> None:
    """NUL characters (PostgreSQL refuses them in text) and numbers past a bigint: the
    generators above avoid both, so they are sent here, to every place they can go."""
    intake = f"http://127.0.0.1:{stack.settings.intake_port}"
    status = f"http://127.0.0.1:{stack.settings.status_port}"

    huge = str(2**64)
    async with aiohttp.ClientSession(headers={"X-API-Key": KEY}) as http:
        reading_id = await post_reading(http, intake, {"birth": BIRTH, "user_id": USER})
        await wait_status(http, status, reading_id, {"completed"}, timeout_s=60)
        probes = [
            ("GET", f"{status}/v1/readings/%00", {}, {404}),
            ("GET", f"{status}/v1/readings/%00/events", {}, {404}),
            ("GET", f"{status}/v1/readings/%00/bodygraph.svg", {}, {404}),
            ("POST", f"{status}/v1/readings/%00/regenerate", {}, {404}),
            ("DELETE", f"{status}/v1/readings/%00", {}, {404}),
            ("GET", f"{status}/v1/readings/{'x' * 65}", {}, {404}),
            ("GET", f"{status}/v1/readings?user_id=%00", {}, {422}),
            ("GET", f"{status}/v1/readings?user_id=u&cursor=1.%00", {}, {422}),
            ("GET", f"{status}/v1/readings?user_id=u&cursor=" + "9" * 18 + ".x", {}, {422}),
            ("GET", f"{status}/v1/readings?user_id=u&cursor=" + "9" * 17 + ".x", {}, {200}),
            ("GET", f"{status}/v1/readings?user_id=u&cursor="
                    + base64.urlsafe_b64encode(b'["2024-01-01T00:00:00+00:00", "x"]').decode(),
             {}, {422}),  # the cursor before this API's document said what one is
            # Past the end of a finished reading: 204, as for its last event id.
            ("GET", f"{status}/v1/readings/{reading_id}/events", {"Last-Event-ID": huge},
             {204}),
            ("GET", f"{status}/v1/readings/{reading_id}/events?last_event_id={huge}", {},
             {204}),
            ("GET", f"{status}/v1/dead-letters?before={huge}", {}, {422}),
            ("GET", f"{status}/v1/dead-letters?limit={huge}", {}, {422}),
        ]  # fmt: skip
        for method, url, headers, want in probes:
            async with asyncio.timeout(20), http.request(method, url, headers=headers) as resp:
                assert resp.status in want, (method, url, resp.status, await resp.text())
                if resp.status >= 400:
                    assert resp.content_type == "application/problem+json", (url, resp.status)
