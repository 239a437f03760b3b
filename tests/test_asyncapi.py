"""The committed AsyncAPI document matches the services' Kafka wiring
(`tools/asyncapi.py`, which imports the services, so this test lives outside
`contracts/`)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_asyncapi_matches_services() -> None:
    spec = importlib.util.spec_from_file_location("asyncapi", ROOT / "tools" / "asyncapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "contracts" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == module.render(), "asyncapi.json is stale; run `make contracts`"
    document = json.loads(committed)
    addresses = {c["address"] for c in document["channels"].values()}
    assert {
        "indgang.inquiry-received.v1",
        "indgang.case-routed.v1",
        "indgang.referral-made.v1",
        "indgang.notification-delivered.v1",
        "indgang.notification-failed.v1",
    } <= addresses
