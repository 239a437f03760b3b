"""Checks Kafka records against the committed contracts: the AsyncAPI document
(contracts/asyncapi.json: the topic is a channel, the headers match its message's
headers, the value its payload) and the JSON Schema of the event
(contracts/schemas/<event>.v<N>.json, found by `ce_dataschema`), with formats enforced.

Reusable: tests that collect published records (`harness.EventLog.records`) call
`assert_records_match_contracts(records, prefix=system.topic(""))`; test_asyncapi.py checks
the document's own examples with `problems`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from indgang_contracts.envelope import InvalidEvent, decode

ROOT = Path(__file__).resolve().parents[1]
ASYNCAPI = ROOT / "contracts" / "asyncapi.json"
SCHEMAS = ROOT / "contracts" / "schemas"
DOCUMENT_URI = "urn:indgang:asyncapi"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

FORMATS = FormatChecker()


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    # jsonschema checks date-time only with an optional package; the contracts promise
    # RFC 3339 with an offset, so check that here.
    return not isinstance(value, str) or bool(_RFC3339.match(value))


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ASYNCAPI.read_text(encoding="utf-8"))
    return loaded


@cache
def _registry() -> Registry:
    registry: Registry = Registry()
    registry = registry.with_resource(
        DOCUMENT_URI, Resource.from_contents(document(), default_specification=DRAFT202012)
    )
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry.crawl()


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` (`#/components/…`) in the AsyncAPI document,
    or for a whole JSON Schema by its `$id` (`urn:indgang:schema:…`)."""
    ref = pointer if pointer.startswith("urn:indgang:schema:") else f"{DOCUMENT_URI}{pointer}"
    return Draft202012Validator({"$ref": ref}, registry=_registry(), format_checker=FORMATS)


def channel_of(topic: str) -> tuple[str, dict[str, Any]] | None:
    for channel_id, channel in document()["channels"].items():
        if channel["address"] == topic:
            return channel_id, channel
    return None


def message_pointer(channel: Mapping[str, Any]) -> str:
    (reference,) = (m["$ref"] for m in channel["messages"].values())
    return str(reference)


def problems(
    topic: str,
    key: bytes | str | None,
    headers: Mapping[str, str],
    value: bytes | str,
    *,
    prefix: str = "",
) -> list[str]:
    """What is wrong with one record (empty when it matches the contracts)."""
    name = topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic
    found = channel_of(name)
    if found is None:
        return [f"{topic}: no channel in asyncapi.json"]
    _, channel = found
    pointer = message_pointer(channel)
    out: list[str] = []
    for error in validator(f"{pointer}/headers").iter_errors(dict(headers)):
        out.append(f"{name} headers {'/'.join(map(str, error.path))}: {error.message}")
    raw = value if isinstance(value, bytes) else value.encode()
    if name.endswith("dead-letter.v1"):
        return out
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return [*out, f"{name}: value is not JSON ({exc})"]
    for error in validator(f"{pointer}/payload").iter_errors(data):
        out.append(f"{name} payload {'/'.join(map(str, error.path))}: {error.message}")
    dataschema = headers.get("ce_dataschema", "")
    if not dataschema.startswith("urn:indgang:schema:"):
        return [*out, f"{name}: ce_dataschema {dataschema!r} names no indgang schema"]
    for error in validator(dataschema).iter_errors(data):
        out.append(f"{name} data vs {dataschema} {'/'.join(map(str, error.path))}: {error.message}")
    key_bytes = key.encode() if isinstance(key, str) else key
    try:
        envelope = decode({k: v.encode() for k, v in headers.items()}, raw, key_bytes)
    except InvalidEvent as exc:
        return [*out, f"{name}: {exc.reason}"]
    expected_key = envelope.data.partition_key()
    if (key_bytes or b"").decode() != expected_key:
        out.append(f"{name}: key {key_bytes!r} is not the partition key {expected_key!r}")
    return out


def assert_records_match_contracts(records: Iterable[Any], *, prefix: str = "") -> int:
    """Check aiokafka `ConsumerRecord`s (topic, key, headers, value); returns how many."""
    found: list[str] = []
    count = 0
    for record in records:
        count += 1
        headers = {name: value.decode() for name, value in record.headers}
        found.extend(problems(record.topic, record.key, headers, record.value, prefix=prefix))
    assert not found, "records that do not match the contracts:\n" + "\n".join(found)
    return count
