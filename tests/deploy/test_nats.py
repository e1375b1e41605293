"""deploy/k8s NATS at production grade: the chart's probes, memory, zones, users, TLS.

The users and their permissions in the NATS config are shared/bus/permissions.py's
rendering, byte for byte; tests/e2e/test_nats_auth.py shows those permissions are
enough for each service and refuse the rest.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from shared.bus import permissions, server_tags
from tests.deploy.conftest import OVERLAYS, SERVICES, configmap_data, effective_env, find, one
from tests.deploy.test_bus_names import quantity

Docs = list[dict[str, Any]]
GO_SIZE = {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def nats_pod(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = one(docs, "StatefulSet", "nats")["spec"]["template"]["spec"]
    return spec


def container(pod: dict[str, Any], name: str, init: bool = False) -> dict[str, Any]:
    (found,) = [c for c in pod["initContainers" if init else "containers"] if c["name"] == name]
    return dict(found)


def config(docs: Docs) -> dict[str, str]:
    return dict(one(docs, "ConfigMap", "nats-config")["data"])


def mount_of(pod: dict[str, Any], c: dict[str, Any], path: str) -> dict[str, Any]:
    """The volume mounted in container `c` at the folder holding `path`."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    for m in c["volumeMounts"]:
        if PurePosixPath(path).parent == PurePosixPath(m["mountPath"]):
            return dict(volumes[m["name"]])
    raise AssertionError(f"{c['name']}: nothing mounted for {path}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_probes_are_the_charts(overlays: dict[str, Docs], overlay: str) -> None:
    nats = container(nats_pod(overlays[overlay]), "nats")
    # Startup waits for this node's streams and consumers to catch up: no query.
    assert nats["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert nats["readinessProbe"]["httpGet"]["path"] == "/healthz?js-server-only=true"
    assert nats["livenessProbe"]["httpGet"]["path"] == "/healthz?js-enabled-only=true"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert nats[probe]["httpGet"]["port"] == "monitor"
    startup = nats["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "time to catch up"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gomemlimit_sits_below_the_memory_limit(overlays: dict[str, Docs], overlay: str) -> None:
    nats = container(nats_pod(overlays[overlay]), "nats")
    env = {e["name"]: e.get("value") for e in nats["env"]}
    m = re.fullmatch(r"(\d+)(KiB|MiB|GiB)", str(env.get("GOMEMLIMIT")))
    assert m, f"GOMEMLIMIT {env.get('GOMEMLIMIT')!r}: a Go size (KiB, MiB, GiB)"
    go_limit = int(m.group(1)) * GO_SIZE[m.group(2)]
    limit = quantity(nats["resources"]["limits"]["memory"])
    assert 0.8 * limit <= go_limit <= 0.9 * limit, f"GOMEMLIMIT {go_limit} vs limit {limit}"
    if overlay == "prod":  # no eviction for memory the node promised
        assert nats["resources"]["requests"]["memory"] == nats["resources"]["limits"]["memory"]


def test_the_accounts_are_the_permissions_module(overlays: dict[str, Docs]) -> None:
    for docs in overlays.values():
        data = config(docs)
        assert data["accounts.conf"] == permissions.accounts_conf(), (
            "accounts.conf differs from shared/bus/permissions.py: paste "
            "`python -m shared.bus.permissions` into deploy/k8s/base/nats.yaml"
        )
        assert "include ./accounts.conf" in data["nats.conf"]
        nats = container(nats_pod(docs), "nats")
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in nats["env"]
                if "secretKeyRef" in e.get("valueFrom", {})}  # fmt: skip
        assert refs == {
            permissions.password_variable(u): {"name": "hd-nats-users", "key": u}
            for u in permissions.USERS
        }, "every user's password, from its key of hd-nats-users"
        for name in SERVICES:
            env = effective_env(docs, one(docs, "Deployment", name))
            assert env["NATS_USER"] == name, f"{name} logs in as itself"
            assert env["NATS_PASSWORD"]["secretKeyRef"] == {"name": "hd-nats-users", "key": name}


def test_every_service_has_a_user_with_its_inbox() -> None:
    perms = permissions.service_permissions()
    assert set(perms) == set(SERVICES)
    for name, p in perms.items():
        assert f"{permissions.inbox_prefix(name)}.>" in p.subscribe, name
        assert not any(s in ("$JS.API.>", ">", "_INBOX.>") for s in (*p.publish, *p.subscribe))
        assert not any(".DELETE." in s or ".PURGE." in s for s in p.publish), name


def test_prod_nats_speaks_tls_to_clients_and_peers(overlays: dict[str, Docs]) -> None:
    docs = overlays["prod"]
    data, pod = config(docs), nats_pod(docs)
    nats = container(pod, "nats")
    assert "include ./tls.conf" in data["nats.conf"]
    assert re.search(r"cluster \{[^}]*include ./cluster-tls.conf", data["nats.conf"], re.DOTALL)
    for key in ("tls.conf", "cluster-tls.conf"):
        files = dict(re.findall(r"(cert_file|key_file|ca_file):\s*(\S+)", data[key]))
        assert data[key].lstrip().startswith("tls {") and set(files) == {
            "cert_file", "key_file", "ca_file"}, key  # fmt: skip
        for path in files.values():
            assert mount_of(pod, nats, path)["secret"]["secretName"] == "nats-tls", path
    common = configmap_data(docs, "hd-common")
    assert common["NATS_URL"].startswith("tls://")
    for name in SERVICES:
        dep = one(docs, "Deployment", name)
        spec = dep["spec"]["template"]["spec"]
        ca = effective_env(docs, dep)["NATS_TLS_CA_FILE"]
        secret = mount_of(spec, spec["containers"][0], ca)["secret"]
        assert secret["secretName"] == "nats-tls"
        assert secret["items"] == [{"key": "ca.crt", "path": PurePosixPath(ca).name}], (
            f"{name}: the CA alone, never the server's key"
        )


def test_dev_runs_without_tls(overlays: dict[str, Docs]) -> None:
    docs = overlays["dev"]
    assert config(docs)["tls.conf"] == "" and config(docs)["cluster-tls.conf"] == ""
    assert configmap_data(docs, "hd-common")["NATS_URL"].startswith("nats://")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_nats_nodes_spread_over_zones(overlays: dict[str, Docs], overlay: str) -> None:
    docs = overlays[overlay]
    pod, data = nats_pod(docs), config(docs)
    spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
    assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    strict = overlay == "prod"
    for c in spread.values():
        assert (c["whenUnsatisfiable"] == "DoNotSchedule") is strict, c
    placement = f'unique_tag: "{server_tags.TAG_PREFIX}"'
    assert (placement in data["placement.conf"]) is strict
    assert re.search(r"jetstream \{[^}]*include ./placement.conf", data["nats.conf"], re.DOTALL)
    # The init container writes the tags where nats.conf includes them from.
    tags = container(pod, "server-tags", init=True)
    out = tags["command"][tags["command"].index("--out") + 1]
    nats = container(pod, "nats")
    assert "include ../runtime/tags.conf" in data["nats.conf"]
    config_dir = next(m["mountPath"] for m in nats["volumeMounts"] if m["name"] == "config")
    assert PurePosixPath(config_dir).parent / "runtime" / "tags.conf" == PurePosixPath(out)
    assert mount_of(pod, tags, out) == mount_of(pod, nats, out) and "emptyDir" in mount_of(
        pod, nats, out)  # fmt: skip
    assert tags["command"][:3] == ["python", "-m", "shared.bus.server_tags"]
    # Only the init container holds an API token, and may only read nodes.
    token = mount_of(pod, tags, "/var/run/secrets/kubernetes.io/serviceaccount/token")
    assert "serviceAccountToken" in token["projected"]["sources"][0]
    assert not any(m["name"] == "kube-api-access" for m in nats["volumeMounts"])
    role = one(docs, "ClusterRole", "hd-nats-node-reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    (binding,) = find(docs, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    sts = one(docs, "StatefulSet", "nats")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "namespace": sts["metadata"][
        "namespace"], "name": pod["serviceAccountName"]}]  # fmt: skip


def test_server_tags_name_the_zone() -> None:
    assert server_tags.tags_conf({server_tags.ZONE_LABEL: "eu-west-1a"}) == (
        'server_tags: ["az:eu-west-1a"]\n'
    )
    assert server_tags.tags_conf({}) == 'server_tags: ["az:unknown"]\n'
