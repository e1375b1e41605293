"""`hdq` without the stack: arguments, the SSE reader, and the client against a small fake
server (API key, retries after 429/503, relative links, a dropped stream resumed)."""

from __future__ import annotations

import asyncio
import json
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from hdq.cli import birth_request, build_parser
from hdq.render import chart_rows, cross, title
from hdq.sse import SseEvent, SseParser, split_lines
from shared.embedded.process import free_port
from tests.hdq.helpers import run

# -- the SSE reader ------------------------------------------------------------------------


BERLIN = ["--date", "1990-01-01", "--time", "12:00", "--place", "Berlin"]


def signed_in(url: str) -> list[str]:
    """Both services at `url` (the fake serves both), with the key the fake expects."""
    return ["--intake", url, "--status", url, "--api-key", "secret"]


def _parse(text: str) -> tuple[list[SseEvent], SseParser]:
    parser = SseParser()
    events = []
    for chunk in text.splitlines(keepends=True):
        for line in split_lines(chunk):
            if (ev := parser.feed(line)) is not None:
                events.append(ev)
    return events, parser


def test_sse_parser_follows_the_standard() -> None:
    events, parser = _parse(
        "retry: 2000\nevent: hello\ndata: {}\n\n"
        ": ping\r\n"
        "id: 7\r\nevent: reading.delta\r\ndata: line one\r\ndata:line two\r\n\r\n"
        "data: no type, id carried over\n\n"
        "id: 9\nevent: only-an-id\n\n"  # no data: not dispatched, but the id counts
        "bogus: field\nretry: soon\ndata: x\n\n"
        "event: cut\ndata: incomplete at the end"
    )
    assert events == [
        SseEvent("hello", "{}", None),
        SseEvent("reading.delta", "line one\nline two", "7"),
        SseEvent("message", "no type, id carried over", "7"),
        SseEvent("message", "x", "9"),
    ]
    assert (parser.last_event_id, parser.retry_ms) == ("9", 2000)
    assert split_lines("a\rb\r\n") == ["a", "b"]


# -- arguments -----------------------------------------------------------------------------


def _args(command_line: str) -> list[str]:
    return shlex.split(command_line)


def test_the_birth_options_make_the_request_body() -> None:
    args = build_parser().parse_args(_args(
        "submit --date 1948-04-09 --time 00:14 --lat 45.5 --lon -73.57 --utc-offset -04:00 "
        "--agent crisis --language de --user-id u --priority high"
    ))  # fmt: skip
    assert birth_request(args) == {
        "birth": {"date": "1948-04-09", "time": "00:14", "utc_offset": "-04:00",
                  "place": {"latitude": 45.5, "longitude": -73.57}},
        "agent": "crisis", "language": "de", "user_id": "u", "priority": "high",
    }  # fmt: skip
    args = build_parser().parse_args(_args(
        "submit --date 1990-01-01 --time 12:00 --place Berlin --country DE "
        "--timezone Europe/Berlin"
    ))  # fmt: skip
    assert birth_request(args) == {"birth": {
        "date": "1990-01-01", "time": "12:00", "timezone": "Europe/Berlin",
        "place": {"name": "Berlin", "country": "DE"},
    }}  # fmt: skip


BIRTH = "submit --date 1990-01-01 --time 12:00"


@pytest.mark.parametrize(
    ("command_line", "message"),
    [
        (BIRTH, "give the place of birth"),
        (f"{BIRTH} --place X --lat 1", "not both"),
        (f"{BIRTH} --lat 1", "go together"),
        (f"{BIRTH} --lat 1 --lon 2 --country DE", "needs --place"),
        ("submit --time 12:00 --place X", "required: --date"),
        (f"{BIRTH} --lat north --lon 1", "invalid float value"),
        ("list", "required: --user-id"),
        ("frobnicate", "invalid choice"),
        ("pipeline --timeout 0", "--timeout: must be more than 0 seconds"),
        ("get x --watch --max-wait soon", "--max-wait: not a number of seconds"),
        ("", "required: COMMAND"),
        (f"--intake localhost:8080 {BIRTH} --place X", "--intake must be an http(s) URL"),
    ],
)
def test_usage_errors_exit_2_before_any_request(command_line: str, message: str) -> None:
    result = run("--intake", "http://127.0.0.1:9", "--status", "http://127.0.0.1:9",
                 *_args(command_line))  # fmt: skip
    assert result.code == 2, result
    assert result.err.startswith("error: ") and message in result.err, result.err
    assert result.out == ""


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--help").code == 0
    assert run("submit", "--help").code == 0
    assert "--idempotency-key" in capsys.readouterr().out


def test_an_unreachable_service_exits_3_with_a_clear_message() -> None:
    down = f"http://127.0.0.1:{free_port()}"
    result = run("--intake", down, "submit", *BERLIN)
    assert result.code == 3
    assert result.err.strip() == (
        f"error: cannot reach the intake service at {down}: connection refused (is it running?)"
    )
    as_json = run("--json", "--status", down, "get", "x")
    assert as_json.code == 3
    assert "cannot reach the status service" in as_json.err_json()["error"]["message"]


def test_the_chart_summary() -> None:
    assert title("to_respond") == "To Respond" and title("g") == "G" and title(None) == "-"
    assert cross({"angle": "juxtaposition", "gates": [1, 2, 7, 13]}) == (
        "Juxtaposition Cross (1/2 | 7/13)"
    )
    rows = dict(chart_rows({"type": "manifesting_generator", "centers": {"defined": []}}))
    assert rows["Type"] == "Manifesting Generator"
    assert rows["Defined centers"] == "none" and rows["Channels"] == "none"
    assert rows["Incarnation cross"] == "-"


# -- against a fake server -----------------------------------------------------------------

CHART = {
    "birth": {
        "date": "1990-01-01",
        "time": "12:00",
        "utc": "1990-01-01T11:00:00Z",
        "place": {"name": "Berlin", "country": "DE", "latitude": 52.5, "longitude": 13.4},
    },
    "type": "generator",
    "strategy": "to_respond",
    "authority": "emotional",
    "profile": "2/4",
    "definition": "single",
    "incarnation_cross": {"angle": "right_angle", "gates": [38, 39, 48, 21]},
    "centers": {"defined": ["sacral", "root"], "open": []},
    "channels": ["9-52"],
}
TEXT = ["## Your reading\n\nThe first part, ", "then [the second] part."]


def _frame(seq: int, type_: str, data: dict[str, Any]) -> bytes:
    return f"id: {seq}\nevent: {type_}\ndata: {json.dumps(data)}\n\n".encode()


@dataclass
class Fake:
    """A stand-in for intake and status, on one port; records what the client sent."""

    key: str = "secret"
    posts: list[dict[str, Any]] = field(default_factory=list)
    stream_requests: list[dict[str, str]] = field(default_factory=list)
    pipeline_calls: int = 0
    unavailable_first: bool = True

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/readings", self.post)
        app.router.add_get("/v1/readings/{id}", self.get)
        app.router.add_get("/v1/readings/{id}/events", self.events)
        app.router.add_get("/v1/pipeline", self.rate_limited_once)
        return app

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("X-API-Key") == self.key

    async def post(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _problem(401, "Unauthorized", "send a valid API key")
        self.posts.append(
            {"key": request.headers.get("Idempotency-Key"), "body": await request.json()}
        )
        if self.unavailable_first and len(self.posts) == 1:
            return _problem(503, "Service Unavailable", "try again", retry_after="0")
        # Relative links: a server without STATUS_BASE_URL.
        return web.json_response(
            {
                "id": "r1",
                "version": 1,
                "status": "queued",
                "status_url": "/v1/readings/r1",
                "events_url": "/v1/readings/r1/events",
            },
            status=202,
        )

    async def get(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _problem(401, "Unauthorized", "send a valid API key")
        return web.json_response(
            {
                "id": "r1",
                "status": "completed",
                "progress": 100,
                "version": 1,
                "agent": "personality",
                "language": "en",
                "chart": CHART,
                "reading": {"text": "".join(TEXT)},
                "error": None,
            }
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return _problem(401, "Unauthorized", "send a valid API key")
        self.stream_requests.append(dict(request.headers))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        if len(self.stream_requests) == 1:
            await resp.write(b'retry: 10\nevent: hello\ndata: {"retry_ms": 10}\n\n')
            await resp.write(_frame(1, "reading.requested", {"version": 1}))
            await resp.write(_frame(2, "chart.calculated", {"version": 1, "chart": CHART}))
            await resp.write(_frame(3, "reading.started", {"version": 1}))
            await resp.write(
                _frame(4, "reading.delta", {"version": 1, "index": 0, "text": TEXT[0]})
            )
            await asyncio.sleep(0.3)  # long enough for the live view to draw
            return resp  # closed before the end: the client must resume after id 4
        await resp.write(_frame(5, "reading.delta", {"version": 1, "index": 1, "text": TEXT[1]}))
        await resp.write(_frame(6, "reading.generated", {"version": 1, "text": "".join(TEXT)}))
        return resp

    async def rate_limited_once(self, request: web.Request) -> web.Response:
        self.pipeline_calls += 1
        if self.pipeline_calls == 1:
            return _problem(429, "Too Many Requests", "slow down", retry_after="0")
        return web.json_response({"stages": {}, "readings_by_status": {"completed": 1}})


def _problem(status: int, title_: str, detail: str, retry_after: str | None = None) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after else None
    body = {"type": "about:blank", "title": title_, "status": status, "detail": detail}
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/problem+json",
        headers=headers,
    )


@pytest.fixture
def fake() -> Iterator[tuple[Fake, str]]:
    """The fake server on its own thread and loop (the CLI runs its own loop)."""
    state, port = Fake(), free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(state.app())
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_the_key_is_sent_and_a_503_retried_with_the_same_idempotency_key(
    fake: tuple[Fake, str],
) -> None:
    state, url = fake
    result = run(
        *signed_in(url),
        "--json",
        "submit",
        *BERLIN,
    )
    assert result.code == 0, result
    assert result.json()["events_url"] == f"{url}/v1/readings/r1/events"  # resolved
    assert len(state.posts) == 2 and state.posts[0] == state.posts[1]
    assert state.posts[0]["key"]


def test_a_missing_key_is_explained(fake: tuple[Fake, str]) -> None:
    _, url = fake
    result = run("--intake", url, "--status", url, "get", "r1")
    assert result.code == 1
    assert result.err.strip() == (
        "error: Unauthorized (401): send a valid API key - pass --api-key or set HDQ_API_KEY"
    )


def test_a_429_is_retried_after_its_retry_after(fake: tuple[Fake, str]) -> None:
    state, url = fake
    result = run("--status", url, "pipeline")
    assert result.code == 0, result
    assert state.pipeline_calls == 2
    assert "completed          1" in result.out.splitlines()


def test_watch_resumes_a_dropped_stream_and_renders_live(fake: tuple[Fake, str]) -> None:
    state, url = fake
    state.unavailable_first = False
    result = run(
        *signed_in(url),
        "submit",
        *BERLIN,
        "--watch",
        terminal=True,
    )
    assert result.code == 0, result
    assert [r.get("Last-Event-ID") for r in state.stream_requests] == [None, "4"]
    assert all(r["X-API-Key"] == "secret" for r in state.stream_requests)
    # While it ran: the stage on the bar, and the text so far in the panel.
    assert "writing the reading" in result.out and "The first part," in result.out
    # At the end: the chart summary and the whole text (markdown: no `##`, brackets kept).
    assert "Right Angle Cross (38/39 | 48/21)" in result.out
    assert "Solar Plexus" not in result.out and "Sacral, Root" in result.out
    assert "then [the second] part." in result.out
    assert "connection lost" not in result.err


def test_watch_without_a_terminal_prints_stages_then_the_result(fake: tuple[Fake, str]) -> None:
    state, url = fake
    state.unavailable_first = False
    result = run(
        *signed_in(url),
        "submit",
        *BERLIN,
        "--watch",
    )
    assert result.code == 0, result
    assert result.err.splitlines() == [
        "queued (10%)",
        "chart calculated (40%)",
        "writing the reading (60%)",
        "completed (100%)",
    ]
    out = result.out.splitlines()
    assert out[0] == "r1"
    assert out[1] == "Reading r1  v1  completed (100%)  personality/en"
    assert "Type:              Generator" in out
    assert result.out.endswith("".join(TEXT) + "\n")
