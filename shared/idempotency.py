"""`Idempotency-Key` on commands, the same for every service that takes one.

A key names one request of one tenant; how a service stores that (intake: the
reading id derived from it; status: a fingerprint on the regenerated version)
is its own business. What is shared: the header names, what a valid key is
(the `IdempotencyKey` type the OpenAPI document shows) and the two errors: a
malformed key is a 422, a key reused for another body a 409.
"""

from __future__ import annotations

import re

from aiohttp import web

from shared.problem import invalid, problem

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"  # `true` on an answer repeated for a retry
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$"
"""1-255 printable ASCII characters, no space at either end (HTTP drops those anyway)."""
_KEY = re.compile(KEY_PATTERN)


def key_of(request: web.Request) -> tuple[str | None, web.Response | None]:
    """(the request's key or None, a 422 when the key is malformed)."""
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.fullmatch(key):
        return None, invalid([{"field": HEADER,
                               "message": "must be 1-255 printable ASCII characters, "
                                          "no space at either end"}])  # fmt: skip
    return key, None


def reused_for_another_body() -> web.Response:
    """409: the key was used before, for a request with a different body.

    The body is valid; what it conflicts with is the key's earlier request (state, as for
    any 409), so it is no 422: a 422 says the request itself is wrong."""
    return problem(
        409, "Conflict",
        "an Idempotency-Key names one request: send a new key for a different body",
        kind="idempotency-key-reused",
        errors=[{"field": HEADER, "message": "already used for a request with a different body"}],
    )  # fmt: skip
