"""Three (or more) embedded NATS servers clustered on loopback: JetStream in production shape.

Each node has its own store under `root/<name>`, its own client, route and
monitoring ports, and routes to every node (itself included: the server
skips it). The cluster is ready when every running node knows the JetStream
meta leader, so streams at R3 can be created at once. A node can be killed
and started again alone; it rejoins with its store and catches up.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from shared.embedded.nats_server import ClusterMembership, EmbeddedNats
from shared.embedded.process import free_port

CLUSTER_NAME = "hd"


class EmbeddedNatsCluster:
    """`size` clustered `nats-server -js` nodes named n1..nN, on loopback."""

    def __init__(
        self,
        root: Path,
        client_ports: Sequence[int] | None = None,
        route_ports: Sequence[int] | None = None,
        monitor_ports: Sequence[int] | None = None,
        *,
        size: int = 3,
        config_file: Path | None = None,
    ) -> None:
        client_ports = list(client_ports or [free_port() for _ in range(size)])
        route_ports = list(route_ports or [free_port() for _ in range(size)])
        monitor_ports = list(monitor_ports or [free_port() for _ in range(size)])
        if not len(client_ports) == len(route_ports) == len(monitor_ports) == size:
            raise ValueError(f"give {size} client, route and monitor ports")
        self.root = root
        routes = tuple(f"nats://127.0.0.1:{p}" for p in route_ports)
        self.nodes = [
            EmbeddedNats(
                root / f"n{i + 1}",
                client_ports[i],
                server_name=f"n{i + 1}",
                cluster=ClusterMembership(CLUSTER_NAME, route_ports[i], routes),
                monitor_port=monitor_ports[i],
                config_file=config_file,
            )
            for i in range(size)
        ]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated (`NATS_URL`): clients fail over between them."""
        return ",".join(node.url for node in self.nodes)

    @property
    def store_dir(self) -> Path:
        return self.root

    def node(self, server_name: str) -> EmbeddedNats:
        for node in self.nodes:
            if node.server_name == server_name:
                return node
        raise KeyError(f"no node named {server_name!r}")

    def start(self, timeout_s: float = 60.0) -> None:
        for node in self.nodes:
            if not node.running:
                node.start()
        self.wait_meta_leader(timeout_s)

    def start_node(self, server_name: str, timeout_s: float = 60.0) -> None:
        """Start one (killed or stopped) node again; return once it knows the meta leader."""
        self.node(server_name).start()
        self.wait_meta_leader(timeout_s)

    def wait_meta_leader(self, timeout_s: float = 60.0) -> str:
        """Wait until every running node names the same JetStream meta leader; return it."""
        deadline = time.monotonic() + timeout_s
        seen: set[str | None] = set()
        while time.monotonic() < deadline:
            seen = {meta_leader(n) for n in self.nodes if n.running}
            if len(seen) == 1 and None not in seen:
                return str(seen.pop())
            time.sleep(0.1)
        raise RuntimeError(f"no JetStream meta leader within {timeout_s:.0f}s (nodes saw {seen})")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()


def meta_leader(node: EmbeddedNats) -> str | None:
    """The JetStream meta leader as `node` sees it (its monitoring `/jsz`), or None."""
    if node.monitor_port is None:
        return None
    try:
        url = f"http://127.0.0.1:{node.monitor_port}/jsz"
        with urllib.request.urlopen(url, timeout=1) as resp:
            info = json.load(resp)
    except (OSError, ValueError):
        return None
    leader = (info.get("meta_cluster") or {}).get("leader")
    return str(leader) if leader else None
