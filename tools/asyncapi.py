"""Generates contracts/asyncapi.json from the four services' FastStream brokers.

Run with `make contracts`; `tests/test_asyncapi.py` fails when the committed
document drifts. A tool of the repository, not of `contracts/`: it imports the
services, and nothing in `contracts/` may depend on a service.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from indgang_contracts.events import EVENT_TYPES
from indgang_guide.app import create_app as guide
from indgang_guide.settings import GuideSettings
from indgang_intake.app import create_app as intake
from indgang_intake.settings import IntakeSettings
from indgang_notifications.app import create_app as notifications
from indgang_notifications.settings import NotificationSettings
from indgang_routing.app import create_app as routing
from indgang_routing.settings import RoutingSettings

TARGET = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.json"


def document() -> dict[str, Any]:
    # The apps are only built, never started: the development settings (the
    # production defaults would refuse the development users and keys).
    apps = [
        intake(IntakeSettings(environment="development")),
        routing(RoutingSettings(environment="development")),
        notifications(NotificationSettings(environment="development")),
        guide(GuideSettings(environment="development")),
    ]
    brokers = [app.state.runtime.broker for app in apps]
    spec = AsyncAPI(
        *brokers,
        title="indgang events",
        version="1",
        description=(
            "Events of the one entrance for social-economy enterprises. CloudEvents 1.0 in "
            "Kafka binary mode: ce_id, ce_type, ce_source, ce_time, ce_specversion, ce_subject "
            "and content-type headers; the JSON body is the event data. One topic per event "
            "type with its major version in the name."
        ),
        schema_version="3.0.0",
    )
    result: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return _with_cloudevent_headers(result)


CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode.",
    "required": ["ce_id", "ce_type", "ce_source", "ce_specversion", "content-type"],
    "properties": {
        "ce_id": {"type": "string", "description": "Unique event id; consumers dedupe on it."},
        "ce_type": {"type": "string", "examples": ["dk.indgang.inquiry-received.v1"]},
        "ce_source": {"type": "string", "examples": ["/indgang/intake"]},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_subject": {"type": "string", "description": "Id of the inquiry or case."},
        "ce_dataschema": {"type": "string"},
        "ce_municipalitycode": {"type": "string", "pattern": "^\\d{3}$"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _with_cloudevent_headers(document: dict[str, Any]) -> dict[str, Any]:
    """FastStream documents each message's payload (the event model a subscriber's or
    publisher's parameter is typed with) but has no way to declare headers: add the
    CloudEvents ones. A message without an event model is a wiring mistake: fail."""
    models = {model.__name__ for model in EVENT_TYPES.values()}
    for name, message in document["components"]["messages"].items():
        schema = message.get("payload", {}).get("$ref", "").rsplit("/", 1)[-1]
        if schema not in models:
            raise SystemExit(
                f"{name} has no event model as its payload; wire it with "
                "indgang_runtime.wiring.subscribe / declare_publishers"
            )
        message["headers"] = CE_HEADERS
    return document


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
