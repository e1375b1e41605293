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


def call_id_for(reading_id: str, version: int) -> str:
    """The id a reading's LLM call is sent with: `<reading_id>:v<version>`."""
    return f"{reading_id}:v{version}"


class Provider(Protocol):
    name: str
    model: str

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink, *, call_id: str
    ) -> Generation:
        """Write the reading; call `on_text` with each chunk as it is written.

        `call_id` names the call to the provider (`<reading_id>:v<version>`, see
        `call_id_for`), so its own logs tell which reading a call was for and how
        many calls one reading cost. Raises `Transient` for failures worth retrying
        and `Permanent` for the rest.
        """
        ...

    async def close(self) -> None: ...
