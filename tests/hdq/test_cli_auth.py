"""`hdq` against a real stack that requires API keys (`API_KEYS`, one tenant per key)."""

from __future__ import annotations

import pytest

from tests.hdq.helpers import arun

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(180)]

BERLIN = ["--date", "1990-01-01", "--time", "12:00", "--place", "Berlin", "--country", "DE"]


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"API_KEYS": "alice=key-of-alice,bob=key-of-bob"}


@pytest.fixture
def urls(intake_url: str, status_url: str) -> list[str]:
    return ["--intake", intake_url, "--status", status_url]


async def test_every_command_sends_the_key_and_a_missing_one_is_explained(
    urls: list[str],
) -> None:
    refused = await arun(*urls, "submit", *BERLIN)
    assert refused.code == 1
    assert refused.err.startswith("error: Unauthorized (401): ")
    assert refused.err.rstrip().endswith("pass --api-key or set HDQ_API_KEY")

    alice = [*urls, "--api-key", "key-of-alice"]
    watched = await arun(*alice, "submit", *BERLIN, "--user-id", "a", "--watch")  # SSE too
    assert watched.code == 0, watched
    reading_id = watched.out.splitlines()[0]
    assert "Type:              Generator" in watched.out
    assert (await arun(*alice, "list", "--user-id", "a")).out.count(reading_id) == 1
    assert (await arun(*alice, "pipeline")).code == 0

    # Another tenant's key does not see the reading at all.
    other = await arun(*urls, "--api-key", "key-of-bob", "get", reading_id, "--watch")
    assert other.code == 1 and "Not Found (404)" in other.err
    wrong = await arun(*urls, "--api-key", "nope", "get", reading_id)
    assert wrong.code == 1 and "Unauthorized (401)" in wrong.err
