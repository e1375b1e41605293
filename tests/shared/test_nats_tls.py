"""A service reaches a TLS-only NATS with NATS_TLS_CA_FILE, and is refused without it.

The CA and the server's certificate come from the openssl command line (as
cert-manager would issue them: a private CA, a certificate naming the host).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.bus import permissions
from shared.bus.connect import connect
from shared.embedded.nats_server import EmbeddedNats
from shared.embedded.process import free_port
from shared.launcher import write_auth_config
from shared.settings import NatsCredentials
from tests.certs import make_certificates

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedNats, Path]]:
    root = tmp_path_factory.mktemp("nats-tls")
    ca, crt, key = make_certificates(root)
    passwords = {user: f"pw-{user}" for user in permissions.USERS}
    write_auth_config(root / "auth.conf", passwords)
    conf = root / "nats.conf"
    conf.write_text(
        f'tls {{ cert_file: "{crt}", key_file: "{key}", ca_file: "{ca}" }}\ninclude ./auth.conf\n'
    )
    server = EmbeddedNats(root / "data", free_port(), config_file=conf)
    server.start()
    yield server, ca
    server.stop()


async def test_a_service_connects_over_tls_with_the_ca_file(
    tls_nats: tuple[EmbeddedNats, Path],
) -> None:
    server, ca = tls_nats
    url = f"tls://localhost:{server.port}"
    creds = NatsCredentials("intake", SecretStr("pw-intake"), ca)
    nc = await connect(url, service="intake", credentials=creds)
    try:
        assert nc.is_connected
        assert nc.connected_url is not None and nc.connected_url.scheme == "tls"
        js = nc.jetstream(timeout=2)
        # intake's user may ask for the stream (absent here): an answer, not a refusal.
        with pytest.raises(Exception, match="not found"):
            await js.stream_info("READINGS")
    finally:
        await nc.close()


async def test_without_the_ca_the_server_is_not_trusted(
    tls_nats: tuple[EmbeddedNats, Path],
) -> None:
    server, _ = tls_nats
    url = f"tls://localhost:{server.port}"
    creds = NatsCredentials("intake", SecretStr("pw-intake"))
    with pytest.raises((OSError, TimeoutError, Exception)):  # a TLS error, or never connected
        async with asyncio.timeout(3):
            nc = await connect(url, service="intake", connect_timeout_s=1, credentials=creds)
            await nc.close()
