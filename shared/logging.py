"""Structured logging: structlog, JSON in production, readable on a terminal.

Context (reading_id, event_id, event_type, request_id) is bound with
`structlog.contextvars`, so every line logged while handling a reading carries
its id without passing loggers around.

Our own lines take structlog's fast path: a level-filtering logger (a call
below the level costs nothing) rendering straight to stderr, JSON through
orjson; no stdlib `LogRecord`, lock or formatter per line. That matters on the
hot path (intake logs every accepted reading). Third-party libraries log
through the stdlib; their records are rendered by the same processors, so the
output is one format either way.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson
import structlog

_SECRET_KEYS = ("api_key", "password", "authorization", "secret", "token")


_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s\"']+")  # events_url's stream token


def scrub(text: str) -> str:
    """`text` with the value of any `access_token=` (a URL's stream token) masked."""
    return _TOKEN_IN_URL.sub(r"\1***", text) if "access_token=" in text else text


def _redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Last line of defence: a key that names a secret never reaches the output, nor a
    stream token inside a URL."""
    for key, value in list(event_dict.items()):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event_dict[key] = "***"
        elif isinstance(value, str) and "access_token=" in value:
            event_dict[key] = scrub(value)
    return event_dict


class _ScrubTokens(logging.Filter):
    """Third-party records (aiohttp's access log, if ever on) lose a URL's stream token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = scrub(message), ()
        return True


def _name_logger(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    if "logger_name" in event_dict:
        event_dict["logger"] = event_dict.pop("logger_name")
    return event_dict


def _dumps(value: Any, **_: Any) -> bytes:
    return orjson.dumps(value, default=str)


def configure_logging(service: str, level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger once per process."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    numeric = logging.getLevelName(level.upper())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _name_logger,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    if use_json:
        structlog.configure(
            processors=[*shared, structlog.processors.format_exc_info,
                        structlog.processors.JSONRenderer(serializer=_dumps)],
            logger_factory=structlog.BytesLoggerFactory(sys.stderr.buffer),
            wrapper_class=structlog.make_filtering_bound_logger(numeric),
            cache_logger_on_first_use=True,
        )  # fmt: skip
    else:
        structlog.configure(
            processors=[*shared, structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())],
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(numeric),
            cache_logger_on_first_use=True,
        )
    _route_stdlib(shared, use_json, numeric)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def _route_stdlib(shared: list[Any], use_json: bool, level: int) -> None:
    """Records of third-party libraries (stdlib logging) in the same format."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.format_exc_info] if use_json else []),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_ScrubTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays at warning unless we debug.
    for noisy in ("aiohttp.access", "nats", "asyncio", "httpx", "openai", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, level))


def get_logger(name: str) -> Any:
    """A logger whose lines carry `logger=<name>` (the module)."""
    # Lazy: it takes the configuration of its first use. (`logger` itself is a
    # parameter name of structlog's, hence the detour through `_name_logger`.)
    return structlog.get_logger(logger_name=name)
