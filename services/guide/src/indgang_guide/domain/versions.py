"""Version history of an entry: every save is a new version that keeps the full old content.

And the rule for loading the content files over what editors have changed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from indgang_guide.domain.entries import Entry

# The author recorded for versions that came from `content/*.toml`.
CONTENT_FILE = "content-file"

Action = Literal["created", "edited", "published", "unpublished", "loaded_from_file"]

FIELD_LABELS: dict[str, str] = {
    "section": "sektion",
    "kind": "type",
    "title": "titel",
    "summary": "resumé",
    "body": "tekst",
    "needs": "behov",
    "stages": "faser",
    "audience": "målgruppe",
    "owner": "ejer",
    "review_by": "revideres senest",
    "status": "status",
    "needs_review": "skal tjekkes",
    "to_check": "hvad skal tjekkes",
    "tags": "nøgleord",
    "sources": "kilder",
    "law": "lov",
    "law_reference": "lovnummer",
    "section_ref": "paragraf",
    "official_url": "officiel lovtekst",
    "administered_by": "administreres af",
    "eligibility": "målgruppe for ordningen",
    "how_to_apply": "sådan søger man",
    "provider": "udbyder",
    "contact": "kontakt",
    "price": "pris",
}


class EntryVersion(BaseModel):
    """One saved version: who, when, what changed, and the whole content as it was."""

    model_config = ConfigDict(frozen=True)

    version: int
    saved_by: str
    saved_at: datetime
    action: Action
    changed: list[str]
    note: str = ""
    content: Entry


def changed_fields(old: Entry | None, new: Entry) -> list[str]:
    """Names of the fields that differ (all set fields for a new entry), in form order."""
    new_values = new.model_dump(mode="json")
    if old is None:
        return [name for name, value in new_values.items() if value not in (None, "", [])]
    old_values = old.model_dump(mode="json")
    return [name for name in new_values if new_values[name] != old_values.get(name)]


def describe_changes(changed: list[str]) -> str:
    """The changed fields in Danish words, for the history list."""
    if not changed:
        return "ingen ændringer i indholdet"
    return ", ".join(FIELD_LABELS.get(name, name) for name in changed)


class FileLoad(StrEnum):
    INSERT = "insert"
    UNCHANGED = "unchanged"
    APPLY = "apply"
    KEEP_EDITOR_VERSION = "keep_editor_version"


def file_load_decision(
    stored_file_hash: str | None, last_saved_by: str | None, file_hash: str
) -> FileLoad:
    """What loading a content file does to the stored entry.

    Missing entries are inserted. A file that changed since it was last loaded
    replaces the entry (as a new version by "content-file") only if nobody has
    edited the entry in the editor since; editors' work is never overwritten.
    """
    if stored_file_hash is None and last_saved_by is None:
        return FileLoad.INSERT
    if stored_file_hash == file_hash:
        return FileLoad.UNCHANGED
    if last_saved_by == CONTENT_FILE:
        return FileLoad.APPLY
    return FileLoad.KEEP_EDITOR_VERSION
