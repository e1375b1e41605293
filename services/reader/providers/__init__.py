"""Reading providers behind one small interface; `select_provider` picks one from settings."""

from __future__ import annotations

from services.reader.limiter import SharedLimiter
from services.reader.providers.base import Generation, Provider, TextSink, call_id_for
from services.reader.providers.offline_provider import OfflineProvider
from services.reader.providers.openai_provider import OpenAIProvider
from shared.settings import ReaderSettings

__all__ = [
    "Generation",
    "OfflineProvider",
    "OpenAIProvider",
    "Provider",
    "TextSink",
    "call_id_for",
    "select_provider",
]


def select_provider(settings: ReaderSettings, limiter: SharedLimiter | None = None) -> Provider:
    """`openai` when a key is set (or forced), otherwise the offline composer."""
    choice = settings.reader_provider
    if choice == "auto":
        choice = "openai" if settings.openai_api_key else "offline"
    if choice == "openai":
        return OpenAIProvider(settings, limiter)
    return OfflineProvider()
