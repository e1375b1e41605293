"""What `hdq` prints: rich tables and live progress on a terminal, plain lines otherwise."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from hdq.errors import ApiError, HdqError

STATUS_LABEL = {
    "queued": "queued",
    "chart_ready": "chart calculated",
    "generating": "writing the reading",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}
STATUS_STYLE = {"completed": "green", "failed": "red", "cancelled": "yellow"}
_UPPER = {"g": "G"}  # center names that are letters, not words

Cell = str | Text


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console for stdout (or stderr); off a terminal, wide enough not to wrap tables."""
    stream = file or (sys.stderr if stderr else sys.stdout)
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(file=file, stderr=stderr, highlight=False, width=width)


def title(value: Any) -> str:
    """`to_respond` -> `To Respond`, `solar_plexus` -> `Solar Plexus`, `g` -> `G`."""
    if value is None or value == "":
        return "-"
    text = str(value)
    return _UPPER.get(text) or " ".join(w[:1].upper() + w[1:] for w in text.split("_"))


def cross(value: Any) -> str:
    """The incarnation cross: `Right Angle Cross (38/39 | 48/21)`."""
    if not isinstance(value, Mapping):
        return "-"
    gates = [str(g) for g in value.get("gates") or []]
    angle = title(value.get("angle"))
    if len(gates) == 4:
        return f"{angle} Cross ({gates[0]}/{gates[1]} | {gates[2]}/{gates[3]})"
    return f"{angle} Cross ({', '.join(gates)})" if gates else f"{angle} Cross"


def chart_rows(chart: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The chart summary as (label, value) pairs."""
    centers = chart.get("centers") if isinstance(chart.get("centers"), Mapping) else {}
    defined = [title(c) for c in (centers or {}).get("defined") or []]
    channels = [str(c) for c in chart.get("channels") or []]
    birth = chart.get("birth") if isinstance(chart.get("birth"), Mapping) else None
    rows = []
    if birth:
        place = birth.get("place") or {}
        where = ", ".join(str(p) for p in (place.get("name"), place.get("country")) if p)
        if not where and place.get("latitude") is not None:
            where = f"{place.get('latitude')}, {place.get('longitude')}"
        rows.append(
            (
                "Birth",
                f"{birth.get('date')} {birth.get('time')} {where}".strip()
                + f" (UTC {birth.get('utc')})",
            )
        )
    rows += [
        ("Type", title(chart.get("type"))),
        ("Strategy", title(chart.get("strategy"))),
        ("Authority", title(chart.get("authority"))),
        ("Profile", str(chart.get("profile") or "-")),
        ("Definition", title(chart.get("definition"))),
        ("Incarnation cross", cross(chart.get("incarnation_cross"))),
        ("Defined centers", ", ".join(defined) if defined else "none"),
        ("Channels", ", ".join(channels) if channels else "none"),
    ]
    return rows


def chart_summary(chart: Mapping[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in chart_rows(chart):
        grid.add_row(label, Text(value))
    return grid


class Output:
    """Where the results go: `out` (stdout) and `err` (stderr); live rendering on a TTY."""

    def __init__(self, out: Console, err: Console, *, as_json: bool) -> None:
        self.out, self.err, self.as_json = out, err, as_json
        self.live = out.is_terminal and not as_json

    # -- generic -----------------------------------------------------------------------

    def json(self, value: Any) -> None:
        self.out.out(json.dumps(value, indent=2, ensure_ascii=False), highlight=False)

    def line(self, text: str) -> None:
        self.out.out(text, highlight=False)

    def info(self, text: str) -> None:
        """A hint for a person (stderr, so stdout stays the result)."""
        if not self.as_json:
            self.err.print(Text(text, style="dim"))

    def error(self, exc: HdqError) -> None:
        if self.as_json:
            body: dict[str, Any] = (
                exc.as_json() if isinstance(exc, ApiError) else {"message": str(exc)}
            )
            self.err.out(json.dumps({"error": body}, ensure_ascii=False), highlight=False)
            return
        self.err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)  # one line
        if isinstance(exc, ApiError):
            for fe in exc.errors:
                self.err.print(Text.assemble("  ", (fe.field, "bold"), f": {fe.message}"))

    # -- readings ----------------------------------------------------------------------

    def reading(self, reading: Mapping[str, Any], *, show_text: bool = True) -> None:
        """A reading: its state, the chart summary, the text (or what went wrong)."""
        if self.as_json:
            self.json(reading)
            return
        status = str(reading.get("status"))
        head = Text.assemble(
            ("Reading ", "bold"),
            (str(reading.get("id")), "bold"),
            f"  v{reading.get('version', 1)}  ",
            (f"{status} ({reading.get('progress', 0)}%)", STATUS_STYLE.get(status, "cyan")),
            f"  {reading.get('agent') or '-'}/{reading.get('language') or '-'}",
        )
        self.out.print(head)
        error = reading.get("error")
        if isinstance(error, Mapping):
            self.out.print(
                Text.assemble(
                    (f"{status}: ", "bold red"),
                    f"{error.get('code', 'error')}: {error.get('message', '')}"
                    + (f" (stage {error['stage']})" if error.get("stage") else ""),
                )
            )
        chart = reading.get("chart")
        if isinstance(chart, Mapping):
            self.out.print()
            if self.live:
                self.out.print(chart_summary(chart))
            else:
                for label, value in chart_rows(chart):
                    self.line(f"{label + ':':<19}{value}")
        body = reading.get("reading")
        if show_text and isinstance(body, Mapping) and body.get("text"):
            self.out.print()
            self.text(str(body["text"]))

    def text(self, text: str) -> None:
        if self.live:
            self.out.print(Markdown(text))
        else:
            self.out.out(text, highlight=False)

    def readings_table(self, page: Mapping[str, Any]) -> None:
        if self.as_json:
            self.json(page)
            return
        rows: list[list[Cell]] = []
        for item in page.get("items") or []:
            if not isinstance(item, Mapping):
                continue
            status = str(item.get("status"))
            rows.append([
                _cell(item.get("id")), Text(status, style=STATUS_STYLE.get(status, "")),
                f"{item.get('progress', 0)}%", _cell(item.get("agent")),
                _cell(item.get("language")), _when(item.get("created_at")),
            ])  # fmt: skip
        if rows:
            self.table(None, ["id", "status", "progress", "agent", "language", "created"], rows)
        else:
            self.info("no readings")
        if page.get("next_cursor"):
            self.info(f"more: --cursor {page['next_cursor']}")

    def pipeline(self, stats: Mapping[str, Any]) -> None:
        if self.as_json:
            self.json(stats)
            return
        stages = stats.get("stages")
        rows: list[list[Cell]] = []
        for name, s in stages.items() if isinstance(stages, Mapping) else []:
            if not isinstance(s, Mapping):
                continue
            if s.get("available", True):
                counts = ("pending", "in_flight", "redelivered", "waiting_pulls")
                rows.append([name, _cell(s.get("consumer")), *(_cell(s.get(k)) for k in counts),
                             _cell(s.get("dead"))])  # fmt: skip
            else:
                rows.append([name, _cell(s.get("consumer")), Text("unavailable", style="red"),
                             "-", "-", "-", _cell(s.get("dead"))])  # fmt: skip
        headers = ["stage", "consumer", "pending", "in flight", "redelivered", "waiting", "dead"]
        self.table("Stages", headers, rows)

        by_status = stats.get("readings_by_status")
        rows = [
            [Text(str(status), style=STATUS_STYLE.get(str(status), "")), _cell(n)]
            for status, n in (sorted(by_status.items()) if isinstance(by_status, Mapping) else [])
        ]
        rows.append(["unreadable events", _cell(stats.get("dead_letters_unreadable", 0))])
        self.table("Readings", ["status", "count"], rows)

        d = stats.get("durations_s")
        if isinstance(d, Mapping):
            rows = [
                [stage, _cell(d.get(f"{stage}_p50")), _cell(d.get(f"{stage}_p95"))]
                for stage in ("chart", "reader", "total")
            ]
            title_ = (f"Durations, last {d.get('window_minutes', '?')} min "
                      f"({d.get('readings', 0)} readings)")  # fmt: skip
            self.table(title_, ["stage", "p50 (s)", "p95 (s)"], rows)

    def table(self, title_: str | None, headers: list[str], rows: list[list[Cell]]) -> None:
        """A rich table on a terminal; aligned plain columns otherwise (easy to grep and cut)."""
        if self.live:
            if title_:
                self.out.print(Text(title_, style="bold"))
            table = Table(*headers, box=box.ROUNDED)
            for column in table.columns:
                column.no_wrap = True
            for row in rows:
                table.add_row(*row)
            self.out.print(table)
            return
        cells = [headers, *[[str(c) for c in row] for row in rows]]
        widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
        if title_:
            self.line(title_)
        for r in cells:
            self.line("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if title_:
            self.line("")


def _when(value: Any) -> Text:
    """A timestamp to the second (ISO 8601)."""
    try:
        return Text(datetime.fromisoformat(str(value)).replace(microsecond=0).isoformat())
    except ValueError:
        return _cell(value)


def _cell(value: Any) -> Text:
    return Text("-" if value is None else str(value))


# -- following a reading ---------------------------------------------------------------


class LiveObserver:
    """A progress bar named after the stage, and the text as it is written (a terminal)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task = self._progress.add_task(STATUS_LABEL["queued"], total=100, completed=0)
        self._text = ""
        self._live = Live(
            console=console, refresh_per_second=8, transient=True, get_renderable=self._render
        )

    def __enter__(self) -> LiveObserver:
        self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._live.stop()

    def stage(self, status: str, progress: int) -> None:
        self._progress.update(
            self._task, completed=progress, description=STATUS_LABEL.get(status, status)
        )

    def text(self, text: str) -> None:
        self._text = text

    def note(self, message: str) -> None:
        self._console.print(Text(message, style="dim"))

    def _render(self) -> RenderableType:
        parts: list[RenderableType] = [self._progress]
        if self._text:
            width = max(self._console.width - 4, 20)
            room = max(self._console.height - 6, 3)
            lines = Text(self._text).wrap(self._console, width)
            tail = Text("\n").join(list(lines)[-room:])
            parts.append(Panel(tail, box=box.ROUNDED, border_style="dim", padding=(0, 1)))
        return Group(*parts)


class PlainObserver:
    """One line per stage on stderr (not a terminal: no live rendering)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last: tuple[str, int] | None = None

    def stage(self, status: str, progress: int) -> None:
        if (status, progress) != self._last:
            self._last = (status, progress)
            self._console.out(f"{STATUS_LABEL.get(status, status)} ({progress}%)", highlight=False)

    def text(self, text: str) -> None:
        pass  # printed once, complete, at the end

    def note(self, message: str) -> None:
        self._console.out(message, highlight=False)


class QuietObserver:
    """`--json`: nothing but the final document."""

    def stage(self, status: str, progress: int) -> None:
        pass

    def text(self, text: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass
