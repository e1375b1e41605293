"""`make run`'s dev gateway: the public API of intake and status on one origin.

`python -m shared.gateway` (the launcher starts it) listens on `GATEWAY_PORT`
(8000) and sends each public request to the service the routing table names
(`shared/routes.py`, the same table the Kubernetes HTTPRoute and Ingress
follow), on 127.0.0.1 at `INTAKE_PORT` / `STATUS_PORT`. Several replicas of a
service share its port, so the gateway is the same with `make cluster`.

As a proxy it passes the method, the path and query, the body (streamed) and
the headers except the hop-by-hop ones; it sets `X-Forwarded-For`, `-Proto`
and `-Host`, so intake links to this origin (`TRUSTED_PROXIES`). The answer
is streamed back as it arrives: an SSE stream flows frame by frame, with no
read timeout (a rule's whole-request bound is the HTTPRoute's: 30 s, the
stream 1 h). A service that cannot be reached is a `502`, one that does not
answer in time a `504`, both `application/problem+json`; a path the table does
not route is a `404`, as at the Kubernetes edge. The gateway answers
`/healthz`, `/readyz` and `/metrics` itself.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from shared.forwarded import X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO
from shared.http import add_ops_routes
from shared.logging import configure_logging, get_logger
from shared.metrics import HTTP_REQUESTS
from shared.problem import problem
from shared.routes import Rule, route
from shared.settings import GatewaySettings, load_settings

log = get_logger(__name__)

SERVICE = "gateway"
CONNECT_TIMEOUT_S = 5.0
# RFC 9110 7.6.1: meaningful for one connection only, never passed on (plus what the
# Connection header names). Expect: aiohttp answers 100-continue to the client itself.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
     "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)  # fmt: skip
NOT_FORWARDED = HOP_BY_HOP | {"host", "expect"}  # the client session sets Host for the upstream
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

UPSTREAMS = web.AppKey("upstreams", dict[str, URL])
SESSION = web.AppKey("session", aiohttp.ClientSession)


def gateway_app(settings: GatewaySettings) -> web.Application:
    app = web.Application(handler_args={"max_field_size": 16_384})
    app[UPSTREAMS] = {
        "intake": URL(f"http://127.0.0.1:{settings.intake_port}"),
        "status": URL(f"http://127.0.0.1:{settings.status_port}"),
    }
    app.cleanup_ctx.append(_client_session)
    add_ops_routes(app, [])
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


async def _client_session(app: web.Application) -> AsyncIterator[None]:
    # One pool for every upstream connection, kept alive between requests; no cap on
    # connections (each SSE stream holds one), no decompression (bytes pass as they are).
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=15)
    async with aiohttp.ClientSession(
        connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        app[SESSION] = session
        yield


async def proxy(request: web.Request) -> web.StreamResponse:
    path = _without_dot_segments(request.path)
    rule = route(request.method, path, request.headers)
    method = request.method if request.method in METHODS else "other"
    if rule is None:
        HTTP_REQUESTS.labels(SERVICE, "unmatched", method, "404").inc()
        return problem(404, "Not Found", f"{path} is not part of the public API", kind="not-found")
    status = 502
    try:
        resp = await _exchange(request, rule, path)
        status = resp.status
        return resp
    finally:
        HTTP_REQUESTS.labels(SERVICE, rule.name, method, str(status)).inc()


async def _exchange(request: web.Request, rule: Rule, path: str) -> web.StreamResponse:
    """Ask the rule's service, and answer with what it says (or 502 / 504)."""
    timeout = aiohttp.ClientTimeout(
        total=rule.timeout_s, sock_connect=CONNECT_TIMEOUT_S, sock_read=None
    )
    started = time.perf_counter()
    try:
        upstream = await request.app[SESSION].request(
            request.method,
            request.app[UPSTREAMS][rule.service].join(_target(request, path)),
            headers=_request_headers(request),
            data=request.content if request.body_exists else None,
            timeout=timeout,
            allow_redirects=False,
        )
    except aiohttp.ClientConnectorError as exc:
        log.warning("upstream unreachable", service=rule.service, path=path, error=str(exc))
        return problem(502, "Bad Gateway", f"{rule.service} is not reachable; try again",
                       kind="upstream-unavailable", headers={"Retry-After": "1"})  # fmt: skip
    except TimeoutError:
        log.warning("upstream timed out", service=rule.service, path=path,
                    after_s=round(time.perf_counter() - started, 3))  # fmt: skip
        return problem(504, "Gateway Timeout", f"{rule.service} did not answer in time",
                       kind="upstream-timeout")  # fmt: skip
    except aiohttp.ClientError as exc:
        log.warning("upstream failed", service=rule.service, path=path, error=repr(exc))
        return problem(502, "Bad Gateway", f"{rule.service} did not answer; try again",
                       kind="upstream-unavailable", headers={"Retry-After": "1"})  # fmt: skip
    async with upstream:  # releases the connection; one not read to its end is closed
        return await _stream_back(request, upstream, rule)


async def _stream_back(
    request: web.Request, upstream: aiohttp.ClientResponse, rule: Rule
) -> web.StreamResponse:
    """Send the upstream's answer on as it arrives: each piece is written when it comes."""
    resp = web.StreamResponse(status=upstream.status, reason=upstream.reason,
                              headers=_response_headers(upstream.headers))  # fmt: skip
    if upstream.content_length is not None:
        resp.content_length = upstream.content_length
    await resp.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await resp.write(chunk)
    except ConnectionResetError:
        return resp  # the client went away; leaving closes the upstream connection too
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Too late for an error status: end the answer and the connection.
        log.warning("upstream answer cut", service=rule.service, error=repr(exc))
        resp.force_close()
        return resp
    await resp.write_eof()
    return resp


def _target(request: web.Request, path: str) -> URL:
    """The path and query to ask the upstream for: as the client sent them, unless dot
    segments had to be resolved (then the path the table routed)."""
    raw = request.raw_path
    if raw.startswith("/") and path == request.path:
        return URL(raw, encoded=True)
    query = raw.partition("?")[2]
    return URL(quote(path) + (f"?{query}" if query else ""), encoded=True)


def _without_dot_segments(path: str) -> str:
    """`/v1/readings/../metrics` -> `/metrics`: route what the upstream would serve."""
    if "." not in path:
        return path
    out: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    return "/" + "/".join(out)


def _connection_tokens(headers: CIMultiDictProxy[str]) -> set[str]:
    return {t.strip().lower() for v in headers.getall("Connection", []) for t in v.split(",")}


def _request_headers(request: web.Request) -> CIMultiDict[str]:
    drop = NOT_FORWARDED | _connection_tokens(request.headers)
    headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in drop)
    peer = request.remote or ""
    before = ", ".join(request.headers.getall(X_FORWARDED_FOR, []))
    headers[X_FORWARDED_FOR] = f"{before}, {peer}" if before else peer
    headers[X_FORWARDED_PROTO] = request.scheme
    headers[X_FORWARDED_HOST] = request.host
    return headers


def _response_headers(upstream: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    drop = HOP_BY_HOP | {"content-length"} | _connection_tokens(upstream)
    return CIMultiDict((k, v) for k, v in upstream.items() if k.lower() not in drop)


def main() -> int:
    settings = load_settings(GatewaySettings)
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    log.info("gateway listening", port=settings.gateway_port, intake_port=settings.intake_port,
             status_port=settings.status_port)  # fmt: skip
    web.run_app(
        gateway_app(settings),
        host=settings.http_host,
        port=settings.gateway_port,
        access_log=None,
        print=None,
        shutdown_timeout=2.0,
        handler_cancellation=True,  # a client that leaves ends its upstream request at once
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
