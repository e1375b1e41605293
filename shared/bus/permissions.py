"""Who may do what on the bus: one NATS user per service, least privilege, in one place.

Each service's publish and subscribe permissions are derived here from the
names it uses (`shared.names`, `shared.bus.topology`). The Kubernetes NATS
config (`deploy/k8s/base/nats.yaml`, key `accounts.conf`) is this module's
rendering with the passwords as environment references (a test keeps the two
equal; `python -m shared.bus.permissions` prints it), and the launcher writes
the same accounts with generated passwords into the embedded server's config
(`EMBEDDED_NATS_AUTH=true`).

Accounts: `HD` holds the stream, the services' users and `admin` (an operator
with the nats CLI, unrestricted inside `HD`); `SYS` is the system account, with
the user `sys` for server-wide reports (`nats server report jetstream`).
Monitoring (the Prometheus exporter, KEDA) reads the HTTP port, with no user.

Replies come to a per-service inbox prefix (`_INBOX_<service>`, set by
`shared.bus.connect`), so no service can read another's replies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared import names
from shared.bus.topology import CHART, READER, STATUS, ConsumerSpec
from shared.events import (
    chart_calculated,
    reading_cancelled,
    reading_delta,
    reading_failed,
    reading_generated,
    reading_requested,
    reading_started,
)

ACCOUNT = "HD"  # the account of the stream and the services (KEDA's `account`)
SYSTEM_ACCOUNT = "SYS"
SERVICES = ("intake", "chart", "reader", "status")
ADMIN_USER = "admin"  # operators, inside HD: every subject
SYSTEM_USER = "sys"  # operators, in SYS: server reports
USERS = (*SERVICES, ADMIN_USER, SYSTEM_USER)

API = "$JS.API"
STREAM = names.STREAM
KV_STREAM = f"KV_{names.LIMITER_BUCKET}"  # the stream JetStream keeps the bucket in
MAX_DELIVERIES_ADVISORY = f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{STREAM}.*"


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish to and subscribe to (NATS wildcards allowed)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # May answer requests it received (reply subjects not listed in `publish`).
    allow_responses: bool = False


def inbox_prefix(service: str) -> str:
    """The prefix of the service's reply subjects (nats-py `inbox_prefix`)."""
    return f"_INBOX_{service}"


def _events(*modules: object) -> tuple[str, ...]:
    """The subjects of these events, at every priority they travel at."""
    return tuple(
        f
        for m in modules
        for f in names.subject_filters(m.TYPE)  # type: ignore[attr-defined]
    )


def _stream_owner() -> tuple[str, ...]:
    """Every service declares the stream at start-up and checks it for readiness."""
    return tuple(f"{API}.STREAM.{op}.{STREAM}" for op in ("INFO", "CREATE", "UPDATE"))


def _durable(spec: ConsumerSpec) -> tuple[str, ...]:
    """Declare, inspect and pull from a durable consumer (each of its priority lanes), and
    ack its messages."""
    return tuple(
        subject
        for d in (lane.durable for lane in spec.lanes)
        for subject in (
            f"{API}.CONSUMER.CREATE.{STREAM}.{d}",
            f"{API}.CONSUMER.CREATE.{STREAM}.{d}.>",  # the create subject carries the filter
            f"{API}.CONSUMER.INFO.{STREAM}.{d}",
            f"{API}.CONSUMER.MSG.NEXT.{STREAM}.{d}",
            f"$JS.ACK.{STREAM}.{d}.>",
        )
    )


def _ordered() -> tuple[str, ...]:
    """An ordered (ephemeral, server-named) consumer: create, inspect, flow control."""
    return (
        f"{API}.CONSUMER.CREATE.{STREAM}",
        f"{API}.CONSUMER.INFO.{STREAM}.*",
        f"$JS.FC.{STREAM}.>",
    )


def _lookup() -> tuple[str, ...]:
    """`shared.bus.lookup`: the last event of a type for a reading, or one by sequence."""
    return (f"{API}.STREAM.MSG.GET.{STREAM}",)


def _limiter() -> tuple[str, ...]:
    """The reader's shared limiter: its KV bucket, created at the stream's replicas."""
    return (
        *(f"{API}.STREAM.{op}.{KV_STREAM}" for op in ("INFO", "CREATE", "UPDATE", "MSG.GET")),
        f"{API}.DIRECT.GET.{KV_STREAM}.>",
        f"$KV.{names.LIMITER_BUCKET}.>",
    )


def service_permissions() -> dict[str, Permissions]:
    """Each service's permissions: exactly the subjects its code uses."""
    failed = _events(reading_failed)  # any consumer's give-up (shared.bus.consumer)
    return {
        "intake": Permissions(
            publish=(*_stream_owner(), *_lookup(), *_events(reading_requested)),
            subscribe=(f"{inbox_prefix('intake')}.>",),
        ),
        "chart": Permissions(
            publish=(
                *_stream_owner(),
                *_durable(CHART),
                *_ordered(),
                *_events(chart_calculated),
                *failed,
            ),
            subscribe=(f"{inbox_prefix('chart')}.>",),
        ),
        "reader": Permissions(
            publish=(
                *_stream_owner(),
                *_durable(READER),
                *_ordered(),
                *_lookup(),
                *_limiter(),
                *_events(reading_started, reading_delta, reading_generated),
                *failed,
                names.LIVE_TEXT_FILTER,
            ),
            subscribe=(f"{inbox_prefix('reader')}.>", names.LIVE_SO_FAR_FILTER),
            allow_responses=True,  # answers live.sofar.<id> to the asker's inbox
        ),
        "status": Permissions(
            publish=(
                *_stream_owner(),
                *_durable(STATUS),
                *_ordered(),
                *_lookup(),
                *(
                    f"{API}.CONSUMER.INFO.{STREAM}.{lane.durable}"
                    for s in (CHART, READER)
                    for lane in s.lanes
                ),
                *_events(reading_requested, reading_cancelled),
                *failed,
                names.LIVE_SO_FAR_FILTER,
            ),
            subscribe=(
                f"{inbox_prefix('status')}.>",
                names.LIVE_TEXT_FILTER,
                MAX_DELIVERIES_ADVISORY,
            ),
        ),
    }


def _list(subjects: tuple[str, ...], indent: str) -> str:
    inner = "".join(f"{indent}  {json.dumps(s)}\n" for s in dict.fromkeys(subjects))
    return f"[\n{inner}{indent}]"


def _user(name: str, password: str, perms: Permissions | None, indent: str) -> str:
    lines = [f"{indent}{{", f"{indent}  user: {name}", f"{indent}  password: {password}"]
    if perms is not None:
        p = indent + "    "
        lines += [
            f"{indent}  permissions: {{",
            f"{p}publish: {{ allow: {_list(perms.publish, p)} }}",
            f"{p}subscribe: {{ allow: {_list(perms.subscribe, p)} }}",
        ]
        if perms.allow_responses:
            lines.append(f"{p}allow_responses: true")
        lines.append(f"{indent}  }}")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def password_variable(user: str) -> str:
    """The environment variable of the NATS server that holds `user`'s password."""
    return f"NATS_{user.upper()}_PASSWORD"


def env_reference(user: str) -> str:
    """A password as a reference to the server's environment (`$NATS_INTAKE_PASSWORD`)."""
    return f"${password_variable(user)}"


def accounts_conf(password: Callable[[str], str] = env_reference) -> str:
    """The NATS config's `accounts` and `system_account`, for every user of `USERS`.

    `password(user)` is written as is: an environment reference (the default, for
    Kubernetes), or a quoted literal (`json.dumps`) for the embedded server.
    """
    perms = service_permissions()
    users = [_user(name, password(name), perms[name], "      ") for name in SERVICES]
    users.append(_user(ADMIN_USER, password(ADMIN_USER), None, "      "))
    return (
        "# Generated by `python -m shared.bus.permissions` (shared/bus/permissions.py):\n"
        "# one user per service with exactly the subjects it uses. Do not edit by hand.\n"
        "accounts {\n"
        f"  {ACCOUNT} {{\n"
        "    jetstream: enabled\n"
        "    users: [\n" + "\n".join(users) + "\n    ]\n"
        "  }\n"
        f"  {SYSTEM_ACCOUNT} {{\n"
        "    users: [\n" + _user(SYSTEM_USER, password(SYSTEM_USER), None, "      ") + "\n    ]\n"
        "  }\n"
        "}\n"
        f"system_account: {SYSTEM_ACCOUNT}\n"
    )


def embedded_accounts_conf(passwords: Mapping[str, str]) -> str:
    """The accounts with literal passwords (the launcher's generated ones)."""
    return accounts_conf(lambda user: json.dumps(passwords[user]))


if __name__ == "__main__":
    print(accounts_conf(), end="")
