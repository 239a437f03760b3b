"""The schema-compatibility check (`tools/schema_compat.py`): the committed schemas are
compatible with the last release, each kind of breaking change fails, additive changes
and a breaking change carried by a new major version pass."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "schema_compat", ROOT / "tools" / "schema_compat.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["schema_compat"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


compat = _load()
RELEASE = ROOT / "contracts" / "released" / "2026-12-01"


def _released() -> dict[str, Any]:
    return dict(compat.load_dir(RELEASE))


def _breaking(released: dict[str, Any], committed: dict[str, Any], **kw: Any) -> list[str]:
    return [str(c) for c in compat.compare(released, committed, **kw) if c.breaking]


def test_committed_schemas_are_compatible_with_the_last_release() -> None:
    changes = compat.check()
    assert [str(c) for c in changes if c.breaking] == []
    assert compat.main([]) == 0


def test_release_2026_12_01_is_the_schemas_of_3916dd8() -> None:
    names = sorted(p.name for p in RELEASE.glob("*.json"))
    assert "referral-made.v1.json" in names
    assert "referral-overdue.v1.json" not in names  # added after that release
    assert len(names) == 10


def _edit(name: str, change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    released = _released()
    committed = copy.deepcopy(released)
    change(committed[name])
    return released, committed


def test_removed_field_breaks() -> None:
    released, committed = _edit(
        "referral-made.v1.json", lambda s: s["properties"].pop("response_due")
    )
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.response_due: field removed"
    ]


def test_removed_field_in_a_nested_definition_breaks() -> None:
    released, committed = _edit(
        "referral-made.v1.json", lambda s: s["$defs"]["Consultant"]["properties"].pop("phone")
    )
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.consultant.phone: field removed"
    ]


def test_retyped_field_breaks() -> None:
    def retype(schema: dict[str, Any]) -> None:
        schema["properties"]["consent_to_share_contact"]["type"] = "string"

    released, committed = _edit("referral-made.v1.json", retype)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.consent_to_share_contact: type boolean → string"
    ]


def test_required_field_made_nullable_breaks() -> None:
    def nullable(schema: dict[str, Any]) -> None:
        field = schema["properties"]["purpose"]
        schema["properties"]["purpose"] = {"anyOf": [field, {"type": "null"}]}

    released, committed = _edit("referral-made.v1.json", nullable)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.purpose: type string → null|string"
    ]


def test_new_required_field_breaks() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["properties"]["priority"] = {"type": "integer"}
        schema["required"].append("priority")

    released, committed = _edit("case-routed.v1.json", add)
    assert _breaking(released, committed) == [
        "BREAKING: case-routed.v1.json data.priority: new required field"
    ]


def test_optional_field_made_required_breaks() -> None:
    released, committed = _edit(
        "case-routed.v1.json", lambda s: s["required"].append("previous_consultant_id")
    )
    assert _breaking(released, committed) == [
        "BREAKING: case-routed.v1.json data.previous_consultant_id: optional field became required"
    ]


def test_required_field_made_optional_breaks() -> None:
    released, committed = _edit("case-routed.v1.json", lambda s: s["required"].remove("reason"))
    assert _breaking(released, committed) == [
        "BREAKING: case-routed.v1.json data.reason: required field became optional"
    ]


def test_narrowed_enum_breaks_and_a_widened_one_does_not() -> None:
    def narrow(schema: dict[str, Any]) -> None:
        schema["$defs"]["Department"]["enum"].remove("csr")

    released, committed = _edit("referral-made.v1.json", narrow)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.target.department: enum narrowed: 'csr' removed"
    ]

    def widen(schema: dict[str, Any]) -> None:
        schema["$defs"]["Department"]["enum"].append("housing")

    released, committed = _edit("referral-made.v1.json", widen)
    assert _breaking(released, committed) == []
    assert "enum widened: 'housing' added" in str(compat.compare(released, committed))


def test_narrowed_constraint_breaks_and_a_widened_one_does_not() -> None:
    def shorter(schema: dict[str, Any]) -> None:
        schema["properties"]["purpose"]["maxLength"] = 500

    released, committed = _edit("referral-made.v1.json", shorter)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.purpose: maxLength 2000 → 500"
    ]

    def longer(schema: dict[str, Any]) -> None:
        schema["properties"]["purpose"]["maxLength"] = 4000

    released, committed = _edit("referral-made.v1.json", longer)
    assert _breaking(released, committed) == []


def test_new_format_breaks() -> None:
    def dated(schema: dict[str, Any]) -> None:
        schema["properties"]["reference"]["format"] = "uuid"

    released, committed = _edit("referral-made.v1.json", dated)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json data.reference: format None → 'uuid'"
    ]


def test_changed_topic_breaks() -> None:
    def move(schema: dict[str, Any]) -> None:
        schema["x-cloudevents"]["topic"] = "indgang.referrals.v1"

    released, committed = _edit("referral-made.v1.json", move)
    assert _breaking(released, committed) == [
        "BREAKING: referral-made.v1.json: CloudEvent topic "
        "'indgang.referral-made.v1' → 'indgang.referrals.v1'"
    ]


def test_removed_event_breaks() -> None:
    released = _released()
    committed = {k: v for k, v in released.items() if k != "guide-entry-published.v1.json"}
    assert _breaking(released, committed) == [
        "BREAKING: guide-entry-published.v1.json: event removed "
        "(keep it; a breaking change is a new major)"
    ]


def test_additive_changes_pass() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["properties"]["channel_note"] = {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "default": None,
        }
        schema["properties"]["purpose"]["description"] = "Reworded."

    released, committed = _edit("referral-made.v1.json", add)
    committed["brand-new-event.v1.json"] = {"type": "object", "properties": {}}
    changes = compat.compare(released, committed)
    assert [c for c in changes if c.breaking] == []
    assert {str(c) for c in changes} == {
        "additive: referral-made.v1.json data.channel_note: new optional field",
        "additive: brand-new-event.v1.json: new event",
    }


def _v2(released: dict[str, Any]) -> dict[str, Any]:
    """referral-made v2: `purpose` renamed (a breaking change), in a new file and topic."""
    v2: dict[str, Any] = copy.deepcopy(released["referral-made.v1.json"])
    v2["properties"]["purpose_for_target"] = v2["properties"].pop("purpose")
    v2["required"] = [f if f != "purpose" else "purpose_for_target" for f in v2["required"]]
    v2["x-cloudevents"]["topic"] = "indgang.referral-made.v2"
    v2["x-cloudevents"]["type"] = "dk.indgang.referral-made.v2"
    return v2


def test_a_breaking_change_in_a_new_major_version_passes() -> None:
    released = _released()
    committed = {**released, "referral-made.v2.json": _v2(released)}
    changes = compat.compare(released, committed)
    assert [c for c in changes if c.breaking] == []
    listed = {str(c) for c in changes}
    assert "additive: referral-made.v2.json: new major version of referral-made.v1.json" in listed
    assert "additive: referral-made.v2.json data.purpose: field removed" in listed


def test_the_old_major_stays_for_the_deprecation_window() -> None:
    released = _released()
    with_v2 = {**released, "referral-made.v2.json": _v2(released)}
    without_v1 = {k: v for k, v in with_v2.items() if k != "referral-made.v1.json"}

    # Dropped in the same change that adds v2: v2 was never released next to it.
    assert _breaking(released, without_v1) == [
        "BREAKING: referral-made.v1.json: event removed before referral-made.v2.json was "
        "ever released: publish both for 180 days after the release that first has "
        "referral-made.v2.json"
    ]
    history = [(date(2027, 1, 4), with_v2)]
    assert _breaking(with_v2, without_v1, history=history, today=date(2027, 3, 1)) == [
        "BREAKING: referral-made.v1.json: event removed during its deprecation window "
        "(referral-made.v2.json released 2027-01-04; v1 is published until 2027-07-03)"
    ]
    assert _breaking(with_v2, without_v1, history=history, today=date(2027, 7, 3)) == []


def test_the_command_fails_on_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    released = tmp_path / "released" / "2026-12-01"
    released.mkdir(parents=True)
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for name, schema in _released().items():
        (released / name).write_text(json.dumps(schema), encoding="utf-8")
        if name != "case-routed.v1.json":
            (schemas / name).write_text(json.dumps(schema), encoding="utf-8")
    argv = ["--schemas", str(schemas), "--released", str(tmp_path / "released")]
    assert compat.main(argv) == 1
    out = capsys.readouterr()
    assert "BREAKING: case-routed.v1.json: event removed" in out.out
    assert "1 breaking change(s) since release 2026-12-01" in out.err
