"""Stream tokens: `events_url`'s short-lived, one-reading, read-only token."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth.stream_token import StreamGrant, StreamTokenRefused, StreamTokens

SECRET = "s" * 40


def test_a_token_names_its_reading_tenant_and_user() -> None:
    tokens = StreamTokens(SECRET, ttl_s=600)
    assert tokens.verify(tokens.issue("r1", "users", "alice")) == StreamGrant(
        "r1", "users", "alice"
    )
    assert tokens.verify(tokens.issue("r2", None, None)) == StreamGrant("r2", None, None)


def test_the_same_reading_gets_the_same_token_within_a_step() -> None:
    tokens = StreamTokens(SECRET, ttl_s=3600)  # steps of 15 minutes: ETags stay put
    assert tokens.issue("r1", "t", None) == tokens.issue("r1", "t", None)
    claims = jwt.decode(tokens.issue("r1", "t", None), options={"verify_signature": False})
    assert claims["exp"] - time.time() >= 3600 * 3 / 4 - 1
    assert claims["scope"] == "events"


def test_expired_tampered_and_foreign_tokens_are_refused() -> None:
    tokens = StreamTokens(SECRET, ttl_s=600)
    now = int(time.time())
    expired = jwt.encode(
        {"iss": "hd-pipeline", "aud": "hd-pipeline/events", "rid": "r1", "ten": None,
         "scope": "events", "iat": now - 900, "exp": now - 300},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    with pytest.raises(StreamTokenRefused, match="expired"):
        tokens.verify(expired)
    good = tokens.issue("r1", "t", None)
    head, _, sig = good.split(".")
    forged_body = jwt.utils.base64url_encode(b'{"rid":"r2"}').decode()
    with pytest.raises(StreamTokenRefused, match="signature"):
        tokens.verify(f"{head}.{forged_body}.{sig}")
    with pytest.raises(StreamTokenRefused, match="signature"):
        StreamTokens("o" * 40).verify(good)  # another deployment's secret
    with pytest.raises(StreamTokenRefused, match="not one this API issued"):
        tokens.verify("garbage")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        StreamTokens("short")
