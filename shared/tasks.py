"""Stopping a background task for sure."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None, retry_s: float = 0.5) -> None:
    """Cancel `task` and return once it has ended.

    A cancel can be lost: on Python 3.11, `asyncio.wait_for` (nats-py's requests use it)
    swallows a cancel that arrives as its awaitable completes, and a loop would run on.
    So the task is cancelled again until it is done.
    """
    while task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=retry_s)
    if task is not None and not task.cancelled():
        with contextlib.suppress(Exception):
            task.exception()  # retrieved: a failure was logged where it happened
