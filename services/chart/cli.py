"""The chart CLI: `python -m services.chart compute < births.jsonl > charts.jsonl`.

One birth per input line (SPEC section 6, `BirthInput`), one output line per input line in
the same order: the chart, or `{"id": ..., "error": {"code": ..., "message": ...}}`.
Lines are charted in batches through `compute_charts`, the service's own code path. A line
that cannot be charted never stops the run, and the exit status is 0 however many failed.

Error codes:

- `invalid_input`: a blank line, bytes that are not UTF-8, text that is not JSON (NaN and
  Infinity included), JSON that is not an object, or an object `BirthInput` rejects.
- `unknown_timezone`: `timezone` names no IANA zone. `BirthInput` checks the name when it
  validates the line; the CLI reports that check under this code when it is the line's only
  problem. The chart computation raises it too when no zone is found at the coordinates.
- `place_not_found`: `place` has a name the offline gazetteer does not know.
- `date_out_of_range`: the date is outside 1800-01-01 to 2199-12-31, the range the service
  supports (`shared.events.birth.FIRST_SUPPORTED_DATE` and `LAST_SUPPORTED_DATE`).

`id` is echoed on error lines whenever it could be read (a string that passed validation),
else it is null. Chart lines carry `id` only when the input gave one; every other field of
the chart contract is always present.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO, Final, NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from services.chart.compute import compute_charts
from services.chart.errors import ChartError
from shared.events.birth import BirthInput
from shared.events.chart import Chart

PROG: Final = "python -m services.chart"
DEFAULT_BATCH_SIZE: Final = 256


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One input line: the id it echoes (if readable) and its birth or why it has none."""

    id: str | None
    birth: BirthInput | ChartError


@dataclass(slots=True)
class Totals:
    """How many lines were charted and how many failed."""

    charts: int = 0
    errors: int = 0


def _reject_constant(name: str) -> NoReturn:
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _field_error_message(error: ErrorDetails) -> str:
    """One pydantic error as `field: message` (a validator's own words for value errors)."""
    where = ".".join(str(part) for part in error["loc"]) or "line"
    context: dict[str, Any] = error.get("ctx") or {}
    reason = context.get("error") if error["type"] == "value_error" else None
    return f"{where}: {reason if reason is not None else error['msg']}"


def validation_error(exc: ValidationError) -> ChartError:
    """Map a `BirthInput` validation error to `unknown_timezone` or `invalid_input`."""
    errors = exc.errors()
    message = "; ".join(_field_error_message(e) for e in errors)
    if errors and all(e["loc"] == ("timezone",) and e["type"] == "value_error" for e in errors):
        return ChartError("unknown_timezone", message)
    return ChartError("invalid_input", message)


def parse_line(raw: bytes) -> ParsedLine:
    """Parse one JSONL line (with or without its line break) into a birth or an error."""
    try:
        text = raw.rstrip(b"\r\n").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedLine(None, ChartError("invalid_input", f"line is not UTF-8: {exc.reason}"))
    if not text.strip():
        return ParsedLine(None, ChartError("invalid_input", "blank line; expected a JSON object"))
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        message = f"line is not valid JSON: {exc.msg} at character {exc.pos + 1}"
        return ParsedLine(None, ChartError("invalid_input", message))
    except ValueError as exc:
        return ParsedLine(None, ChartError("invalid_input", f"line is not valid JSON: {exc}"))
    if not isinstance(data, dict):
        return ParsedLine(None, ChartError("invalid_input", "line is not a JSON object"))
    line_id = data.get("id")
    try:
        birth = BirthInput.model_validate(data)
    except ValidationError as exc:
        id_ok = isinstance(line_id, str) and not any(e["loc"][:1] == ("id",) for e in exc.errors())
        return ParsedLine(line_id if id_ok else None, validation_error(exc))
    return ParsedLine(birth.id, birth)


def chart_line(chart: Chart) -> bytes:
    """A chart as one output line (no `id` key when the input gave none)."""
    exclude = {"id"} if chart.id is None else None
    return chart.model_dump_json(exclude=exclude).encode() + b"\n"


def error_line(line_id: str | None, error: ChartError) -> bytes:
    """An error as one output line."""
    body = {"id": line_id, "error": error.as_dict()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def compute_batch(lines: Sequence[bytes]) -> list[tuple[str | None, Chart | ChartError]]:
    """Chart a batch of input lines: (id to echo, chart or error) per line, in order."""
    parsed = [parse_line(raw) for raw in lines]
    charts = iter(compute_charts([p.birth for p in parsed if isinstance(p.birth, BirthInput)]))
    return [
        (line.id, next(charts) if isinstance(line.birth, BirthInput) else line.birth)
        for line in parsed
    ]


def output_line(line_id: str | None, result: Chart | ChartError) -> bytes:
    """The output line of one result."""
    return error_line(line_id, result) if isinstance(result, ChartError) else chart_line(result)


def batches(lines: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    """Split an iterable into lists of at most `size` items, reading lazily."""
    iterator = iter(lines)
    while batch := list(islice(iterator, size)):
        yield batch


def compute(source: BinaryIO, sink: BinaryIO, batch_size: int = DEFAULT_BATCH_SIZE) -> Totals:
    """Chart every line of `source` into `sink`, writing (and flushing) batch by batch."""
    totals = Totals()
    for batch in batches(source, batch_size):
        results = compute_batch(batch)
        sink.writelines(output_line(line_id, result) for line_id, result in results)
        sink.flush()
        failed = sum(isinstance(result, ChartError) for _, result in results)
        totals.errors += failed
        totals.charts += len(results) - failed
    return totals


def _positive(text: str) -> int:
    """argparse type: a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m services.chart`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Without a command, run the chart service (consumes reading.requested "
        "from NATS). With `compute`, chart births from standard input.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    compute_parser = commands.add_parser(
        "compute",
        help="chart JSONL births from stdin to stdout",
        description="Read one birth per line (JSON, SPEC section 6) from standard input and "
        "write one line per input line to standard output: the chart, or "
        '{"id": ..., "error": {"code": ..., "message": ...}}. Exits 0 even when lines fail.',
    )
    compute_parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"lines charted together (default {DEFAULT_BATCH_SIZE})",
    )
    compute_parser.add_argument(
        "--quiet", action="store_true", help="do not print the summary to standard error"
    )
    return parser


def run_compute(args: argparse.Namespace) -> int:
    """`compute`: stdin -> stdout; returns the exit status."""
    try:
        totals = compute(sys.stdin.buffer, sys.stdout.buffer, args.batch_size)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as other Unix filters do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    if not args.quiet:
        print(f"charts: {totals.charts}, errors: {totals.errors}", file=sys.stderr)
    return 0
