"""The CloudEvents 1.0 envelope in Kafka binary content mode.

Attributes travel as `ce_*` headers and `content-type`; the body is the event's
JSON data. We use the CloudEvents SDK's Kafka binding so that any CloudEvents
SDK, kcat or Kafka's console consumer reads our records the same way.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from indgang_contracts.events import EVENT_TYPES, Event
from indgang_contracts.topics import topic_for
from indgang_contracts.upcasting import upcast

CONTENT_TYPE = "application/json"


class InvalidEvent(ValueError):
    """A record that is not a valid indgang event; `reason` says why (for dead-lettering)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Envelope(Generic[E]):
    """A decoded event together with its CloudEvent attributes."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None
    data: E
    extensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """A Kafka record ready to send: topic, key, headers (text) and value."""

    topic: str
    key: str
    headers: dict[str, str]
    value: bytes


def encode(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    extensions: dict[str, str] | None = None,
) -> Record:
    """Wrap `event` in a CloudEvent and return the binary-mode Kafka record."""
    attributes: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event.ce_type(),
        "specversion": "1.0",
        "time": time or datetime.now(UTC),
        "subject": event.subject(),
        "datacontenttype": CONTENT_TYPE,
        "dataschema": f"urn:indgang:schema:{event.EVENT_NAME}:v{event.EVENT_VERSION}",
        "municipalitycode": event.municipality_code,
        "partitionkey": event.partition_key(),
        **(extensions or {}),
    }
    data = json.loads(event.model_dump_json())
    message = ce_kafka.to_binary_event(CloudEvent(attributes=attributes, data=data))
    key = message.key.decode() if isinstance(message.key, bytes) else str(message.key)
    headers = {name: value.decode() for name, value in message.headers.items()}
    # The key already carries the partition key; a duplicate header adds nothing.
    headers.pop("ce_partitionkey", None)
    return Record(topic=topic_for(type(event)), key=key, headers=headers, value=message.value)


def decode(
    headers: dict[str, bytes] | list[tuple[str, bytes]],
    value: bytes | None,
    key: bytes | None = None,
) -> Envelope[Event]:
    """Parse a binary-mode record into an `Envelope`, or raise `InvalidEvent` with the reason."""
    header_map = dict(headers) if not isinstance(headers, dict) else headers
    if "ce_type" not in header_map or "ce_id" not in header_map:
        raise InvalidEvent("not a CloudEvent: ce_id/ce_type headers missing")
    try:
        message = ce_kafka.KafkaMessage(headers=header_map, key=key, value=value or b"")
        cloud_event = ce_kafka.from_binary_event(message)
    except Exception as exc:  # the SDK raises several types for malformed input
        raise InvalidEvent(f"malformed CloudEvent: {exc}") from exc
    ce_type = cloud_event.get_type()
    data = cloud_event.get_data()
    if not isinstance(data, dict):
        raise InvalidEvent("event data is not a JSON object")
    ce_type, data = upcast(ce_type, data)
    model = EVENT_TYPES.get(ce_type)
    if model is None:
        raise InvalidEvent(f"unknown event type {ce_type!r}")
    try:
        event = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidEvent(f"invalid {ce_type} data: {problems}") from exc
    attributes = cloud_event.get_attributes()
    core = {"id", "type", "source", "time", "subject", "specversion", "datacontenttype"}
    return Envelope(
        id=cloud_event.get_id(),
        type=ce_type,
        source=cloud_event.get_source(),
        time=cloud_event.get_time() or datetime.now(UTC),
        subject=cloud_event.get_subject(),
        data=event,
        extensions={k: str(v) for k, v in attributes.items() if k not in core},
    )
