"""Test certificates from the openssl command line: a private CA and a server certificate."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """ca.crt, tls.crt (for `localhost`, signed by the CA) and tls.key, in `folder`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail(
            "the openssl command is needed to issue test certificates "
            "(Debian: apt-get install openssl)"
        )
    ca_key, ca, key, csr, crt = (folder / n for n in ("ca.key", "ca.crt", "tls.key", "tls.csr",
                                                      "tls.crt"))  # fmt: skip
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=DNS:localhost\n")
    for cmd in (
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", ca_key, "-out", ca, "-subj", "/CN=hd-test-ca", "-days", "1"],
        ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "1", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run([openssl, *map(str, cmd)], check=True, capture_output=True, timeout=30)
    return ca, crt, key
