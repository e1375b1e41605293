"""The offline provider: a reading composed from the chart and the knowledge base."""

from __future__ import annotations

from services.reader.offline import OFFLINE_MODEL, compose
from services.reader.providers.base import Generation, TextSink
from shared.events.chart import Chart
from shared.events.reading_generated import Usage


class OfflineProvider:
    name = "offline"
    model = OFFLINE_MODEL

    async def generate(
        self, chart: Chart, agent: str, language: str, on_text: TextSink, *, call_id: str
    ) -> Generation:
        # `call_id` names a call to a remote provider; composing here calls nobody.
        text = compose(chart, agent, language)
        await on_text(text)
        return Generation(text=text, model=self.model, usage=Usage(), composed_offline=True)

    async def close(self) -> None:
        return None
