"""The committed JSON Schemas and AsyncAPI document match the code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from indgang_contracts.generate import SCHEMA_DIR, render, schemas

CONTRACTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_matches_model(name: str) -> None:
    committed = SCHEMA_DIR / name
    assert committed.exists(), f"{name} is not committed; run `make contracts`"
    assert committed.read_text(encoding="utf-8") == render(schemas()[name]), (
        f"{name} differs from the model; run `make contracts` and commit"
    )


def test_no_stale_schema_files() -> None:
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(schemas())


def test_committed_asyncapi_matches_services() -> None:
    spec = importlib.util.spec_from_file_location("asyncapi", CONTRACTS / "scripts" / "asyncapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (CONTRACTS / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == module.render(), "asyncapi.json is stale; run `make contracts`"
    document = json.loads(committed)
    addresses = {c["address"] for c in document["channels"].values()}
    assert {
        "indgang.inquiry-received.v1",
        "indgang.case-routed.v1",
        "indgang.referral-made.v1",
    } <= addresses
