"""API keys: which server is calling, and which tenant owns what it creates.

`API_KEYS` is a comma-separated list; each entry is `[tenant=]key` or
`[tenant=]sha256:<hex digest of the key>`, so a deployment can keep only
digests in its secret. Keys are held as SHA-256 digests and a presented key is
compared with every configured digest in constant time (`hmac.compare_digest`,
no early exit), so neither the comparison nor the loop tells how close a guess
was. A key without a tenant name gets `key-<first 12 hex of its digest>`.

Where keys are checked (and JWTs, and stream tokens): `shared.auth.middleware`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

_DIGEST_PREFIX = "sha256:"


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys, as (digest, tenant) pairs."""

    entries: tuple[tuple[bytes, str], ...] = ()

    @classmethod
    def parse(cls, raw: str) -> ApiKeys:
        """Parse `API_KEYS`; raise ValueError naming a malformed entry (never the key)."""
        entries: list[tuple[bytes, str]] = []
        for n, item in enumerate((p.strip() for p in raw.split(",")), start=1):
            if not item:
                continue
            tenant, sep, secret = item.partition("=")
            if not sep:
                tenant, secret = "", item
            tenant, secret = tenant.strip(), secret.strip()
            if secret.startswith(_DIGEST_PREFIX):
                try:
                    value = bytes.fromhex(secret.removeprefix(_DIGEST_PREFIX))
                except ValueError:
                    raise ValueError(f"entry {n}: sha256: must be followed by hex") from None
                if len(value) != hashlib.sha256().digest_size:
                    raise ValueError(f"entry {n}: a sha256 digest has 64 hex digits")
            elif len(secret) < 8:
                raise ValueError(f"entry {n}: a key needs at least 8 characters")
            else:
                value = digest(secret)
            entries.append((value, tenant or f"key-{value.hex()[:12]}"))
        return cls(tuple(entries))

    @property
    def open(self) -> bool:
        return not self.entries

    def tenant_for(self, presented: str) -> str | None:
        """The tenant of `presented`, or None; the same work whichever key matches."""
        candidate = digest(presented)
        found: str | None = None
        for value, tenant in self.entries:
            if hmac.compare_digest(candidate, value):
                found = tenant
        return found
