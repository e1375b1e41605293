"""Strong ETags and `If-None-Match`, for every answer that can be a `304`."""

from __future__ import annotations

import hashlib

from aiohttp import web


def etag_of(body: bytes) -> str:
    """A strong ETag of `body` (a digest: the same bytes, the same tag on every replica)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches(request: web.Request, etag: str) -> bool:
    """Whether the client already has `etag` (`If-None-Match`, weak tags compared too)."""
    header = request.headers.get("If-None-Match", "")
    return etag in {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
