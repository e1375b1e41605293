"""The provider interface: write a reading for a chart, streaming text as it comes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from shared.events.chart import Chart
from shared.events.reading_generated import Usage

TextSink = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Generation:
    text: str
    model: str
    usage: Usage
    composed_offline: bool


class Provider(Protocol):
    name: str
    model: str

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink
    ) -> Generation:
        """Write the reading; call `on_text` with each chunk as it is written.

        Raises `Transient` for failures worth retrying and `Permanent` for the rest.
        """
        ...

    async def close(self) -> None: ...
