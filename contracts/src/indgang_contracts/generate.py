"""Generates contracts/schemas/*.json from the models (`indgang-contracts-generate`).

The AsyncAPI document is generated from the services' FastStream brokers by
the repository's `tools/asyncapi.py` (it imports the services, so it is not part
of this package); both run in the Makefile target `contracts`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from indgang_contracts.envelope import CONTENT_TYPE
from indgang_contracts.events import EVENT_TYPES
from indgang_contracts.topics import topic_for

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of each event's data, with its CloudEvent facts."""
    out: dict[str, dict[str, Any]] = {}
    for ce_type, model in EVENT_TYPES.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:indgang:schema:{model.EVENT_NAME}:v{model.EVENT_VERSION}"
        schema["x-cloudevents"] = {
            "type": ce_type,
            "topic": topic_for(model),
            "datacontenttype": CONTENT_TYPE,
            "mode": "binary (ce_* Kafka headers, JSON body)",
            "key": "see the description of partition key in the topic's docs",
        }
        out[f"{model.EVENT_NAME}.v{model.EVENT_VERSION}.json"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (target / name).write_text(render(schema), encoding="utf-8")
        print(f"wrote {target / name}")
