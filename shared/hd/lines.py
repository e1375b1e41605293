"""The six lines of a gate (SPEC section 2): a line is 0.9375 degrees of the wheel."""

from __future__ import annotations

from typing import Final

LINES: Final[tuple[int, ...]] = (1, 2, 3, 4, 5, 6)
"""The line numbers, 1 to 6."""
