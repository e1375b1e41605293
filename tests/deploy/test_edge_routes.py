"""One routing table for the public API (shared/routes.py): `make run`'s gateway follows
it, and the rendered Kubernetes edge routes the same requests the same way: prod's
HTTPRoute rule for rule, dev's Ingress path for path (except where it cannot see the
method)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from multidict import CIMultiDict

from shared import routes
from tests.deploy.checks import httproute_backend, httproute_rule, ingress_backend
from tests.deploy.conftest import find, one
from tests.deploy.test_k8s_manifests import NOT_PUBLIC, PUBLIC_API

Docs = list[dict[str, Any]]

METHODS = ("GET", "HEAD", "POST", "DELETE", "PUT", "OPTIONS")
PATHS = sorted(
    {path for _, path, _ in PUBLIC_API}
    | set(NOT_PUBLIC)
    | {"/v1/readings", "/v1/readings/", "/v1/readingsX", "/v1/users", "/v1/users/u1",
       "/v1/readings/r1/events/more", "/v1/readings/r1/bodygraph.svg", "/v2/readings"}
)  # fmt: skip
HEADER_SETS: tuple[dict[str, str], ...] = (
    {},
    {"Accept": "text/event-stream"},
    {"Accept": "application/json"},
    {"Access-Control-Request-Method": "POST", "Origin": "https://app.example"},
    {"Access-Control-Request-Method": "DELETE", "Origin": "https://app.example"},
)


def table_service(method: str, path: str, headers: dict[str, str]) -> str | None:
    rule = routes.route(method, path.partition("?")[0], CIMultiDict(headers))
    return None if rule is None else rule.service


def seconds(duration: str) -> float:
    """A Gateway API Duration (`30s`, `1h`, `1h30m`, `500ms`) in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?", duration)
    assert parts and duration, f"not a Duration: {duration!r}"
    h, m, s, ms = (int(p or 0) for p in parts.groups())
    return h * 3600 + m * 60 + s + ms / 1000


def as_table(route: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The HTTPRoute's rules in the table's terms: service, port, matches, timeout."""
    out = []
    for rule in route["spec"]["rules"]:
        (backend,) = rule["backendRefs"]
        timeouts = rule["timeouts"]
        assert timeouts["request"] == timeouts["backendRequest"], timeouts
        matches = [
            (m["path"]["type"], m["path"]["value"], m.get("method"),
             tuple((h["name"], h["value"]) for h in m.get("headers", [])))
            for m in rule["matches"]
        ]  # fmt: skip
        kinds = {h.get("type", "Exact") for m in rule["matches"] for h in m.get("headers", [])}
        assert kinds <= {"Exact"}, "the table knows Exact header matches only"
        out.append((backend["name"], backend["port"], matches, seconds(timeouts["request"])))
    return out


def test_the_httproute_is_the_table_rule_for_rule(overlays: dict[str, Docs]) -> None:
    route = one(overlays["prod"], "HTTPRoute", "hd-api")
    ports = {"intake": 8080, "status": 8081}
    want: list[tuple[Any, ...]] = [
        (rule.service, ports[rule.service],
         [(m.kind, m.path, m.method, m.headers) for m in rule.matches], rule.timeout_s)
        for rule in routes.RULES
    ]  # fmt: skip
    assert as_table(route) == want


@pytest.mark.parametrize("regex_above_prefix", [True, False], ids=["regex-first", "prefix-first"])
def test_the_httproute_and_the_table_send_each_request_to_one_service(
    overlays: dict[str, Docs], regex_above_prefix: bool
) -> None:
    """The table's own precedence (routes.route) against an independent simulation of the
    Gateway API's, on every method, path and header set, with either regex ranking."""
    route = one(overlays["prod"], "HTTPRoute", "hd-api")
    for method in METHODS:
        for path in PATHS:
            for headers in HEADER_SETS:
                edge = httproute_backend(route, method, path, headers,
                                         regex_above_prefix=regex_above_prefix)  # fmt: skip
                assert table_service(method, path, headers) == edge, (method, path, headers)


def test_the_gateway_times_a_request_out_as_the_httproute_does(overlays: dict[str, Docs]) -> None:
    """Same rule, same bound: the SSE stream's 1 h, every other call's 30 s (regex-first,
    the ranking the table takes)."""
    route = one(overlays["prod"], "HTTPRoute", "hd-api")
    for method in METHODS:
        for path in PATHS:
            for headers in HEADER_SETS:
                edge = httproute_rule(route, method, path, headers)
                ours = routes.route(method, path.partition("?")[0], CIMultiDict(headers))
                if edge is None:
                    assert ours is None
                    continue
                assert ours is not None
                assert ours.timeout_s == seconds(edge["timeouts"]["request"]), (method, path)


def test_the_ingress_routes_each_path_as_the_table_but_for_its_known_gap(
    overlays: dict[str, Docs],
) -> None:
    """An Ingress sees no method: every call on the exact path /v1/readings reaches intake.
    The table sends only `POST` (and its preflight) there; that difference is the whole
    gap (ingress.yaml, README), and it may only shrink."""
    (ingress,) = find(overlays["dev"], "Ingress")
    gap = set()
    for method in METHODS:
        for path in PATHS:
            for headers in HEADER_SETS:
                ours = table_service(method, path, headers)
                if ingress_backend(ingress, path) != ours:
                    gap.add((method, path.partition("?")[0], ours))
    assert gap <= {(m, "/v1/readings", "status") for m in METHODS if m != "POST"}, gap
    assert table_service("POST", "/v1/readings", {}) == ingress_backend(ingress, "/v1/readings")


def test_the_table_routes_nothing_but_the_public_api() -> None:
    for method in METHODS:
        for path in NOT_PUBLIC:
            assert routes.route(method, path, CIMultiDict()) is None, f"{method} {path}"
