"""`hdq`: submit a birth, follow the reading as it is written, list, inspect the pipeline.

Exit codes: 0 done (a watched reading completed), 1 the reading failed or was
cancelled or the API refused the request, 2 bad arguments or input the API
rejected (each field named), 3 the service could not be reached (or answered
503), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from hdq.client import DEFAULT_INTAKE_URL, DEFAULT_STATUS_URL, Accepted, Client
from hdq.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    HdqError,
    UsageError,
)
from hdq.render import LiveObserver, Output, PlainObserver, QuietObserver, make_console
from hdq.watch import Observer, follow
from shared.states import TERMINAL_STATUSES

AGENTS = "personality, business, relationship, crisis"
LANGUAGES = "en, de"
PRIORITIES = "normal, high"


class _Parser(argparse.ArgumentParser):
    """Usage errors raise instead of exiting, so `main` returns the code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `--utc-offset -04:00` is a value, like `--lon -73.5`, not an unknown option.
        self._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d\d?:\d\d$")

    def error(self, message: str) -> Any:  # argparse declares NoReturn
        raise UsageError(f"{self.prog}: {message}")


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {value!r}")
    return seconds


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after the command name."""

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    g = parser.add_argument_group("connection and output")
    g.add_argument(
        "--intake",
        metavar="URL",
        default=default(os.environ.get("HDQ_INTAKE_URL", DEFAULT_INTAKE_URL)),
        help=f"intake API (env HDQ_INTAKE_URL, default {DEFAULT_INTAKE_URL})",
    )
    g.add_argument(
        "--status",
        metavar="URL",
        default=default(os.environ.get("HDQ_STATUS_URL", DEFAULT_STATUS_URL)),
        help=f"status API (env HDQ_STATUS_URL, default {DEFAULT_STATUS_URL})",
    )
    g.add_argument(
        "--api-key",
        metavar="KEY",
        default=default(os.environ.get("HDQ_API_KEY")),
        help="API key, sent as X-API-Key (env HDQ_API_KEY)",
    )
    g.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="machine-readable output: one JSON document on stdout",
    )
    g.add_argument(
        "--timeout",
        metavar="S",
        type=_seconds,
        default=default(30.0),
        help="seconds one HTTP request may take (default 30)",
    )


def _watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--watch",
        "-w",
        action="store_true",
        help="follow it live until it ends; exit 0 only when it completes",
    )
    parser.add_argument(
        "--max-wait",
        metavar="S",
        type=_seconds,
        help="with --watch: give up after S seconds (exit 1)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hdq",
        description="Human Design readings from the command line, over the HTTP APIs.",
        epilog="exit codes: 0 ok, 1 failed/cancelled/refused, 2 usage or invalid input, "
        "3 service unreachable",
    )
    _global_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _global_options(p, defaults=False)
        return p

    p = command("submit", "submit a birth for a reading; prints its id")
    birth = p.add_argument_group("birth")
    birth.add_argument("--date", required=True, help="local date, YYYY-MM-DD")
    birth.add_argument("--time", required=True, help="local wall time, HH:MM or HH:MM:SS")
    birth.add_argument("--place", metavar="NAME", help="place name, resolved by the service")
    birth.add_argument("--country", metavar="CC", help="with --place: ISO country code (DE)")
    birth.add_argument("--lat", type=float, metavar="DEG", help="latitude, north positive")
    birth.add_argument("--lon", type=float, metavar="DEG", help="longitude, east positive")
    birth.add_argument("--timezone", metavar="ZONE", help="IANA zone (from the place if unset)")
    birth.add_argument("--utc-offset", metavar="+HH:MM", help="pin the UTC offset")
    p.add_argument("--agent", help=f"reading agent: {AGENTS} (server default personality)")
    p.add_argument("--language", help=f"{LANGUAGES} (server default en)")
    p.add_argument("--priority", help=f"{PRIORITIES} (server default normal; high: allowed "
                   "tenants only)")  # fmt: skip
    p.add_argument("--user-id", help="the user the reading belongs to (for `hdq list`)")
    p.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="repeat a submit safely: the same key gives the same reading",
    )
    _watch_options(p)

    p = command("get", "show a reading: state, chart summary, text")
    p.add_argument("id")
    _watch_options(p)

    p = command("list", "list a user's readings, newest first")
    p.add_argument("--user-id", required=True)
    p.add_argument("--limit", type=int, metavar="N", help="at most N (1-100, default 20)")
    p.add_argument("--cursor", help="the next page, as printed after a full page")

    command("pipeline", "the pipeline at a glance: queues per stage, readings, durations")

    p = command("regenerate", "write a reading again (a new version)")
    p.add_argument("id")
    p.add_argument("--agent", help=f"another agent: {AGENTS}")
    p.add_argument("--language", help=f"another language: {LANGUAGES}")
    p.add_argument("--priority", help=f"of the new version: {PRIORITIES} (default normal)")
    _watch_options(p)

    p = command("cancel", "cancel a reading that has not finished")
    p.add_argument("id")
    return parser


def birth_request(args: argparse.Namespace) -> dict[str, Any]:
    """The `POST /v1/readings` body from the submit options (the service validates values)."""
    has_place = args.place is not None
    has_coords = args.lat is not None or args.lon is not None
    if has_place and has_coords:
        raise UsageError("give --place NAME or --lat/--lon, not both")
    if not has_place and not has_coords:
        raise UsageError("give the place of birth: --place NAME [--country CC] or --lat and --lon")
    if has_coords and (args.lat is None or args.lon is None):
        raise UsageError("--lat and --lon go together")
    if args.country and not has_place:
        raise UsageError("--country narrows --place; it needs --place")
    place: dict[str, Any] = (
        {"name": args.place} if has_place else {"latitude": args.lat, "longitude": args.lon}
    )
    if args.country:
        place["country"] = args.country
    birth: dict[str, Any] = {"date": args.date, "time": args.time, "place": place}
    if args.timezone:
        birth["timezone"] = args.timezone
    if args.utc_offset:
        birth["utc_offset"] = args.utc_offset
    body: dict[str, Any] = {"birth": birth}
    for key in ("agent", "language", "priority", "user_id"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    return body


def main(
    argv: Sequence[str] | None = None,
    *,
    console: Console | None = None,
    err_console: Console | None = None,
) -> int:
    """Run one command; the exit code (the console script passes it to `sys.exit`)."""
    out = Output(console or make_console(), err_console or make_console(stderr=True), as_json=False)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        out.error(UsageError(f"{exc} (see hdq --help)"))
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    out.as_json = bool(args.json)
    out.live = out.out.is_terminal and not out.as_json
    state = _State()
    try:
        return asyncio.run(_run(args, out, state))
    except HdqError as exc:
        out.error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        out.err.print("interrupted", highlight=False, markup=False)
        if state.reading_id:
            out.err.print(
                f"the reading goes on: hdq get {state.reading_id} --watch",
                highlight=False,
                markup=False,
            )
        return EXIT_INTERRUPTED


class _State:
    reading_id: str | None = None


async def _run(args: argparse.Namespace, out: Output, state: _State) -> int:
    async with Client(args.intake, args.status, args.api_key, timeout_s=args.timeout) as client:
        match args.command:
            case "submit":
                body = birth_request(args)
                accepted = await client.submit(body, args.idempotency_key)
                state.reading_id = accepted.id
                return await _accepted(client, out, accepted, args)
            case "get":
                state.reading_id = args.id
                reading = await client.get(args.id)
                if args.watch and str(reading.get("status")) not in TERMINAL_STATUSES:
                    _announce(out, args.id)
                    reading = await _watch(
                        client, out, args.id, int(reading.get("version") or 1), None, args.max_wait
                    )
                out.reading(reading)
                return _outcome(reading)
            case "list":
                page = await client.list_readings(args.user_id, args.limit, args.cursor)
                out.readings_table(page)
                return EXIT_OK
            case "pipeline":
                out.pipeline(await client.pipeline())
                return EXIT_OK
            case "regenerate":
                state.reading_id = args.id
                accepted = await client.regenerate(
                    args.id, args.agent, args.language, args.priority
                )
                return await _accepted(client, out, accepted, args)
            case "cancel":
                answer = await client.cancel(args.id)
                if out.as_json:
                    out.json(answer)
                else:
                    version = answer.get("version")
                    out.line(
                        f"{answer.get('id', args.id)} {answer.get('status', 'cancelled')}"
                        + (f" (v{version})" if version else "")
                    )
                return EXIT_OK
    raise UsageError(f"unknown command {args.command!r}")  # argparse prevents this


async def _accepted(
    client: Client, out: Output, accepted: Accepted, args: argparse.Namespace
) -> int:
    if not args.watch:
        if out.as_json:
            out.json(
                {
                    **accepted.raw,
                    "status_url": accepted.status_url,
                    "events_url": accepted.events_url,
                }
            )
        else:
            out.line(accepted.id)
            if out.live:
                out.info(f"follow it: hdq get {accepted.id} --watch")
        return EXIT_OK
    _announce(out, accepted.id)
    reading = await _watch(
        client, out, accepted.id, accepted.version, accepted.events_url, args.max_wait
    )
    out.reading(reading)
    return _outcome(reading)


async def _watch(
    client: Client,
    out: Output,
    reading_id: str,
    version: int,
    events_url: str | None,
    max_wait_s: float | None,
) -> dict[str, Any]:
    observer: Observer
    try:
        async with asyncio.timeout(max_wait_s):
            if out.live:
                with LiveObserver(out.out) as live:
                    return await follow(
                        client, reading_id, version=version, events_url=events_url, observer=live
                    )
            observer = QuietObserver() if out.as_json else PlainObserver(out.err)
            return await follow(
                client, reading_id, version=version, events_url=events_url, observer=observer
            )
    except TimeoutError:
        raise HdqError(
            f"still not finished after {max_wait_s:g} s; it goes on: hdq get {reading_id} --watch"
        ) from None


def _announce(out: Output, reading_id: str) -> None:
    """Before following: the id first (stdout off a terminal, so a script can take it)."""
    if out.live:
        out.info(f"reading {reading_id}")
    elif not out.as_json:
        out.line(reading_id)


def _outcome(reading: dict[str, Any]) -> int:
    """0 unless the reading failed or was cancelled (its rendering says why)."""
    return EXIT_FAILED if reading.get("status") in ("failed", "cancelled") else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
