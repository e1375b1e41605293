"""Which service answers each public path: the one routing table of the public API.

The Kubernetes edge (`deploy/k8s/components/gateway-api/httproute.yaml` in prod,
`components/ingress` in dev) and `make run`'s dev gateway (`shared/gateway.py`)
route the same requests to the same service; `tests/deploy/test_edge_routes.py`
renders the manifests and checks them against this table.

The rules are the HTTPRoute's, in its terms and its order, and `route()` picks
among them as the Gateway API does: an Exact path first, then a
RegularExpression one (Envoy Gateway's ranking; where it is implementation-
specific, the SSE rule's second match covers the other ranking), then the
longest PathPrefix, then a method match, then the most header matches; on a
tie the first rule. A request no rule takes is not public (the edge answers
404): `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, `/docs`, the demo
page, `/v1/pipeline` and `/v1/dead-letters` stay with each service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PathKind = Literal["Exact", "PathPrefix", "RegularExpression"]
Service = Literal["intake", "status"]

ORDINARY_TIMEOUT_S = 30.0  # the slowest ordinary call: a POST waiting out a NATS election
STREAM_TIMEOUT_S = 3600.0  # an SSE stream; clients resume a cut one with Last-Event-ID


@dataclass(frozen=True)
class Match:
    """One way a request matches a rule: its path, and optionally its method and headers."""

    kind: PathKind
    path: str
    method: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, exact value)
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind == "RegularExpression":
            object.__setattr__(self, "_regex", re.compile(self.path))

    def matches(self, method: str, path: str, headers: Mapping[str, str]) -> bool:
        if self.method is not None and self.method != method:
            return False
        if any(headers.get(name) != value for name, value in self.headers):
            return False
        if self.kind == "Exact":
            return path == self.path
        if self.kind == "PathPrefix":
            want = _segments(self.path)
            return _segments(path)[: len(want)] == want
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def rank(self) -> tuple[int, int, bool, int]:
        """Gateway API precedence: higher wins."""
        kind = {"Exact": 2, "RegularExpression": 1, "PathPrefix": 0}[self.kind]
        length = len(self.path) if self.kind == "PathPrefix" else 0
        return kind, length, self.method is not None, len(self.headers)


@dataclass(frozen=True)
class Rule:
    """Requests any of `matches` takes go to `service`, within `timeout_s` in all."""

    name: str  # a short label (metrics, logs)
    service: Service
    matches: tuple[Match, ...]
    timeout_s: float = ORDINARY_TIMEOUT_S


RULES: tuple[Rule, ...] = (
    # A new reading, and its CORS preflight (the only OPTIONS asking for POST here).
    Rule("new-reading", "intake", (
        Match("Exact", "/v1/readings", "POST"),
        Match("Exact", "/v1/readings", "OPTIONS", (("Access-Control-Request-Method", "POST"),)),
    )),
    # The SSE stream: long-lived. The second match is for implementations that rank
    # RegularExpression paths below PathPrefix ones (every EventSource sends the header).
    Rule("events", "status", (
        Match("RegularExpression", r"^/v1/readings/[^/]+/events$", "GET"),
        Match("PathPrefix", "/v1/readings", "GET", (("Accept", "text/event-stream"),)),
    ), timeout_s=STREAM_TIMEOUT_S),
    # Everything else about readings (the list, a reading, its bodygraph, regenerate,
    # cancel) and a user's erasure.
    Rule("readings", "status", (
        Match("PathPrefix", "/v1/readings"),
        Match("PathPrefix", "/v1/users"),
    )),
)  # fmt: skip


def route(method: str, path: str, headers: Mapping[str, str] | None = None) -> Rule | None:
    """The rule that takes a request, or None: not public. `path` without the query;
    `headers` looked up by their exact names (pass a case-insensitive mapping)."""
    sent = headers if headers is not None else {}
    best: tuple[tuple[int, int, bool, int], Rule] | None = None
    for rule in RULES:
        for m in rule.matches:
            if m.matches(method, path, sent) and (best is None or m.rank() > best[0]):
                best = (m.rank(), rule)
    return best[1] if best else None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]
