"""Errors the chart service reports per birth (`error.code` in SPEC section 6)."""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal["invalid_input", "place_not_found", "unknown_timezone", "date_out_of_range"]


class ChartError(Exception):
    """A birth that cannot be charted, with a stable code and a human-readable message."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """Return the `{"code", "message"}` object of an error line."""
        return {"code": self.code, "message": self.message}

    def __reduce__(self) -> tuple[type[ChartError], tuple[ErrorCode, str]]:
        """Pickle with both arguments (e.g. across a process pool)."""
        return (type(self), (self.code, self.message))
