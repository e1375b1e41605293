"""The chart CLI: `python -m services.chart compute`, line for line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import services.chart.__main__ as chart_main
from services.chart import birth_moment
from services.chart.cli import compute, parse_line
from services.chart.compute import compute_chart
from services.chart.errors import ChartError
from shared.events.birth import BirthInput
from shared.events.chart import Chart

ROOT = Path(__file__).resolve().parents[2]
MONTREAL = {"latitude": 45.5017, "longitude": -73.5673, "name": "Montreal"}
WHEAT_RIDGE = {"latitude": 39.7661, "longitude": -105.0772}


def line(**fields: Any) -> bytes:
    """One JSONL input line."""
    return json.dumps(fields).encode() + b"\n"


def good(**extra: Any) -> bytes:
    """A birth that charts (Montreal unless a place is given)."""
    return line(**{"date": "1948-04-09", "time": "00:14", "place": MONTREAL, **extra})


def parse_output(out: bytes) -> list[dict[str, Any]]:
    """Every output line as JSON (each must be one object)."""
    assert out.endswith(b"\n")
    return [json.loads(text) for text in out.decode().split("\n")[:-1]]


def outcome(result: dict[str, Any]) -> tuple[str | None, str]:
    """(id, "chart" or the error code) of one output line."""
    return result.get("id"), result["error"]["code"] if "error" in result else "chart"


# --- end to end, as a subprocess ---------------------------------------------------------

CASES: list[tuple[bytes, tuple[str | None, str]]] = [
    (good(id="ra"), ("ra", "chart")),
    (b'{"id": "broken", "date": \n', (None, "invalid_input")),  # not JSON
    (b"\n", (None, "invalid_input")),  # a blank line still gets its output line
    (good(id="feb30", date="1990-02-30"), ("feb30", "invalid_input")),  # validation error
    (good(id="tz", timezone="Mars/Olympus_Mons"), ("tz", "unknown_timezone")),
    (good(id="lost", place={"name": "Xyzzy Nowhereville"}), ("lost", "place_not_found")),
    (good(id="old", date="1799-12-31"), ("old", "date_out_of_range")),
    (good(date="2016-07-10", time="11:00", place=WHEAT_RIDGE), (None, "chart")),  # no id
    (good(id="late", date="2200-01-01"), ("late", "date_out_of_range")),
    (good(id="e", date="2016-07-10", time="11:00", place=WHEAT_RIDGE), ("e", "chart")),
]


@pytest.fixture(scope="module")
def cli_run() -> subprocess.CompletedProcess[bytes]:
    """Run the CLI once on every case, in batches of 3 so errors straddle batch boundaries."""
    return subprocess.run(
        [sys.executable, "-m", "services.chart", "compute", "--batch-size", "3"],
        input=b"".join(raw for raw, _ in CASES),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_cli_exits_0_with_one_output_line_per_input_line(
    cli_run: subprocess.CompletedProcess[bytes],
) -> None:
    assert cli_run.returncode == 0, cli_run.stderr.decode()
    results = parse_output(cli_run.stdout)
    assert [outcome(r) for r in results] == [expected for _, expected in CASES]
    assert b"charts: 3, errors: 7" in cli_run.stderr


def test_cli_lines_have_the_contract_shape(cli_run: subprocess.CompletedProcess[bytes]) -> None:
    results = parse_output(cli_run.stdout)
    for (raw, _), result in zip(CASES, results, strict=True):
        if "error" in result:
            assert list(result) == ["id", "error"]
            assert set(result["error"]) == {"code", "message"} and result["error"]["message"]
            continue
        chart = Chart.model_validate(result)
        assert ("id" in result) == (chart.id is not None)
        assert chart == compute_chart(BirthInput.model_validate_json(raw))
        assert chart.type is not None and chart.incarnation_cross is not None


# --- in process: parsing and error codes -------------------------------------------------


def test_unknown_timezone_is_the_code_only_when_the_zone_is_the_only_problem() -> None:
    alone = parse_line(good(id="a", timezone="Nowhere/Zone"))
    assert isinstance(alone.birth, ChartError) and alone.birth.code == "unknown_timezone"
    assert alone.id == "a" and "Nowhere/Zone" in alone.birth.message
    mixed = parse_line(good(id="b", timezone="Nowhere/Zone", time="25:00"))
    assert isinstance(mixed.birth, ChartError) and mixed.birth.code == "invalid_input"
    assert "time:" in mixed.birth.message and "timezone:" in mixed.birth.message
    not_a_name = parse_line(good(id="c", timezone=5))
    assert isinstance(not_a_name.birth, ChartError) and not_a_name.birth.code == "invalid_input"


@pytest.mark.parametrize(
    ("raw", "line_id"),
    [
        (b"\xff\xfe{}\n", None),  # not UTF-8
        (b"   \r\n", None),  # blank
        (b'{"id": "n", "date": "1990-01-01", "time": "12:00", "place": {"latitude": NaN}}', None),
        (b'["a", "list"]\n', None),
        (b'"a string"\n', None),
        (good(id=5), None),  # the id is not a string
        (good(id="x" * 201), None),  # the id itself is invalid
        (good(id="extra", planet="Mars"), "extra"),
        (good(id="noplace", place={}), "noplace"),
        (good(id="half", place={"latitude": 10}), "half"),
        (good(id="badoffset", utc_offset="+5"), "badoffset"),
    ],
)
def test_invalid_input(raw: bytes, line_id: str | None) -> None:
    parsed = parse_line(raw)
    assert isinstance(parsed.birth, ChartError)
    assert (parsed.id, parsed.birth.code) == (line_id, "invalid_input")


def test_line_endings_and_byte_order_mark_are_accepted() -> None:
    for raw in (
        good(id="a").rstrip(b"\n"),
        good(id="a")[:-1] + b"\r\n",
        b"\xef\xbb\xbf" + good(id="a"),
    ):
        parsed = parse_line(raw)
        assert isinstance(parsed.birth, BirthInput) and parsed.id == "a"


def test_no_zone_at_the_coordinates_is_unknown_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other source of unknown_timezone: the computation finds no zone at the place.
    class NoZones:
        def timezone_at(self, *, lng: float, lat: float) -> None:
            return None

    monkeypatch.setattr(birth_moment, "_timezone_finder", NoZones)
    sink = io.BytesIO()
    totals = compute(io.BytesIO(good(id="sea") + good(id="pinned", utc_offset="-05:00")), sink)
    sea, pinned = parse_output(sink.getvalue())
    assert outcome(sea) == ("sea", "unknown_timezone")
    # An explicit offset needs no zone: the chart is computed, with timezone null.
    assert outcome(pinned) == ("pinned", "chart") and pinned["birth"]["timezone"] is None
    assert (totals.charts, totals.errors) == (1, 1)


def test_alignment_across_batches_and_a_last_line_without_newline() -> None:
    lines = [good(id=str(i), time=f"{i:02d}:00") if i % 3 else b"{oops\n" for i in range(7)]
    sink = io.BytesIO()
    compute(io.BytesIO(b"".join(lines).rstrip(b"\n")), sink, batch_size=2)
    results = parse_output(sink.getvalue())
    assert [outcome(r) for r in results] == [
        (None, "invalid_input") if i % 3 == 0 else (str(i), "chart") for i in range(7)
    ]


# --- the entry point -----------------------------------------------------------------------


def test_no_arguments_runs_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(chart_main, "run_service", lambda name, *a, **k: calls.append(name))
    chart_main.main([])
    assert calls == ["chart"]


def test_help_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        chart_main.main(["--help"])
    assert done.value.code == 0
    assert "usage: python -m services.chart" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        chart_main.main(["compute", "--batch-size", "0"])
    assert done.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
