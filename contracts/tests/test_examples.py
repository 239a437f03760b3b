"""Each example validates against its committed JSON Schema (what integrators read)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from indgang_contracts.events import Event
from indgang_contracts.examples import EXAMPLES
from indgang_contracts.generate import SCHEMA_DIR


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.EVENT_NAME)
def test_example_validates_against_committed_schema(example: Event) -> None:
    schema = json.loads(
        (SCHEMA_DIR / f"{example.EVENT_NAME}.v{example.EVENT_VERSION}.json").read_text()
    )
    jsonschema.validate(json.loads(example.model_dump_json()), schema)
