"""Event contracts: round trips, deterministic ids, and what counts as poison."""

from __future__ import annotations

import json

import pytest

from shared.events.registry import CONTRACTS, PoisonEvent, decode, encode, event_id
from tests import factories as f


def test_every_contract_round_trips_through_the_envelope() -> None:
    rid = f.new_id()
    events = [f.requested(rid), f.calculated(rid), f.started(rid), f.delta(rid, 0, "x"),
              f.generated(rid), f.failed(rid), f.cancelled(rid)]  # fmt: skip
    assert {e.type for e in events} == set(CONTRACTS)
    for event in events:
        back = decode(encode(event))
        assert back == event
        assert back.specversion == "1.0"
        assert back.subject == rid
        assert back.schemaversion.startswith("1.")


def test_event_ids_are_deterministic_so_a_republish_is_a_duplicate() -> None:
    rid = f.new_id()
    assert f.calculated(rid).id == f.calculated(rid).id == event_id("chart.calculated", rid, 1)
    assert f.calculated(rid, version=2).id != f.calculated(rid).id
    assert f.delta(rid, 0, "a").id != f.delta(rid, 1, "a").id


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: "not json at all", "undecodable"),
        (lambda d: {**d, "type": "reading.exploded"}, "unknown_type"),
        (lambda d: {**d, "schemaversion": "2.0"}, "unknown_schema_version"),
        (lambda d: {**d, "data": {**d["data"], "version": -3}}, "invalid_payload"),
        (lambda d: {k: v for k, v in d.items() if k != "subject"}, "undecodable"),
        (lambda d: {k: v for k, v in d.items() if k != "time"}, "undecodable"),
        (lambda d: {**d, "data": "not an object"}, "undecodable"),
    ],
)
def test_poison_events_are_named_with_a_reason(mutate, code) -> None:
    good = json.loads(encode(f.failed(f.new_id())))
    bad = mutate(good)
    raw = bad.encode() if isinstance(bad, str) else json.dumps(bad).encode()
    with pytest.raises(PoisonEvent) as info:
        decode(raw)
    assert info.value.code == code
    assert info.value.reason
    if code == "invalid_payload":
        assert info.value.reason.startswith("version:")  # named as in the payload


def test_a_newer_minor_version_is_still_read() -> None:
    good = json.loads(encode(f.failed(f.new_id())))
    good["schemaversion"] = "1.7"
    good["data"]["added_in_1_7"] = "ignored"
    assert decode(json.dumps(good).encode()).data.code == "place_not_found"
