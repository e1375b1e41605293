"""Running `hdq` in-process: `main(argv)` on a worker thread, its output captured."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from hdq.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def err_json(self) -> Any:
        return json.loads(self.err)


def run(*argv: str, terminal: bool = False, width: int = 160) -> Run:
    """`hdq ARGV`; with `terminal`, stdout looks like a terminal (live rendering)."""
    out, err = io.StringIO(), io.StringIO()
    console = Console(
        file=out,
        width=width,
        height=40,
        force_terminal=terminal,
        highlight=False,
        color_system=None,
    )
    err_console = Console(file=err, width=width, highlight=False, color_system=None)
    code = main(list(argv), console=console, err_console=err_console)
    return Run(code, out.getvalue(), err.getvalue())


async def arun(*argv: str, terminal: bool = False) -> Run:
    """`run` from an async test: `main` runs its own event loop, so on another thread."""
    return await asyncio.to_thread(run, *argv, terminal=terminal)
