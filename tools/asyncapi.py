"""Generates contracts/asyncapi.json (AsyncAPI 3) from the services' Kafka wiring.

Run with `make contracts`; `tests/test_asyncapi.py` fails when the committed document
drifts. A tool of the repository, not of `contracts/`: it imports the services, and
nothing in `contracts/` may depend on a service.

What comes from where:
- one channel per topic, from the contracts (`indgang_contracts.topics.TOPICS`, which
  has the dead-letter topic too), with the event's JSON Schema as its payload;
- who publishes and who subscribes, from each service's FastStream broker (what
  `indgang_runtime.wiring.declare_publishers` and `subscribe` registered), so a publisher
  or a subscriber cannot be missing; `ce_source` per message follows from its publishers;
- the CloudEvents headers, from what `indgang_contracts.envelope.encode` writes; each
  message's example is its event from `indgang_contracts.examples`, encoded the same way.

Consumers of this document besides people: deploy/kafka/acls.py (ACLs per service),
prove/lag.py and prove/poison.py (consumer groups), tests/asyncapi_records.py (checks
published records). They read `operations` keyed `<service>/…` and `channels[…].address`.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic.json_schema import models_json_schema

from indgang_contracts.envelope import CONTENT_TYPE, encode
from indgang_contracts.events import EVENT_TYPES, Event
from indgang_contracts.examples import EXAMPLES
from indgang_contracts.topics import DEAD_LETTER_TOPIC, TOPICS, topic_for

TARGET = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.json"
KAFKA_BINDING = "0.5.0"
DEAD_LETTER = "DeadLetter"

# The headers `indgang_runtime.messaging.EventConsumer` adds when it dead-letters a record.
DEAD_LETTER_HEADERS: dict[str, str] = {
    "dlt_reason": "Why the record was dead-lettered (at most 2000 characters), e.g. 'invalid "
    "dk.indgang.referral-made.v1 data: purpose: String should have at least 1 character' or "
    "'handler failed: …'. Never personal data beyond what the record itself holds.",
    "dlt_original_topic": "The topic the record was read from (with its prefix, if any).",
    "dlt_original_partition": "Its partition there (decimal).",
    "dlt_original_offset": "Its offset there (decimal).",
    "dlt_consumer_group": "The consumer group that gave up on it: "
    "`indgang-<service>.<topic>`; re-drive to that group only.",
    "dlt_failed_at": "When (ISO 8601, UTC).",
}


class Wiring:
    """Who publishes and who subscribes to one event's topic, per the services' code.
    (A plain class: this file is also loaded by path, where a dataclass cannot be.)"""

    def __init__(self) -> None:
        self.publishers: list[str] = []
        self.subscribers: list[tuple[str, str, str]] = []  # service, handler, description


def _service_apps() -> list[tuple[str, KafkaBroker]]:
    from indgang_guide.app import create_app as guide
    from indgang_guide.settings import GuideSettings
    from indgang_intake.app import create_app as intake
    from indgang_intake.settings import IntakeSettings
    from indgang_notifications.app import create_app as notifications
    from indgang_notifications.settings import NotificationSettings
    from indgang_reporting.app import create_app as reporting
    from indgang_reporting.settings import ReportingSettings
    from indgang_routing.app import create_app as routing
    from indgang_routing.settings import RoutingSettings

    # The apps are only built, never started: the development settings (the production
    # defaults would refuse the development users and keys), no topic prefix.
    common: dict[str, Any] = {"environment": "development", "kafka_topic_prefix": ""}
    apps = {
        "intake": intake(IntakeSettings(**common)),
        "routing": routing(RoutingSettings(**common)),
        "notifications": notifications(NotificationSettings(**common)),
        "guide": guide(GuideSettings(**common)),
        "reporting": reporting(ReportingSettings(**common)),
    }
    return [(name, app.state.runtime.broker) for name, app in apps.items()]


def wiring(services: Iterable[tuple[str, KafkaBroker]]) -> dict[str, Wiring]:
    """Event name → its publishers and subscribers, read from FastStream's own AsyncAPI
    document of each service's broker (one per service, so the service is known)."""
    models = {model.__name__: model for model in EVENT_TYPES.values()}
    found = {model.EVENT_NAME: Wiring() for model in EVENT_TYPES.values()}
    for service, broker in services:
        spec = AsyncAPI(broker, title=service, version="1", schema_version="3.0.0")
        document: dict[str, Any] = json.loads(spec.to_specification().to_json())
        messages = document["components"].get("messages", {})
        for operation_id, operation in sorted(document.get("operations", {}).items()):
            channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
            # FastStream's message refs point into its channel; the channel's points on to
            # the component with the payload.
            channel_id, _, name = operation["messages"][0]["$ref"][len("#/channels/") :].partition(
                "/messages/"
            )
            component = document["channels"][channel_id]["messages"][name]["$ref"]
            message = messages[component.rsplit("/", 1)[-1]]
            schema = message.get("payload", {}).get("$ref", "").rsplit("/", 1)[-1]
            model = models.get(schema)
            if model is None:
                raise SystemExit(
                    f"{service}: {operation_id} has no event model as its payload; wire it "
                    "with indgang_runtime.wiring.subscribe / declare_publishers"
                )
            if channel["address"] != topic_for(model):
                raise SystemExit(
                    f"{service}: {operation_id} is on {channel['address']}, "
                    f"not on {topic_for(model)}"
                )
            entry = found[model.EVENT_NAME]
            if operation["action"] == "send":
                entry.publishers.append(service)
            else:
                name = operation_id.split("/", 1)[-1]
                entry.subscribers.append((service, name, channel.get("description", "")))
    return found


def _fields_used(method: Callable[..., Any]) -> list[str]:
    """The data fields a model's subject()/partition_key() returns, in order of preference."""
    source = inspect.getsource(method)
    fields = re.findall(r"self\.(\w+)", source)
    if fields == ["subject"]:  # partition_key() returning the subject
        return []
    return [f for f in fields if f != "subject"]


def _subject_of(model: type[Event]) -> list[str]:
    return _fields_used(model.subject)


def _key_of(model: type[Event]) -> list[str]:
    return _fields_used(model.partition_key) or _subject_of(model)


def _either(names: list[str]) -> str:
    return ", else ".join(f"`{n}`" for n in names)


def _sources(publishers: list[str]) -> dict[str, Any]:
    values = [f"/indgang/{service}" for service in publishers]
    if len(values) == 1:
        return {"const": values[0]}
    return {"enum": values}


def _headers(model: type[Event], publishers: list[str]) -> dict[str, Any]:
    subject = _either(_subject_of(model))
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary content mode (UTF-8 header "
        "values); more headers may come (ignore those you do not know).",
        "required": [
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_specversion",
            "ce_time",
            "ce_subject",
            "ce_dataschema",
            "ce_municipalitycode",
            "content-type",
        ],
        "additionalProperties": True,
        "properties": {
            "ce_id": {
                "type": "string",
                "minLength": 1,
                "description": "The event's unique id (a UUID). The same event delivered twice "
                "carries the same ce_id: deduplicate on it.",
            },
            "ce_source": {
                "type": "string",
                **_sources(publishers),
                "description": "The producing service: `/indgang/<service>`.",
            },
            "ce_type": {
                "type": "string",
                "const": model.ce_type(),
                "description": "The event type with its major version; equals the topic's.",
            },
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event was created (RFC 3339, UTC).",
            },
            "ce_subject": {
                "type": "string",
                "description": f"What the event is about: the data's {subject}.",
            },
            "ce_dataschema": {
                "type": "string",
                "const": f"urn:indgang:schema:{model.EVENT_NAME}:v{model.EVENT_VERSION}",
                "description": "The `$id` of the data's JSON Schema, "
                f"contracts/schemas/{model.EVENT_NAME}.v{model.EVENT_VERSION}.json.",
            },
            "ce_municipalitycode": {
                "type": "string",
                "pattern": "^\\d{3}$",
                "description": "CloudEvents extension: the data's `municipality_code` "
                "(kommunekode), to filter without parsing the body.",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            "correlation_id": {
                "type": "string",
                "description": "Set by the publishing client (FastStream), new on every "
                "publish attempt: for following one record through logs, never for "
                "deduplication (use ce_id).",
            },
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C Trace Context of the work that wrote the event (kept "
                "with the outbox entry, so also on records relayed later): a consumer may "
                "continue the trace. Absent when tracing is off.",
            },
            "tracestate": {
                "type": "string",
                "description": "W3C Trace Context vendor state, with traceparent; optional.",
            },
        },
    }


def _message(model: type[Event], example: Event, entry: Wiring) -> dict[str, Any]:
    doc = inspect.cleandoc(model.__doc__ or "")
    key = _either(_key_of(model))
    publishers = entry.publishers or []
    headers = _headers(model, publishers)
    producers = ", ".join(publishers) or "NOBODY (no service declares it)"
    return {
        "name": model.EVENT_NAME,
        "title": f"{model.EVENT_NAME} v{model.EVENT_VERSION}",
        "summary": doc.split("\n", 1)[0],
        "description": f"{doc}\n\nPublished by {producers}. Kafka key: the data's {key}. "
        f"JSON Schema: contracts/schemas/{model.EVENT_NAME}.v{model.EVENT_VERSION}.json.",
        "contentType": CONTENT_TYPE,
        "headers": headers,
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        "correlationId": {"$ref": "#/components/correlationIds/correlation_id"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The data's {key}: all events "
                    "of one key are in one partition, in order.",
                },
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "examples": [_example(model, example, publishers[0] if publishers else "unknown")],
    }


def _example(model: type[Event], event: Event, publisher: str) -> dict[str, Any]:
    record = encode(
        event,
        source=f"/indgang/{publisher}",
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:indgang:example:{model.EVENT_NAME}")),
        time=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    )
    return {
        "name": model.EVENT_NAME,
        "summary": f"One {model.EVENT_NAME} record (key {record.key}).",
        "headers": {
            **record.headers,
            "correlation_id": str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"urn:indgang:example:{model.EVENT_NAME}:publish")
            ),
        },
        "payload": json.loads(record.value),
    }


def _dead_letter_message() -> dict[str, Any]:
    original = EXAMPLES[2]  # a referral-made the consumer could not handle
    example = _example(type(original), original, "routing")
    return {
        "name": "dead-letter",
        "title": "dead letter",
        "summary": "A record a service's consumer could not decode, validate or handle.",
        "description": "The original record's key, value and headers, unchanged (a record "
        "that was no CloudEvent has no ce_* headers), plus the dlt_* headers saying where it "
        "came from and why. Written only by indgang's services: a department system parks "
        "its bad records in a topic or table of its own and never writes here "
        "(docs/integrators.md). Ops re-drive dead letters after a fix.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "required": list(DEAD_LETTER_HEADERS),
            "additionalProperties": True,
            "properties": {
                **{
                    name: {"type": "string", "description": text}
                    for name, text in DEAD_LETTER_HEADERS.items()
                },
                "dlt_original_partition": {
                    "type": "string",
                    "pattern": "^\\d+$",
                    "description": DEAD_LETTER_HEADERS["dlt_original_partition"],
                },
                "dlt_original_offset": {
                    "type": "string",
                    "pattern": "^\\d+$",
                    "description": DEAD_LETTER_HEADERS["dlt_original_offset"],
                },
                "dlt_failed_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": DEAD_LETTER_HEADERS["dlt_failed_at"],
                },
                "ce_id": {"type": "string", "description": "The original's, if it had one."},
                "ce_type": {"type": "string", "description": "The original's, if it had one."},
            },
        },
        "payload": {
            "description": "The original record's value, byte for byte (often, but not "
            "always, JSON)."
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original record's key."},
                "bindingVersion": KAFKA_BINDING,
            }
        },
        "examples": [
            {
                "name": "invalid-referral-made",
                "summary": "A referral-made whose data notifications could not handle.",
                "headers": {
                    **example["headers"],
                    "dlt_reason": "handler failed: TemplateError: referral_department: "
                    "unknown department",
                    "dlt_original_topic": "indgang.referral-made.v1",
                    "dlt_original_partition": "3",
                    "dlt_original_offset": "1207",
                    "dlt_consumer_group": "indgang-notifications.indgang.referral-made.v1",
                    "dlt_failed_at": "2026-12-01T09:00:02.481000+00:00",
                },
                "payload": example["payload"],
            }
        ],
    }


def _component_schemas() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(model, "serialization") for model in EVENT_TYPES.values()],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    return schemas


DESCRIPTION = """\
The events of indgang, the one entrance for social-economy enterprises. One Kafka topic \
per event type, `indgang.<event>.v<major>`; a department system subscribes with a consumer \
group of its own (docs/integrators.md: quick start, rules, examples).

**Records.** CloudEvents 1.0 in Kafka binary content mode: the value is the event data \
(JSON, UTF-8, described by the JSON Schema in contracts/schemas/<event>.v<major>.json, \
the same as this document's payload), the attributes are headers:
- `ce_id`: the event's unique id; deduplicate on it (delivery is at least once);
- `ce_source`: the producing service, `/indgang/<service>` (each topic has one producer);
- `ce_type`: `dk.indgang.<event>.v<major>`, the same on every record of a topic;
- `ce_subject`: the id of what the event is about (a case id, an inquiry id, …);
- `ce_time`: when the event was created (RFC 3339, UTC);
- `ce_specversion`: `1.0`;
- `ce_dataschema`: `urn:indgang:schema:<event>:v<major>`, the `$id` of the data's schema;
- `ce_municipalitycode`: extension, the three-digit kommunekode of the data's \
`municipality_code`;
- `content-type`: `application/json`;
- `correlation_id`: set by the publishing client, new on every attempt; for logs only;
- `traceparent` / `tracestate`: W3C Trace Context of the work that wrote the event \
(OpenTelemetry), to continue the trace; optional.
The CloudEvents partitioning extension `partitionkey` travels as the Kafka record key \
(there is no `ce_partitionkey` header); CloudEvents SDKs map it back, and webhook bodies \
show it as `partitionkey`. All events of one key (a case id, or the organisation key for \
inquiries) are in one partition, in order.

**References.** `reference` on inquiry-received is that inquiry's (on its receipt). On every \
event of a case, `reference` is the case's own reference, the one the enterprise keeps \
(its first inquiry's), with one exception: a case-routed with `follow_up: true` (a later \
inquiry joined the open case) has the new inquiry's in `reference` and the case's in \
`case_reference`. `case_id` joins all events of one case; `consultant` on referral events \
is the case's owning consultant, who stays the enterprise's one contact.

**Dead letters.** A record one of indgang's consumers cannot decode, validate or handle \
is copied to `indgang.dead-letter.v1` with `dlt_*` headers and skipped. That topic is \
indgang's own: never write to it.

**Versions.** Additive changes (a new optional field, a new enum value, a new event) keep \
the topic; anything else is a new major version and topic, published next to the old one \
for 180 days (docs/contracts-versioning.md; checked against contracts/released/ by \
tools/schema_compat.py)."""


def document(services: Iterable[tuple[str, KafkaBroker]] | None = None) -> dict[str, Any]:
    wired = wiring(_service_apps() if services is None else services)
    examples = {type(e): e for e in EXAMPLES}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    partitions = {t.name: t.partitions for t in TOPICS}
    for model in EVENT_TYPES.values():
        entry = wired[model.EVENT_NAME]
        topic = topic_for(model)
        channel_id = f"{model.EVENT_NAME}.v{model.EVENT_VERSION}"
        messages[model.__name__] = _message(model, examples[model], entry)
        readers = sorted({service for service, _, _ in entry.subscribers})
        channels[channel_id] = {
            "address": topic,
            "title": topic,
            "description": f"{inspect.cleandoc(model.__doc__ or '')}\n\nProducer: "
            f"{', '.join(entry.publishers) or 'none'}. Read inside indgang by: "
            f"{', '.join(readers) or 'nobody'}. Key: the data's {_either(_key_of(model))}.",
            "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
            "bindings": {
                "kafka": {
                    "topic": topic,
                    "partitions": partitions[topic],
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        message_ref = {"$ref": f"#/channels/{channel_id}/messages/{model.__name__}"}
        for service in entry.publishers:
            operations[f"{service}/publish/{model.EVENT_NAME}"] = {
                "action": "send",
                "title": f"{service} publishes {model.EVENT_NAME}",
                "summary": f"Through {service}'s outbox: written with the change that caused "
                "it, published at least once.",
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [message_ref],
            }
        for service, name, text in entry.subscribers:
            operations[f"{service}/{name}"] = {
                "action": "receive",
                "title": f"{service} {name}",
                "description": text,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [message_ref],
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "const": f"indgang-{service}.{topic}"},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            }
    messages[DEAD_LETTER] = _dead_letter_message()
    channels["dead-letter.v1"] = {
        "address": DEAD_LETTER_TOPIC,
        "title": DEAD_LETTER_TOPIC,
        "description": "Records a consumer of indgang could not decode, validate or handle, "
        "with the reason. Written by every indgang service that consumes; read by ops "
        "(re-drive after a fix). Not for department systems to write.",
        "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
        "bindings": {
            "kafka": {
                "topic": DEAD_LETTER_TOPIC,
                "partitions": partitions[DEAD_LETTER_TOPIC],
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    consumers = sorted({s for e in wired.values() for s, _, _ in e.subscribers})
    for service in consumers:
        operations[f"{service}/dead-letter"] = {
            "action": "send",
            "title": f"{service} dead-letters",
            "summary": "A record it could not decode, validate or handle, with the reason.",
            "channel": {"$ref": "#/channels/dead-letter.v1"},
            "messages": [{"$ref": f"#/channels/dead-letter.v1/messages/{DEAD_LETTER}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "indgang events", "version": "1", "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "development": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "`make up`: one broker, PLAINTEXT on loopback.",
            },
            "production": {
                "host": "kafka.kommune.example:9093",
                "protocol": "kafka-secure",
                "description": "SASL_SSL with SCRAM-SHA-512, a principal per system "
                "(docs/kafka-security.md); the host is the municipality's.",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": _component_schemas(),
            "correlationIds": {
                "correlation_id": {
                    "location": "$message.header#/correlation_id",
                    "description": "The publishing client's id of one publish attempt.",
                }
            },
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SCRAM-SHA-512 over TLS; one principal per service and "
                    "per department system.",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
