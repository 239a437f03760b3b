"""Fails on a breaking change to a released event contract (`make contracts-check`).

Compares the committed JSON Schemas (`contracts/schemas/<event>.v<N>.json`) with the
last release (`contracts/released/<YYYY-MM-DD>/`, the newest date). The rules are in
docs/contracts-versioning.md; in short, within one major version (one file, one topic):

- an event may not disappear: `<event>.v<N>` stays until `<event>.v<N+1>` has been
  released for `DEPRECATION_DAYS` (both are published side by side meanwhile);
- a field may not disappear, change its JSON type(s), become required when it was not
  (new or old) or optional when it was required;
- an enum may not lose a value; a constraint may not narrow (a lower maxLength, a higher
  minLength/minimum/minItems, a new or other pattern, format or const);
- the CloudEvent type and the topic stay.

Adding an event, an optional field or an enum value, or widening a constraint, is
additive and passes. A breaking change goes into a new file `<event>.v<N+1>.json` (a new
model with `EVENT_VERSION = N+1`, a new topic), never into the released one; what the new
major changes is listed, not failed.

A tool of the repository (like tools/asyncapi.py); `tests/test_schema_compat.py` runs it
in `make test`. Exit status 1 with one line per breaking change, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "contracts" / "schemas"
RELEASED = ROOT / "contracts" / "released"

# How long `<event>.v<N>` keeps being published next to `<event>.v<N+1>`, counted from the
# first release that contained v<N+1> (docs/contracts-versioning.md).
DEPRECATION_DAYS = 180

_FILE = re.compile(r"^(?P<event>[a-z0-9-]+)\.v(?P<major>\d+)\.json$")
_RELEASE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """One difference between a released schema and the committed one."""

    file: str
    path: str
    what: str
    breaking: bool

    def __str__(self) -> str:
        kind = "BREAKING" if self.breaking else "additive"
        where = f"{self.file} {self.path}" if self.path else self.file
        return f"{kind}: {where}: {self.what}"


def load_dir(directory: Path) -> dict[str, Schema]:
    """File name → schema of every `<event>.v<N>.json` in `directory`."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.json"))
        if _FILE.match(path.name)
    }


def releases(released: Path = RELEASED) -> list[tuple[date, Path]]:
    """The release directories, oldest first."""
    found = [
        (date.fromisoformat(path.name), path)
        for path in released.iterdir()
        if path.is_dir() and _RELEASE.match(path.name)
    ]
    return sorted(found)


def compare(
    released: Mapping[str, Schema],
    committed: Mapping[str, Schema],
    *,
    history: Sequence[tuple[date, Mapping[str, Schema]]] | None = None,
    today: date | None = None,
) -> list[Change]:
    """Every change from `released` (the last release) to `committed`. `history` (every
    release, oldest first; default: just `released`, dated today) dates when a new major
    version was first released, for the deprecation window of the old one."""
    today = today or datetime.now(UTC).date()
    history = history if history is not None else [(today, released)]
    changes: list[Change] = []
    for name, old in sorted(released.items()):
        new = committed.get(name)
        if new is None:
            changes.append(_removed_event(name, committed, history, today))
            continue
        changes.extend(_compare_event(name, old, new))
    for name in sorted(set(committed) - set(released)):
        changes.extend(_new_event(name, committed, released))
    return changes


def _split(name: str) -> tuple[str, int]:
    match = _FILE.match(name)
    if match is None:
        raise ValueError(f"not a schema file name: {name}")
    return match["event"], int(match["major"])


def _removed_event(
    name: str,
    committed: Mapping[str, Schema],
    history: Sequence[tuple[date, Mapping[str, Schema]]],
    today: date,
) -> Change:
    event, major = _split(name)
    successor = f"{event}.v{major + 1}.json"
    if successor not in committed:
        return Change(name, "", "event removed (keep it; a breaking change is a new major)", True)
    first = next((day for day, schemas in history if successor in schemas), None)
    if first is None:
        return Change(
            name,
            "",
            f"event removed before {successor} was ever released: publish both for "
            f"{DEPRECATION_DAYS} days after the release that first has {successor}",
            True,
        )
    end = first + timedelta(days=DEPRECATION_DAYS)
    if today < end:
        return Change(
            name,
            "",
            f"event removed during its deprecation window ({successor} released {first}; "
            f"v{major} is published until {end})",
            True,
        )
    return Change(name, "", f"event retired after its deprecation window ({successor})", False)


def _new_event(
    name: str, committed: Mapping[str, Schema], released: Mapping[str, Schema]
) -> list[Change]:
    event, major = _split(name)
    predecessor = f"{event}.v{major - 1}.json"
    if major > 1 and predecessor in released:
        # A new major may break anything; list what it breaks, for the changelog.
        changes = [Change(name, "", f"new major version of {predecessor}", False)]
        changes.extend(
            Change(name, c.path, c.what, False)
            for c in _compare_event(name, released[predecessor], committed[name])
            if c.breaking and c.path
        )
        return changes
    return [Change(name, "", "new event", False)]


def _compare_event(name: str, old: Schema, new: Schema) -> list[Change]:
    changes: list[Change] = []
    for key in ("type", "topic"):
        before = old.get("x-cloudevents", {}).get(key)
        after = new.get("x-cloudevents", {}).get(key)
        if before != after:
            changes.append(Change(name, "", f"CloudEvent {key} {before!r} → {after!r}", True))
    changes.extend(
        Change(name, path, what, breaking)
        for path, what, breaking in _compare(old, old, new, new, "data")
    )
    return changes


def _resolve(root: Schema, schema: Schema) -> Schema:
    """`schema` with local `$ref`s (`#/$defs/X`) followed."""
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported: {ref}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        # Keywords beside the $ref (a description) are kept, the target's win.
        schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
        seen += 1
    return schema


def _branches(root: Schema, schema: Schema) -> list[Schema]:
    """The alternatives of `schema` (anyOf/oneOf flattened; one for a plain schema)."""
    schema = _resolve(root, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return [schema]
    out: list[Schema] = []
    for option in options:
        out.extend(_branches(root, option))
    return out


def _types(root: Schema, schema: Schema) -> set[str]:
    types: set[str] = set()
    for branch in _branches(root, schema):
        declared = branch.get("type")
        if isinstance(declared, list):
            types.update(declared)
        elif isinstance(declared, str):
            types.add(declared)
        elif "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else list(branch["enum"])
            types.update(_json_type(v) for v in values)
        else:
            types.add("any")
    if "integer" in types and "number" in types:
        types.discard("integer")
    return types


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# Constraint keyword → which way is narrower ("lower": a lower value narrows).
_NARROWER: dict[str, str] = {
    "maxLength": "lower",
    "maxItems": "lower",
    "maximum": "lower",
    "exclusiveMaximum": "lower",
    "minLength": "higher",
    "minItems": "higher",
    "minimum": "higher",
    "exclusiveMinimum": "higher",
}
_EXACT = ("pattern", "format", "const")


def _compare(
    old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str
) -> Iterator[tuple[str, str, bool]]:
    """(path, what, breaking) for every difference a consumer or an old record could feel."""
    old_types, new_types = _types(old_root, old), _types(new_root, new)
    if old_types != new_types and "any" not in new_types:
        yield path, f"type {_show(old_types)} → {_show(new_types)}", True
        return
    old_by_type = _by_type(old_root, old)
    new_by_type = _by_type(new_root, new)
    for json_type, before in old_by_type.items():
        after = new_by_type.get(json_type)
        if after is None:
            continue
        yield from _compare_branch(old_root, before, new_root, after, path)


def _by_type(root: Schema, schema: Schema) -> dict[str, Schema]:
    """One branch per JSON type (a union of two object schemas is compared as one type)."""
    out: dict[str, Schema] = {}
    for branch in _branches(root, schema):
        for json_type in _types(root, branch):
            out.setdefault(json_type, branch)
    return out


def _compare_branch(
    old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str
) -> Iterator[tuple[str, str, bool]]:
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None or new_enum is not None:
        if new_enum is not None and old_enum is None:
            yield path, "now limited to an enum", True
        elif old_enum is not None and new_enum is not None:
            removed = [v for v in old_enum if v not in new_enum]
            added = [v for v in new_enum if v not in old_enum]
            if removed:
                yield path, f"enum narrowed: {', '.join(map(repr, removed))} removed", True
            if added:
                yield path, f"enum widened: {', '.join(map(repr, added))} added", False
    for keyword in _EXACT:
        before, after = old.get(keyword), new.get(keyword)
        if before != after and after is not None:
            yield path, f"{keyword} {before!r} → {after!r}", True
        elif before is not None and after is None:
            yield path, f"{keyword} {before!r} dropped", False
    for keyword, narrower in _NARROWER.items():
        before, after = old.get(keyword), new.get(keyword)
        if before == after:
            continue
        if after is None:
            yield path, f"{keyword} {before!r} dropped", False
            continue
        if before is None:
            yield path, f"{keyword} {after!r} added", True
            continue
        narrowed = after < before if narrower == "lower" else after > before
        yield path, f"{keyword} {before!r} → {after!r}", narrowed
    if "items" in old and "items" in new:
        yield from _compare(old_root, old["items"], new_root, new["items"], f"{path}[]")
    old_props: Mapping[str, Schema] = old.get("properties", {})
    new_props: Mapping[str, Schema] = new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for field in sorted(set(old_props) | set(new_props)):
        where = f"{path}.{field}"
        if field not in new_props:
            yield where, "field removed", True
            continue
        if field not in old_props:
            if field in new_required:
                yield where, "new required field", True
            else:
                yield where, "new optional field", False
            continue
        if field in new_required and field not in old_required:
            yield where, "optional field became required", True
        elif field in old_required and field not in new_required:
            yield where, "required field became optional", True
        yield from _compare(old_root, old_props[field], new_root, new_props[field], where)


def _show(types: set[str]) -> str:
    return "|".join(sorted(types))


def check(
    schemas: Path = SCHEMAS, released: Path = RELEASED, today: date | None = None
) -> list[Change]:
    """The changes from the newest release in `released` to the schemas in `schemas`."""
    found = releases(released)
    if not found:
        raise SystemExit(f"no release under {released} (a directory named YYYY-MM-DD)")
    history = [(day, load_dir(path)) for day, path in found]
    return compare(history[-1][1], load_dir(schemas), history=history, today=today)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemas", type=Path, default=SCHEMAS)
    parser.add_argument("--released", type=Path, default=RELEASED)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="list additive changes too")
    args = parser.parse_args(argv)
    changes = check(args.schemas, args.released, args.today)
    breaking = [c for c in changes if c.breaking]
    for change in changes:
        if change.breaking or args.verbose:
            print(change)
    last = releases(args.released)[-1][0]
    if breaking:
        print(
            f"{len(breaking)} breaking change(s) since release {last}: put them in a new major "
            "version (docs/contracts-versioning.md)",
            file=sys.stderr,
        )
        return 1
    print(f"contracts compatible with release {last} ({len(changes)} additive change(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
