"""What can go wrong talking to the API, and the exit code each case gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # the reading failed or was cancelled, or the API refused the request
EXIT_USAGE = 2  # bad arguments, or the API rejected the input (422 naming each field)
EXIT_UNREACHABLE = 3  # no connection, a timeout, or the service is unavailable (503)
EXIT_INTERRUPTED = 130  # Ctrl-C


class HdqError(Exception):
    exit_code: int = EXIT_FAILED


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(HdqError):
    """An HTTP error answer; `application/problem+json` fields when the server sent them."""

    status: int
    title: str
    url: str
    detail: str | None = None
    kind: str | None = None  # the last segment of the problem `type` (`validation`, ...)
    errors: list[FieldError] = field(default_factory=list)
    retry_after_s: float | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if self.status in (400, 413, 422):
            self.exit_code = EXIT_USAGE
        elif self.status in (502, 503, 504):
            self.exit_code = EXIT_UNREACHABLE

    @property
    def message(self) -> str:
        text = f"{self.title} ({self.status})"
        if self.detail:
            text += f": {self.detail}"
        if self.status == 401:
            text += " - pass --api-key or set HDQ_API_KEY"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "title": self.title,
            "kind": self.kind,
            "detail": self.detail,
            "url": self.url,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class Unreachable(HdqError):
    """No answer: the connection was refused, dropped or timed out."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, service: str, url: str, reason: str) -> None:
        self.service, self.url, self.reason = service, url, reason
        super().__init__(f"cannot reach the {service} service at {url}: {reason}")


class UsageError(HdqError):
    exit_code = EXIT_USAGE
