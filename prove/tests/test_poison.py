"""Each poison kind is what it claims to be, and the consumers' own decoding path
dead-letters it with the reason and the marker that `dead_letters` matches on.

No broker: the consumer's `EventConsumer` runs on a stand-in broker that keeps
what it would publish to the dead-letter topic.
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from poison import (
    KINDS,
    UNKNOWN_TYPE,
    DeadLetter,
    PoisonRecord,
    _collect,
    build,
    contract_topic,
    dead_letter_topic,
    event_model,
    expected_groups,
    marker_of,
    plan,
)

from indgang_contracts.envelope import InvalidEvent, decode
from indgang_contracts.events import EVENT_TYPES, Event, InquiryReceived
from indgang_contracts.generate import schemas
from indgang_contracts.topics import DEAD_LETTER_TOPIC, topic_for
from indgang_routing.settings import RoutingSettings
from indgang_runtime.messaging import EventConsumer

TOPICS = [topic_for(model) for model in EVENT_TYPES.values()]
PREFIX = "test-prove."


def schema_of(model: type[Event]) -> dict[str, Any]:
    return schemas()[f"{model.EVENT_NAME}.v{model.EVENT_VERSION}.json"]


@pytest.mark.parametrize("topic", TOPICS)
def test_not_cloudevent_has_no_headers_and_the_marker_as_key(topic: str) -> None:
    record = build(PREFIX + topic, "not_cloudevent")
    assert record.headers == []
    assert record.key == record.marker.encode()
    assert record.value.startswith(record.key)
    assert record.marker.startswith("poison-")
    with pytest.raises(UnicodeDecodeError):  # not JSON, not even text
        json.loads(record.value)
    with pytest.raises(InvalidEvent) as refused:
        decode(record.headers, record.value, record.key)
    assert record.expected_reason in refused.value.reason


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("topic", TOPICS)
def test_schema_invalid_passes_the_envelope_and_fails_on_data(topic: str, variant: int) -> None:
    model = event_model(topic)
    record = build(PREFIX + topic, "schema_invalid", variant=variant)
    headers = dict(record.headers)
    assert headers["ce_id"] == record.marker.encode()
    assert headers["ce_type"] == model.ce_type().encode()
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/json"
    for name in ("ce_source", "ce_time", "ce_subject", "ce_dataschema"):
        assert name in headers
    # The envelope is fine: the CloudEvents SDK reads it and its data is a JSON object.
    event = ce_kafka.from_binary_event(
        ce_kafka.KafkaMessage(headers=headers, key=record.key, value=record.value)
    )
    assert event.get_type() == model.ce_type()
    data = event.get_data()
    assert isinstance(data, dict)
    # ...and the data breaks the contract's JSON Schema,
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema_of(model))
    # in exactly the one way it says (the rest is the contract example, valid).
    assert record.defect is not None
    name = record.defect.split()[-1]
    example = json.loads(build(topic, "unknown_type").value)
    jsonschema.validate({**data, name: example[name]}, schema_of(model))
    with pytest.raises(InvalidEvent) as refused:
        decode(record.headers, record.value, record.key)
    assert refused.value.reason.startswith(f"invalid {model.ce_type()} data: {name}")
    assert record.expected_reason in refused.value.reason


@pytest.mark.parametrize("topic", TOPICS)
def test_unknown_type_has_valid_headers_and_data_but_a_type_nobody_knows(topic: str) -> None:
    model = event_model(topic)
    record = build(topic, "unknown_type")
    headers = dict(record.headers)
    assert headers["ce_type"] == UNKNOWN_TYPE.encode()
    assert UNKNOWN_TYPE not in EVENT_TYPES
    assert headers["ce_id"] == record.marker.encode()
    jsonschema.validate(json.loads(record.value), schema_of(model))  # the data is valid
    with pytest.raises(InvalidEvent) as refused:
        decode(record.headers, record.value, record.key)
    assert refused.value.reason == f"unknown event type {UNKNOWN_TYPE!r}"


def test_plan_spreads_kinds_over_partitions_with_unique_markers() -> None:
    topic = PREFIX + topic_for(InquiryReceived)
    records = plan(topic, 50, [5, 0, 1, 2, 3, 4])
    assert len(records) == 50
    assert len({r.marker for r in records}) == 50
    assert Counter(r.kind for r in records) == {
        "not_cloudevent": 17,
        "schema_invalid": 17,
        "unknown_type": 16,
    }
    for kind in KINDS:
        assert {r.partition for r in records if r.kind == kind} == set(range(6)), kind
    defects = {r.defect for r in records if r.kind == "schema_invalid"}
    assert defects == {"missing inquiry_id", "wrong type municipality_code"}
    assert all(r.topic == topic for r in records)


def test_topics_with_a_prefix_and_foreign_topics() -> None:
    assert contract_topic("p.indgang.case-routed.v1") == ("p.", "indgang.case-routed.v1")
    assert dead_letter_topic("p.") == "p." + DEAD_LETTER_TOPIC
    with pytest.raises(ValueError, match="not an indgang topic"):
        build("orders", "unknown_type")
    with pytest.raises(ValueError, match="no event type"):
        build(DEAD_LETTER_TOPIC, "schema_invalid")
    with pytest.raises(ValueError, match="unknown poison kind"):
        build(TOPICS[0], "gibberish")


def test_expected_groups_are_the_consuming_services() -> None:
    # One group per subscription: `<prefix>indgang-<service>.<topic>`.
    assert expected_groups("p.indgang.inquiry-received.v1") == {
        "p.indgang-routing.indgang.inquiry-received.v1",
        "p.indgang-notifications.indgang.inquiry-received.v1",
    }
    assert expected_groups("indgang.case-routed.v1") == {
        "indgang-notifications.indgang.case-routed.v1",
        "indgang-guide.indgang.case-routed.v1",
    }
    assert expected_groups("indgang.case-status-changed.v1") == {
        "indgang-intake.indgang.case-status-changed.v1",
        "indgang-notifications.indgang.case-status-changed.v1",
    }
    assert expected_groups("indgang.notification-failed.v1") == set()


def test_json_round_trip() -> None:
    for kind in KINDS:
        record = build(TOPICS[0], kind)
        assert PoisonRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


class StandInBroker:
    """Keeps what the consumer publishes (the dead letters) instead of sending it."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish(self, value: bytes, topic: str, **options: Any) -> None:
        self.published.append({"value": value, "topic": topic, **options})


@pytest.mark.parametrize("kind", KINDS)
async def test_the_consumers_dead_letter_each_kind_and_dead_letters_finds_it(kind: str) -> None:
    topic = PREFIX + topic_for(InquiryReceived)
    records = [r for r in plan(topic, 6, range(6)) if r.kind == kind]
    broker = StandInBroker()
    settings = RoutingSettings(kafka_topic_prefix=PREFIX, consumer_group=None)
    consumer = EventConsumer(broker, settings)  # type: ignore[arg-type]
    raws = [
        SimpleNamespace(
            topic=r.topic,
            partition=r.partition,
            offset=100 + i,
            key=r.key,
            value=r.value,
            headers=r.headers,
        )
        for i, r in enumerate(records)
    ]
    valid = await consumer.decode_records(
        SimpleNamespace(raw_message=tuple(raws)),  # type: ignore[arg-type]
        InquiryReceived,
    )
    assert valid == []
    assert len(broker.published) == len(records)
    found: dict[str, DeadLetter] = {}
    for letter, record in zip(broker.published, records, strict=True):
        assert letter["topic"] == PREFIX + DEAD_LETTER_TOPIC
        assert letter["key"] == record.key  # the marker survives dead-lettering
        assert letter["value"] == record.value
        headers = [(name, value.encode()) for name, value in letter["headers"].items()]
        assert marker_of(letter["key"], headers) == record.marker
        _collect(found, {r.marker for r in records}, letter["topic"], letter["key"], headers)
    for i, record in enumerate(records):
        dead = found[record.marker]
        assert record.expected_reason in dead.reason
        assert dead.topic == topic
        assert dead.partition == record.partition
        assert dead.offset == 100 + i
        group = f"{PREFIX}indgang-routing.{topic_for(InquiryReceived)}"
        assert dead.groups == [group]
        assert dead.tries == 1
        assert dead.tries_by_group == {group: 1}
        assert dead.failed_at


def test_markers_are_found_by_ce_id_or_key_and_others_ignored() -> None:
    assert marker_of(b"poison-1", []) == "poison-1"
    assert marker_of(b"cvr:1", [("ce_id", b"poison-2")]) == "poison-2"
    assert marker_of(b"cvr:1", [("ce_id", b"abc")]) is None
    assert marker_of(None, []) is None
    found: dict[str, DeadLetter] = {}
    _collect(found, {"poison-9"}, "dlq", b"poison-1", [])
    assert found == {}
    headers = [("dlt_reason", b"r"), ("dlt_consumer_group", b"g"), ("dlt_original_topic", b"t")]
    _collect(found, {"poison-9"}, "dlq", b"poison-9", headers)
    _collect(found, {"poison-9"}, "dlq", b"poison-9", headers)
    assert found["poison-9"].tries_by_group == {"g": 2}
    assert found["poison-9"].partition is None
