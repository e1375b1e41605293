"""The status service's pages: the bodygraph picture of a reading and the demo page.

- `GET /v1/readings/{id}/bodygraph.svg`: the reading's chart drawn as SVG
  (`services.status.web.bodygraph_svg`), with an ETag like `GET /v1/readings/{id}`;
  404 problem+json for an unknown reading, 409 while its chart is not computed yet
  (with `Retry-After`) or when the reading failed or was cancelled before it had a chart.
- `GET /`: the demo page; `GET /static/{name}`: its script and stylesheet, shipped in
  this package (`services/status/web/static/`), read once at start-up;
  `GET /demo-config.json`: `{"intake_url": ...}`, where the page sends its request
  (empty = the page's own origin, e.g. behind one ingress).

The page talks to the status API of its own origin (relative URLs) and to intake at
`intake_url`, which must then allow this origin by CORS (`CORS_ORIGINS` of intake).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web
from nats.js import JetStreamContext
from yarl import URL

from services.status.api.access import owns
from services.status.store.pool import Pool
from services.status.store.readings import bodygraph_row
from services.status.web.bodygraph_svg import render_bodygraph
from shared.auth import tenant_of
from shared.bus.lookup import plausible_id
from shared.etag import etag_of, matches
from shared.problem import problem, reading_not_found

SVG_CONTENT_TYPE: Final = "image/svg+xml"
STATIC_FILES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "index.html": "text/html",
        "app.js": "text/javascript",
        "app.css": "text/css",
    }
)
"""The files of `services/status/web/static/` that are served, and their content types."""
CHART_RETRY_AFTER_S: Final = "1"
RENDER_CACHE_SIZE: Final = 256


@dataclass(frozen=True, slots=True)
class Asset:
    """A file served as is: its bytes, content type and ETag."""

    body: bytes
    content_type: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """Read the page's files from the package (they are few and small)."""
    folder = resources.files("services.status.web") / "static"
    assets: dict[str, Asset] = {}
    for name, content_type in STATIC_FILES.items():
        body = (folder / name).read_bytes()
        assets[name] = Asset(body, content_type, etag_of(body))
    return assets


@functools.lru_cache(maxsize=RENDER_CACHE_SIZE)
def _render(chart_json: str) -> tuple[bytes, str]:
    """The SVG of a chart (JSON text) and its ETag; rendering is deterministic, so cached."""
    svg = render_bodygraph(json.loads(chart_json)).encode()
    return svg, etag_of(svg)


class DemoPages:
    """Routes of the bodygraph picture and the demo page.

    `intake_url` is the base URL of the intake API the page posts to (empty = the page's
    own origin). `js`, when given, is used as `StatusApi` does: a reading that is
    accepted but not projected yet gets 409 (chart not ready), never 404.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        intake_url: str = "",
        js: JetStreamContext | None = None,
        assets: Mapping[str, Asset] | None = None,
    ) -> None:
        self._pool = pool
        self._js = js
        self._intake_url = intake_url.strip().rstrip("/")
        self._assets = dict(assets) if assets is not None else load_assets()
        config = json.dumps({"intake_url": self._intake_url}).encode()
        self._config = Asset(config, "application/json", etag_of(config))
        self._page_headers = {
            "Content-Security-Policy": _content_security_policy(self._intake_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.index),
            web.get("/demo-config.json", self.demo_config),
            web.get("/static/{name}", self.static),
            web.get("/v1/readings/{id}/bodygraph.svg", self.bodygraph),
        ]

    async def index(self, request: web.Request) -> web.Response:
        return _asset_response(request, self._assets["index.html"], self._page_headers)

    async def demo_config(self, request: web.Request) -> web.Response:
        return _asset_response(request, self._config, {"X-Content-Type-Options": "nosniff"})

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        asset = self._assets.get(name) if name != "index.html" else None
        if asset is None:
            return problem(404, "Not Found", f"no file {name!r}", kind="not-found")
        return _asset_response(request, asset, {"X-Content-Type-Options": "nosniff"})

    async def bodygraph(self, request: web.Request) -> web.Response:
        reading_id = request.match_info["id"]
        if not plausible_id(reading_id):
            return reading_not_found(reading_id)
        row = await bodygraph_row(self._pool, reading_id)
        if self._js is not None and not await owns(self._js, reading_id, tenant_of(request), row):
            return reading_not_found(reading_id)  # another tenant's reading: as if it did not exist
        if row["chart"] is None:
            return self._no_chart(reading_id, row)
        svg, etag = _render(row["chart"])
        headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if matches(request, etag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=svg, content_type=SVG_CONTENT_TYPE, charset="utf-8",
                            headers=headers)  # fmt: skip

    def _no_chart(self, reading_id: str, row: Mapping[str, Any]) -> web.Response:
        if row["projected"]:
            status, error = row["status"], row["error"]
        elif self._js is None:  # without the bus only the projection could tell
            return reading_not_found(reading_id)
        else:  # `owns` found its request on the bus: not projected yet
            status, error = "queued", None
        if status == "failed":
            reason = _error_message(error)
            return problem(
                409,
                "No bodygraph",
                f"reading {reading_id!r} failed before its chart was computed"
                + (f": {reason}" if reason else ""),
                kind="chart-unavailable",
            )
        if status == "cancelled":
            return problem(
                409,
                "No bodygraph",
                f"reading {reading_id!r} was cancelled before its chart was computed",
                kind="chart-unavailable",
            )
        return problem(
            409,
            "Chart not ready",
            f"the chart of reading {reading_id!r} is not computed yet (status {status}); "
            "try again shortly",
            kind="chart-not-ready",
            headers={"Retry-After": CHART_RETRY_AFTER_S},
        )


def _asset_response(request: web.Request, asset: Asset, extra: Mapping[str, str]) -> web.Response:
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", **extra}
    if matches(request, asset.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=asset.body, content_type=asset.content_type, charset="utf-8", headers=headers
    )


def _content_security_policy(intake_url: str) -> str:
    """Only this origin's files, plus requests to intake; no inline script or style."""
    connect = "'self'"
    if intake_url:
        origin = URL(intake_url).origin()
        connect += f" {origin}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _error_message(error: str | None) -> str | None:
    if not error:
        return None
    try:
        value = json.loads(error)
    except ValueError:
        return None
    message = value.get("message") if isinstance(value, dict) else None
    return str(message) if message else None
