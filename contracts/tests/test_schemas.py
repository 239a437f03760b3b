"""The committed JSON Schemas match the models (the AsyncAPI document, generated from
the services, is checked by `tests/test_asyncapi.py`)."""

from __future__ import annotations

import pytest

from indgang_contracts.generate import SCHEMA_DIR, render, schemas


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_matches_model(name: str) -> None:
    committed = SCHEMA_DIR / name
    assert committed.exists(), f"{name} is not committed; run `make contracts`"
    assert committed.read_text(encoding="utf-8") == render(schemas()[name]), (
        f"{name} differs from the model; run `make contracts` and commit"
    )


def test_no_stale_schema_files() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(schemas())
