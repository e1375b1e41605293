"""The NATS server's tags from its Kubernetes node: `python -m shared.bus.server_tags`.

A pod cannot read its node's labels through the downward API, so the NATS
StatefulSet runs this as an init container (the pipeline's own image): it asks
the Kubernetes API for the node (`GET /api/v1/nodes/<name>`, with the pod's
projected service-account token; the ClusterRole `hd-nats-node-reader` allows
exactly that) and writes `server_tags: ["az:<zone>"]` for nats.conf to include.
JetStream's `unique_tag: "az:"` then puts each replica of a stream in another
zone. A node without the zone label gets `az:unknown` (and a warning), so a
cluster without zones fails R3 placement loudly instead of placing replicas in
one zone silently.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import urllib.request
from pathlib import Path

ZONE_LABEL = "topology.kubernetes.io/zone"
TAG_PREFIX = "az:"  # = jetstream { unique_tag } in nats.conf
SA = Path("/var/run/secrets/kubernetes.io/serviceaccount")
API = "https://kubernetes.default.svc"


def tags_conf(labels: dict[str, str]) -> str:
    """The NATS config line naming the node's zone (`az:unknown` without the label)."""
    zone = labels.get(ZONE_LABEL) or "unknown"
    return f"server_tags: [{json.dumps(TAG_PREFIX + zone)}]\n"


def node_labels(node: str, api: str = API, sa: Path = SA, timeout_s: float = 10) -> dict[str, str]:
    """The node's labels, read with the service account's token and the cluster's CA."""
    request = urllib.request.Request(  # noqa: S310 - a fixed https URL
        f"{api}/api/v1/nodes/{node}",
        headers={"Authorization": f"Bearer {(sa / 'token').read_text().strip()}"},
    )
    context = ssl.create_default_context(cafile=str(sa / "ca.crt"))
    with urllib.request.urlopen(request, timeout=timeout_s, context=context) as resp:  # noqa: S310
        labels = json.load(resp)["metadata"].get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.bus.server_tags", description=__doc__)
    parser.add_argument("--node", required=True, help="the node's name (spec.nodeName)")
    parser.add_argument("--out", required=True, type=Path, help="the file to write")
    args = parser.parse_args(argv)
    labels = node_labels(args.node)
    if ZONE_LABEL not in labels:
        print(f"node {args.node} has no {ZONE_LABEL} label: tagging az:unknown", file=sys.stderr)
    text = tags_conf(labels)
    args.out.write_text(text)
    print(f"wrote {args.out}: {text.strip()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
