"""The event envelope (API.md "Events", P2): what every service publishes and every consumer parses."""
import json
import re
import time
from datetime import datetime, timezone

import pytest

from crmkit import envelope
from crmkit.envelope import MalformedEvent


def test_a_new_event_carries_the_documented_envelope_fields_P2():
    event = envelope.new_event("lead.created", {"id": "L1", "campaign_id": "C1"}, actor_id="u1",
                               correlation_id="corr-1", causation_id="cause-1")

    assert set(event) >= {"event_id", "type", "version", "occurred_at", "actor_id", "data"}
    assert event["type"] == "lead.created"
    assert event["version"] == 1
    assert event["actor_id"] == "u1"
    assert event["correlation_id"] == "corr-1"
    assert event["causation_id"] == "cause-1"
    assert event["data"] == {"id": "L1", "campaign_id": "C1"}


def test_an_event_id_fits_the_outbox_column_and_is_new_every_time():
    ids = {envelope.new_event("lead.created", {})["event_id"] for _ in range(1000)}

    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", event_id) for event_id in ids)


def test_an_event_says_when_it_happened_in_iso_8601_utc():
    before = datetime.now(timezone.utc)
    event = envelope.new_event("lead.created", {})
    after = datetime.now(timezone.utc)

    assert event["occurred_at"].endswith("Z")
    moment = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    assert moment.tzinfo is not None
    assert before <= moment <= after


def test_an_event_can_be_given_a_version():
    assert envelope.new_event("lead.created", {}, version=2)["version"] == 2


def test_iso_treats_a_naive_database_time_as_utc_and_keeps_none():
    assert envelope.iso(datetime(2024, 3, 1, 8, 30)) == "2024-03-01T08:30:00Z"
    assert envelope.iso(datetime(2024, 3, 1, 8, 30, tzinfo=timezone.utc)) == "2024-03-01T08:30:00Z"
    assert envelope.iso(None) is None


def test_an_event_is_published_on_its_services_exchange_P2():
    assert envelope.exchange_for("lead.created", "lead") == "lead.events"
    assert envelope.exchange_for("activity.logged", "lead") == "lead.events"


@pytest.mark.parametrize("as_wire", [
    lambda e: envelope.dumps(e).encode("utf-8"),
    lambda e: bytearray(envelope.dumps(e).encode("utf-8")),
    lambda e: envelope.dumps(e),
    lambda e: json.loads(envelope.dumps(e)),
], ids=["bytes", "bytearray", "str", "dict"])
def test_parse_accepts_the_envelope_as_bytes_text_or_a_decoded_dict(as_wire):
    event = envelope.new_event("lead.created", {"id": "L1", "contact": {"name": "张伟"}}, actor_id="u1")

    assert envelope.parse(as_wire(event)) == event


def test_chinese_text_goes_on_the_wire_unescaped_and_comes_back_unchanged():
    event = envelope.new_event("lead.created", {"company": {"city": "上海"}})

    wire = envelope.dumps(event)

    assert "上海" in wire
    assert envelope.parse(wire.encode("utf-8"))["data"]["company"]["city"] == "上海"


@pytest.mark.parametrize("body, says", [
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b'{"event_id": "\xff"}', "UTF-8"),
    ("{not json", "JSON"),
    (b"{not json", "JSON"),
    (b"", "JSON"),
    ("[1, 2, 3]", "object"),
    ("null", "object"),
    (42, "object"),
    ({"type": "lead.created", "version": 1, "occurred_at": "x", "data": {}}, "event_id"),
    ({"event_id": "e1", "version": 1, "occurred_at": "x", "data": {}}, "type"),
    ({"event_id": "e1", "type": "lead.created", "version": 1, "occurred_at": "x"}, "data"),
    ({"event_id": "e1", "type": "lead.created", "version": 1, "occurred_at": "x", "data": [1]}, "data"),
    ({"event_id": "e1", "type": "lead.created", "version": 1, "occurred_at": "x", "data": None}, "data"),
], ids=["not-utf8", "not-utf8-in-a-string", "not-json", "not-json-bytes", "empty", "a-list", "null", "a-number", "no-event-id", "no-type",
        "no-data", "data-a-list", "data-null"])
def test_a_message_that_is_not_an_envelope_is_malformed_and_says_why(body, says):
    with pytest.raises(MalformedEvent) as caught:
        envelope.parse(body)

    assert says in str(caught.value)


def test_a_malformed_event_is_a_value_error_so_generic_handlers_still_catch_it():
    assert issubclass(MalformedEvent, ValueError)


def test_new_ids_are_unique_opaque_strings():
    ids = [envelope.new_id() for _ in range(5000)]

    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_new_ids_sort_by_creation_time():
    ids = []
    for _ in range(5):
        ids.append(envelope.new_id())
        time.sleep(0.002)  # the clock part has millisecond resolution

    assert sorted(ids) == ids
    assert len(set(ids)) == 5


# -- packed events (bulk operations: import, rule assignment in bulk; issue 6) ----------------------------

def _events(*types):
    return [envelope.new_event(t, {"id": f"L{n}", "campaign_id": "C1"}, actor_id="u1") for n, t in enumerate(types)]


def test_a_run_of_events_of_one_type_travels_as_one_packed_envelope_and_unpacks_unchanged():
    events = _events(*["lead.created"] * 5)

    packed = envelope.pack(events, 500)

    assert [p["type"] for p in packed] == ["lead.created.batch"]
    assert packed[0]["data"]["count"] == 5
    assert envelope.unpack(envelope.parse(envelope.dumps(packed[0]))) == events


def test_packing_keeps_the_order_splits_at_pack_max_and_leaves_a_lone_event_as_it_is():
    events = _events("lead.created", "lead.created", "lead.created", "lead.updated", "lead.created")

    packed = envelope.pack(events, 2)

    assert [p["type"] for p in packed] == ["lead.created.batch", "lead.created", "lead.updated", "lead.created"]
    assert [e for p in packed for e in envelope.unpack(p)] == events
    assert envelope.pack(events, 1) == events


def test_unpacking_keeps_only_the_events_a_subscription_is_bound_to():
    events = _events("lead.created", "lead.created")
    packed = envelope.pack(events, 500)[0]

    assert envelope.unpack(packed, ("lead.created",)) == events
    assert envelope.unpack(packed, ("lead.#",)) == events
    assert envelope.unpack(packed, ("activity.#",)) == []
    single = events[0]
    assert envelope.unpack(single, ("activity.#",)) == [single]  # a lone event was routed already


def test_a_packed_envelope_with_an_inner_event_that_is_not_one_is_malformed():
    packed = envelope.pack(_events("lead.created", "lead.created"), 500)[0]
    del packed["data"]["events"][1]["event_id"]

    with pytest.raises(MalformedEvent):
        envelope.unpack(packed)


@pytest.mark.parametrize("pattern, key, matches", [
    ("lead.#", "lead.created", True), ("lead.#", "lead.created.batch", True), ("lead.#", "lead", True),
    ("lead.created", "lead.created", True), ("lead.created", "lead.created.batch", False),
    ("lead.*", "lead.created", True), ("lead.*", "lead.created.batch", False), ("#", "x.y", True),
    ("activity.#", "lead.created", False), ("*.created", "lead.created", True),
])
def test_topic_patterns_match_as_the_broker_matches_them(pattern, key, matches):
    assert envelope.topic_matches(pattern, key) is matches
