"""Use cases of the editor, and loading the content files: every save is a new version.

A save whose result is a published entry (publishing, or editing an entry that
is published) stores `guide-entry-published` with the entry in the same write
(the store's outbox wakes the relay). Unpublishing records a version and emits
nothing (no contract for it). Every save is then shown in this instance's
catalogue at once and counted, so the other instances rebuild theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import GuideEntryPublished
from indgang_guide.adapters.content_files import Content
from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import Entry, InvalidEntry, content_hash, parse_entry
from indgang_guide.domain.versions import (
    CONTENT_FILE,
    Action,
    EntryVersion,
    FileLoad,
    changed_fields,
    file_load_decision,
)
from indgang_guide.handlers.catalogue import Catalogue

log = structlog.get_logger(__name__)


class EntryNotFound(LookupError):
    pass


class EntryExists(ValueError):
    pass


class VersionConflict(RuntimeError):
    """Someone saved the entry since the editor opened it."""


class Editing:
    def __init__(
        self,
        store: GuideStore,
        catalogue: Catalogue,
        municipality_code: str,
        event_source: str,
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._municipality = municipality_code
        self._source = event_source

    def _published_event(self, version: EntryVersion) -> list[Record]:
        entry = version.content
        if entry.status != "published":
            return []
        event = GuideEntryPublished(
            municipality_code=self._municipality,
            entry_id=entry.id,
            version=version.version,
            title=entry.title,
            section=entry.section.value,
            kind=entry.kind.value,
            audience=entry.audience,
            published_by=version.saved_by,
            published_at=version.saved_at,
        )
        return [encode(event, source=self._source, time=version.saved_at)]

    async def create(self, values: dict[str, Any], by: str) -> EntryVersion:
        entry = parse_entry(values)
        version = EntryVersion(
            version=1,
            saved_by=by,
            saved_at=datetime.now(UTC),
            action="published" if entry.status == "published" else "created",
            changed=changed_fields(None, entry),
            content=entry,
        )
        if not await self._store.insert(version, None, self._published_event(version)):
            raise EntryExists(entry.id)
        await self._catalogue.saved(StoredEntry.saved(version, None))
        return version

    async def _next(
        self,
        current: StoredEntry,
        expected_version: int,
        entry: Entry,
        by: str,
        action: Action,
        note: str = "",
        file_hash: str | None = None,
    ) -> EntryVersion:
        if current.version != expected_version:
            raise VersionConflict(entry.id)
        version = EntryVersion(
            version=current.version + 1,
            saved_by=by,
            saved_at=datetime.now(UTC),
            action=action,
            changed=changed_fields(current.entry, entry),
            note=note,
            content=entry,
        )
        saved = await self._store.save_version(
            expected_version, version, self._published_event(version), file_hash
        )
        if not saved:
            raise VersionConflict(entry.id)
        await self._catalogue.saved(
            StoredEntry.saved(version, file_hash if file_hash is not None else current.file_hash)
        )
        return version

    async def _current(self, entry_id: str) -> StoredEntry:
        current = await self._store.get(entry_id)
        if current is None:
            raise EntryNotFound(entry_id)
        return current

    async def save(
        self, entry_id: str, values: dict[str, Any], expected_version: int, by: str
    ) -> EntryVersion:
        """A new version with the editor's content (the id cannot change)."""
        current = await self._current(entry_id)
        if values.get("id") not in (None, "", entry_id):
            raise InvalidEntry({"id": "Et opslags id kan ikke ændres."})
        entry = parse_entry({**values, "id": entry_id})
        return await self._next(current, expected_version, entry, by, "edited")

    async def set_status(
        self, entry_id: str, status: str, expected_version: int, by: str
    ) -> EntryVersion:
        current = await self._current(entry_id)
        entry = parse_entry({**current.entry.model_dump(mode="json"), "status": status})
        action: Action = "published" if status == "published" else "unpublished"
        return await self._next(current, expected_version, entry, by, action)

    async def load_files(self, content: Content) -> dict[FileLoad, int]:
        """Bring the content files into the store without overwriting editors' work
        (see `file_load_decision`). Safe to run on every start and by several
        instances at once (inserts and versioned updates are conditional)."""
        await self._store.save_sections(content.sections)
        counts: dict[FileLoad, int] = dict.fromkeys(FileLoad, 0)
        for entry in content.entries:
            file_hash = content_hash(entry)
            current = await self._store.get(entry.id)
            decision = file_load_decision(
                current.file_hash if current else None,
                current.updated_by if current else None,
                file_hash,
            )
            counts[decision] += 1
            if decision is FileLoad.INSERT:
                version = EntryVersion(
                    version=1,
                    saved_by=CONTENT_FILE,
                    saved_at=datetime.now(UTC),
                    action="loaded_from_file",
                    changed=changed_fields(None, entry),
                    content=entry,
                )
                # Shown and counted with all the others at the end.
                await self._store.insert(version, file_hash, self._published_event(version))
            elif decision is FileLoad.APPLY and current is not None:
                try:
                    await self._next(
                        current,
                        current.version,
                        entry,
                        CONTENT_FILE,
                        "loaded_from_file",
                        note="Indholdsfilen er ændret.",
                        file_hash=file_hash,
                    )
                except VersionConflict:
                    log.info("content_file_raced", entry_id=entry.id)
            elif decision is FileLoad.KEEP_EDITOR_VERSION:
                log.warning("content_file_kept_editor_version", entry_id=entry.id)
        # Always: an instance that missed a count (a crash between a save and its
        # count) catches up when any instance starts.
        await self._catalogue.reload_everywhere()
        log.info("content_files_loaded", **{k.value: v for k, v in counts.items()})
        return counts
