"""The committed AsyncAPI document matches the services' Kafka wiring
(`tools/asyncapi.py`, which imports the services, so this test lives outside
`contracts/`), has the shape integrators rely on, and its examples validate."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from asyncapi_records import SCHEMAS, document, problems, validator

from indgang_contracts.envelope import decode, encode
from indgang_contracts.events import EVENT_TYPES
from indgang_contracts.examples import CASE_ROUTED, EXAMPLES, INQUIRY_RECEIVED
from indgang_contracts.topics import DEAD_LETTER_TOPIC, TOPICS, topic_for

ROOT = Path(__file__).resolve().parents[1]
HEADERS = (
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_subject",
    "ce_time",
    "ce_specversion",
    "ce_dataschema",
    "ce_municipalitycode",
    "content-type",
    "correlation_id",
)


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asyncapi", ROOT / "tools" / "asyncapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_asyncapi_matches_services() -> None:
    committed = (ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == _tool().render(), "asyncapi.json is stale; run `make contracts`"


def _channels() -> dict[str, Any]:
    channels: dict[str, Any] = document()["channels"]
    return channels


def _operations(action: str) -> list[tuple[str, str, str]]:
    """(service, operation id, topic) of every operation with `action`."""
    channels = _channels()
    out: list[tuple[str, str, str]] = []
    for operation_id, operation in document()["operations"].items():
        if operation["action"] == action:
            channel = channels[operation["channel"]["$ref"].rsplit("/", 1)[-1]]
            out.append((operation_id.split("/", 1)[0], operation_id, channel["address"]))
    return out


def test_one_channel_per_topic() -> None:
    addresses = [c["address"] for c in _channels().values()]
    assert len(addresses) == len(set(addresses)), "a topic has more than one channel"
    assert sorted(addresses) == sorted(t.name for t in TOPICS)
    for channel in _channels().values():
        assert channel["bindings"]["kafka"]["topic"] == channel["address"]
        assert len(channel["messages"]) == 1


def test_every_event_has_its_publisher_and_its_source() -> None:
    publishers: dict[str, set[str]] = {}
    for service, _, topic in _operations("send"):
        publishers.setdefault(topic, set()).add(service)
    messages = document()["components"]["messages"]
    for model in EVENT_TYPES.values():
        topic = topic_for(model)
        assert publishers.get(topic), f"no service declares that it publishes {topic}"
        (channel,) = (c for c in _channels().values() if c["address"] == topic)
        (ref,) = (m["$ref"] for m in channel["messages"].values())
        message = messages[ref.rsplit("/", 1)[-1]]
        assert message["payload"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        headers = message["headers"]["properties"]
        sources = {headers["ce_source"].get("const")} - {None} or set(headers["ce_source"]["enum"])
        assert sources == {f"/indgang/{s}" for s in publishers[topic]}
        assert headers["ce_type"]["const"] == model.ce_type()
        assert set(HEADERS) <= set(headers)
        assert set(HEADERS) - {"correlation_id"} <= set(message["headers"]["required"])
        assert message["bindings"]["kafka"]["key"]["description"]


def test_every_subscriber_is_a_receive_operation_with_its_own_group() -> None:
    receivers = _operations("receive")
    assert ("routing", "routing/on_inquiry_received", "indgang.inquiry-received.v1") in receivers
    for service, operation_id, topic in receivers:
        group = document()["operations"][operation_id]["bindings"]["kafka"]["groupId"]["const"]
        assert group == f"indgang-{service}.{topic}"


def test_the_dead_letter_topic_and_its_headers() -> None:
    (channel,) = (c for c in _channels().values() if c["address"] == DEAD_LETTER_TOPIC)
    (ref,) = (m["$ref"] for m in channel["messages"].values())
    message = document()["components"]["messages"][ref.rsplit("/", 1)[-1]]
    assert set(message["headers"]["required"]) == {
        "dlt_reason",
        "dlt_original_topic",
        "dlt_original_partition",
        "dlt_original_offset",
        "dlt_consumer_group",
        "dlt_failed_at",
    }
    writers = {service for service, _, topic in _operations("send") if topic == DEAD_LETTER_TOPIC}
    assert writers == {service for service, _, _ in _operations("receive")}


def test_info_describes_every_header_and_the_partition_key() -> None:
    description = document()["info"]["description"]
    for header in HEADERS:
        assert f"`{header}`" in description, header
    assert "partitionkey" in description
    assert DEAD_LETTER_TOPIC in description


def _examples() -> list[tuple[str, str, dict[str, Any]]]:
    out: list[tuple[str, str, dict[str, Any]]] = []
    for channel in _channels().values():
        (ref,) = (m["$ref"] for m in channel["messages"].values())
        message = document()["components"]["messages"][ref.rsplit("/", 1)[-1]]
        assert message["examples"], f"{channel['address']} has no example"
        out.extend((channel["address"], ref, example) for example in message["examples"])
    return out


@pytest.mark.parametrize(("topic", "ref", "example"), _examples(), ids=lambda v: str(v)[:40])
def test_every_example_validates(topic: str, ref: str, example: dict[str, Any]) -> None:
    headers = example["headers"]
    value = json.dumps(example["payload"]).encode()
    if topic == DEAD_LETTER_TOPIC:
        assert problems(topic, None, headers, value) == []
        return
    model = EVENT_TYPES[headers["ce_type"]]
    key = decode({k: v.encode() for k, v in headers.items()}, value).data.partition_key()
    assert problems(topic, key, headers, value) == []
    schema = json.loads(
        (SCHEMAS / f"{model.EVENT_NAME}.v{model.EVENT_VERSION}.json").read_text(encoding="utf-8")
    )
    assert list(validator(schema["$id"]).iter_errors(example["payload"])) == []


def test_every_event_has_an_example() -> None:
    assert {type(e) for e in EXAMPLES} == set(EVENT_TYPES.values())


def test_the_record_check_finds_what_is_wrong() -> None:
    record = encode(CASE_ROUTED, source="/indgang/routing")
    topic = f"test-x.{record.topic}"
    assert problems(topic, record.key, record.headers, record.value, prefix="test-x.") == []

    forged = encode(CASE_ROUTED, source="/indgang/intake")
    assert any(
        "ce_source" in p for p in problems(forged.topic, forged.key, forged.headers, forged.value)
    )
    wrong_key = problems(record.topic, "another-key", record.headers, record.value)
    assert any("partition key" in p for p in wrong_key)
    data = json.loads(record.value)
    data["first_contact_due"] = "3 December"
    bad = problems(record.topic, record.key, record.headers, json.dumps(data))
    assert any("first_contact_due" in p for p in bad)
    elsewhere = encode(INQUIRY_RECEIVED, source="/indgang/intake")
    assert problems(record.topic, elsewhere.key, elsewhere.headers, elsewhere.value)
    assert problems("indgang.unknown.v1", record.key, record.headers, record.value)
