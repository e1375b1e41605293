"""CORS for an aiohttp API: which browser origins may call it (Fetch standard).

`cors_middleware(origins)` answers preflight requests (`OPTIONS` with `Origin` and
`Access-Control-Request-Method`) itself and adds `Access-Control-Allow-Origin` to the
responses of allowed origins. It allows exactly the listed origins (`scheme://host[:port]`,
no path; `*` allows any origin), the methods and request headers given, exposes the
response headers given (`Location` by default, so a page can read where the new
resource is) and sends no credentials headers: the API takes no cookies.

A preflight from an origin, for a method or with a header that is not allowed gets
`403` problem+json naming what was refused, and no CORS headers, so the browser blocks
the request; a preflight for a path the app does not serve passes through (404). A
request from an origin that is not allowed is served as usual but without CORS headers,
so the browser does not let the page read the answer.

Put it first in the middleware list, outside error handling, so that error responses
(4xx/5xx problem+json) carry the CORS headers too and a page can show their details.
A streamed answer (SSE) sends its headers before the handler returns: add
`cors_on_prepare` to the app's `on_response_prepare` so those carry them too (a page on
another origin can then follow `EventSource(events_url)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from shared.problem import problem

DEFAULT_METHODS: Final = ("GET", "HEAD", "POST")
DEFAULT_HEADERS: Final = ("Content-Type",)
DEFAULT_EXPOSE: Final = ("Location",)
DEFAULT_MAX_AGE_S: Final = 600

# The CORS headers of this request's answer, added by `cors_on_prepare` as it is prepared.
_DECORATE: Final = web.RequestKey[Callable[[web.StreamResponse], None]]("cors_decorate")


def normalize_origin(origin: str) -> str:
    """`HTTP://Example.com:8080/` -> `http://example.com:8080` (how browsers send it)."""
    return origin.strip().rstrip("/").lower()


def cors_middleware(
    origins: Iterable[str],
    *,
    methods: Iterable[str] = DEFAULT_METHODS,
    headers: Iterable[str] = DEFAULT_HEADERS,
    expose: Iterable[str] = DEFAULT_EXPOSE,
    max_age_s: int = DEFAULT_MAX_AGE_S,
) -> Middleware:
    """A middleware allowing `origins` (e.g. `IntakeSettings.cors_origin_list`)."""
    allowed = frozenset(normalize_origin(o) for o in origins if o.strip())
    any_origin = "*" in allowed
    allowed_methods = tuple(dict.fromkeys(m.upper() for m in methods))
    allowed_headers = tuple(dict.fromkeys(h.strip() for h in headers if h.strip()))
    allowed_header_keys = frozenset(h.lower() for h in allowed_headers)
    exposed = ", ".join(dict.fromkeys(h.strip() for h in expose if h.strip()))

    def origin_allowed(origin: str) -> bool:
        return bool(origin) and (any_origin or normalize_origin(origin) in allowed)

    def allow_origin_value(origin: str) -> str:
        return "*" if any_origin else origin

    def refuse(detail: str) -> web.Response:
        return problem(403, "Forbidden", detail, kind="cors-refused", headers={"Vary": "Origin"})

    def preflight(request: web.Request, origin: str) -> web.StreamResponse | None:
        method = request.headers[hdrs.ACCESS_CONTROL_REQUEST_METHOD].strip().upper()
        route_methods = _route_methods(request)
        if route_methods is None:
            return None  # not a path this app serves: let the router answer 404
        if not origin_allowed(origin):
            return refuse(f"origin {origin!r} is not allowed to call this API")
        if method not in allowed_methods or method not in route_methods:
            return refuse(f"method {method} is not allowed here")
        requested = [
            h.strip()
            for h in request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS, "").split(",")
            if h.strip()
        ]
        refused = [h for h in requested if h.lower() not in allowed_header_keys]
        if refused:
            return refuse(f"request header(s) {', '.join(refused)} not allowed")
        response_headers = {
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: allow_origin_value(origin),
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: ", ".join(allowed_methods),
            hdrs.ACCESS_CONTROL_MAX_AGE: str(max_age_s),
            hdrs.VARY: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        if allowed_headers:
            response_headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ", ".join(allowed_headers)
        return web.Response(status=204, headers=response_headers)

    def decorate(response: web.StreamResponse, origin: str) -> None:
        if not response.prepared:  # else a streamed response: done when it was prepared
            add_headers(response, origin)

    def add_headers(response: web.StreamResponse, origin: str) -> None:
        _add_vary(response, "Origin")
        if origin_allowed(origin):
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = allow_origin_value(origin)
            if exposed:
                response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = exposed

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN, "")
        if (
            origin
            and request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        ):
            answer = preflight(request, origin)
            if answer is not None:
                return answer
        request[_DECORATE] = lambda response: add_headers(response, origin)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            decorate(exc, origin)
            raise
        decorate(response, origin)
        return response

    return cors


async def cors_on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """`app.on_response_prepare` hook: the CORS headers on a streamed answer too, which
    sends its headers before the middleware sees it."""
    decorate = request.get(_DECORATE)
    if decorate is not None:
        decorate(response)


def _route_methods(request: web.Request) -> frozenset[str] | None:
    """The methods the matched path answers, or None when no route has this path."""
    match = request.match_info
    exc = match.http_exception
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return frozenset(m.upper() for m in exc.allowed_methods)
    if exc is not None or match.route is None:
        return None
    return frozenset({match.route.method.upper()})


def _add_vary(response: web.StreamResponse, value: str) -> None:
    current = response.headers.get(hdrs.VARY, "")
    names = [v.strip() for v in current.split(",") if v.strip()]
    if value.lower() not in {n.lower() for n in names}:
        response.headers[hdrs.VARY] = ", ".join([*names, value])
