"""X-Forwarded-*: what a proxy in front of a service says about the client's request.

A proxy (`make run`'s gateway, `shared/gateway.py`) sets `X-Forwarded-For`,
`X-Forwarded-Proto` and `X-Forwarded-Host`. A service believes them only from a
peer in `TRUSTED_PROXIES`: anyone else could name any host, and intake's links
would point there.
"""

from __future__ import annotations

import ipaddress
import re

from aiohttp import web

X_FORWARDED_FOR = "X-Forwarded-For"
X_FORWARDED_PROTO = "X-Forwarded-Proto"
X_FORWARDED_HOST = "X-Forwarded-Host"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# host or [ipv6], and an optional port: nothing that could break out of a URL.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """`127.0.0.1,10.0.0.0/8` -> networks; ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def forwarded_origin(request: web.Request, trusted: tuple[Network, ...]) -> str | None:
    """`proto://host` the client used, as a trusted proxy tells it; None if it does not."""
    if not trusted or not _from_trusted_peer(request, trusted):
        return None
    host = request.headers.get(X_FORWARDED_HOST, "").split(",")[0].strip()
    proto = request.headers.get(X_FORWARDED_PROTO, "http").split(",")[0].strip().lower()
    if not _HOST.fullmatch(host) or proto not in ("http", "https"):
        return None
    return f"{proto}://{host}"


def _from_trusted_peer(request: web.Request, trusted: tuple[Network, ...]) -> bool:
    peer = request.remote
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False  # a Unix socket
    return any(address in net for net in trusted)
