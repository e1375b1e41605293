"""A provider's rate limit (429 with Retry-After) is waited out within the delivery."""

from __future__ import annotations

import aiohttp
import pytest
from nats.js import JetStreamContext

from shared import names
from shared.bus.topology import READER
from tests.e2e.helpers import post_reading
from tests.e2e.test_reader_llm import completed_versions, llm_stack
from tests.reader.fake_openai import Script

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_a_rate_limited_provider_is_waited_out_without_using_a_delivery(
    nats_url, database_url, tmp_path, js: JetStreamContext
) -> None:
    """429 with Retry-After twice, then an answer: the reading completes on its first
    delivery (the reader's consumer delivered one message once; a nak would be a second)."""
    script = Script(mode="429", retry_after="1", times=2, text="Worth the wait.")
    async with llm_stack(nats_url, database_url, tmp_path, script, READER_RPM="600") as st:
        intake = f"http://127.0.0.1:{st.settings.intake_port}"
        async with aiohttp.ClientSession() as http:
            rid = await post_reading(http, intake)
        assert await completed_versions(database_url, [rid], 60) == [1]
        info = await js.consumer_info(names.STREAM, READER.durable)
    assert [c.outcome for c in script.call_log] == ["refused", "refused", "completed"]
    assert {c.request_id for c in script.call_log} == {f"{rid}:v1"}
    assert info.delivered.consumer_seq == 1  # delivered once: no attempt used by the 429s
    assert script.call_times[2] - script.call_times[0] >= 1.8  # each Retry-After heeded
