"""Sign-in JWTs against a JWKS served over HTTP (`shared.auth.signin`)."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth.signin import (
    Jwks,
    SignIn,
    SignInUnavailable,
    TokenRefused,
    looks_like_jwt,
    parse_algorithms,
)
from tests.signin import AUDIENCE, ISSUER, SigningKey, provider

RSA = SigningKey.rsa("rsa-1")
EC = SigningKey.ec("ec-1")


def verifier(url: str, *, refresh_min_s: float = 0.0, cache_s: float = 300.0) -> SignIn:
    jwks = Jwks(url, cache_s=cache_s, timeout_s=2.0, refresh_min_s=refresh_min_s)
    return SignIn(jwks, ISSUER, AUDIENCE, ("RS256", "ES256"), leeway_s=5.0)


async def refused(signin: SignIn, token: str) -> str:
    with pytest.raises(TokenRefused) as caught:
        await signin.verify(token)
    return str(caught.value)


async def test_valid_rsa_and_ec_tokens_give_their_sub() -> None:
    async with provider(RSA, EC) as idp:
        signin = verifier(idp.url)
        assert await signin.verify(RSA.token("alice")) == "alice"
        assert await signin.verify(EC.token("bob")) == "bob"
        assert idp.fetches == 1  # cached


async def test_expired_not_yet_valid_wrong_issuer_audience_and_missing_claims() -> None:
    now = int(time.time())
    async with provider(RSA) as idp:
        signin = verifier(idp.url)
        assert "expired" in await refused(signin, RSA.token(exp=now - 60))
        assert "not valid yet" in await refused(signin, RSA.token(nbf=now + 600))
        assert "iss" in await refused(signin, RSA.token(iss="https://evil.example/"))
        assert "aud" in await refused(signin, RSA.token(aud="another-app"))
        assert "no exp claim" in await refused(signin, RSA.token(exp=None))
        assert "no sub claim" in await refused(signin, RSA.token(sub=None))
        assert "sub is not a user id" in await refused(signin, RSA.token(sub="x" * 201))


async def test_a_token_signed_by_another_key_with_the_same_kid_is_refused() -> None:
    forger = SigningKey.rsa(RSA.kid)  # claims to be rsa-1
    async with provider(RSA) as idp:
        message = await refused(verifier(idp.url), forger.token())
    assert "signature" in message


async def test_algorithms_off_the_list_are_refused_none_and_hs256_too() -> None:
    async with provider(RSA) as idp:
        signin = verifier(idp.url)
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "a", "exp": int(time.time()) + 60}
        unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": RSA.kid})
        assert "algorithm is not allowed" in await refused(signin, unsigned)
        # HS256 keyed with the public key's text: the classic algorithm-confusion attack.
        public_pem = str(RSA.jwk()["n"])
        hs = jwt.encode(claims, public_pem, algorithm="HS256", headers={"kid": RSA.kid})
        assert "algorithm is not allowed" in await refused(signin, hs)
        rs384 = SigningKey(RSA.kid, "RS384", RSA.private).token()
        assert "algorithm is not allowed" in await refused(signin, rs384)


@pytest.mark.parametrize(
    "token", ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.%%%.sig", "e30.e30.e30"]
)
async def test_malformed_tokens_are_refused_with_a_reason(token: str) -> None:
    async with provider(RSA) as idp:
        message = await refused(verifier(idp.url), token)
    assert "well-formed" in message or "algorithm" in message


async def test_a_new_kid_fetches_the_key_set_again_the_issuer_rotated() -> None:
    new = SigningKey.rsa("rsa-2")
    async with provider(RSA) as idp:
        signin = verifier(idp.url)
        assert await signin.verify(RSA.token("alice")) == "alice"
        idp.keys = [new]  # rotation: the old key is gone, a new one signs
        assert await signin.verify(new.token("alice")) == "alice"
        assert idp.fetches == 2
        assert "kid" in await refused(signin, SigningKey.rsa("never-published").token())


async def test_unknown_kids_refetch_at_most_once_per_interval() -> None:
    async with provider(RSA) as idp:
        signin = verifier(idp.url, refresh_min_s=3600)
        assert await signin.verify(RSA.token()) == "user-a"
        for n in range(5):
            assert "kid" in await refused(signin, SigningKey.rsa(f"made-up-{n}").token())
        assert idp.fetches == 1  # made-up kids cannot make us hammer the issuer


async def test_unreachable_key_set_is_unavailable_not_a_refusal() -> None:
    async with provider(RSA) as idp:
        idp.down = True
        signin = verifier(idp.url)
        with pytest.raises(SignInUnavailable):
            await signin.verify(RSA.token())
        url = idp.url
    with pytest.raises(SignInUnavailable):  # nobody listens there now
        await verifier(url).verify(RSA.token())


async def test_a_failed_refresh_keeps_the_keys_it_has() -> None:
    async with provider(RSA) as idp:
        signin = verifier(idp.url, cache_s=1.0)
        assert await signin.verify(RSA.token()) == "user-a"
        idp.down = True
        signin.jwks._fetched_at -= 10  # the cache has gone stale
        assert await signin.verify(RSA.token()) == "user-a"
        assert idp.fetches == 2


def test_algorithm_setting_allows_asymmetric_ones_only() -> None:
    assert parse_algorithms("RS256, ES256") == ("RS256", "ES256")
    for bad in ("HS256", "none", "RS256,HS512", " , "):
        with pytest.raises(ValueError):
            parse_algorithms(bad)


def test_api_keys_do_not_look_like_jwts() -> None:
    assert looks_like_jwt(RSA.token())
    assert not looks_like_jwt("key-of-tenant-a")
