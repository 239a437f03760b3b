"""Guide content kept as TOML files in the repository (reviewable in git)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from indgang_guide.domain.entries import Entry, Section


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class Content:
    sections: list[Section]
    entries: list[Entry]


def load_content(directory: Path) -> Content:
    """Read and validate every content file; any invalid entry is an error naming it."""
    sections: list[Section] = []
    entries: list[Entry] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        try:
            section = Section.model_validate(data["section"])
        except (KeyError, ValidationError) as exc:
            problems.append(f"{path.name}: section: {exc}")
            continue
        sections.append(section)
        for raw in data.get("entry", []):
            try:
                entries.append(Entry.model_validate({**raw, "section": section.id}))
            except ValidationError as exc:
                problems.append(f"{path.name}: entry {raw.get('id', '?')}: {exc}")
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate entry ids: {', '.join(duplicates)}")
    if problems:
        raise ContentError("\n".join(problems))
    return Content(sections=sections, entries=entries)
