"""Guide entries (with their version history and outbox), the catalogue's generation
and per-case recommendations.

One document per entry: the current content, its version number, the full
history (every version's whole content) and the outbox of events that a save
caused, so a save and its `guide-entry-published` are one atomic write
(through `OutboxCollection`). The one `catalogue` document counts entry saves
(its generation, raised after each): instances notice another's save with one
read by `_id` instead of reading every entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReplaceOne, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from indgang_contracts.envelope import Record
from indgang_guide.adapters.queries import (
    CASE_RECOMMENDATIONS,
    CATALOGUE_GENERATION,
    CATALOGUE_ID,
    ENTRY,
    ENTRY_AT_VERSION,
)
from indgang_guide.domain.entries import Entry, Section
from indgang_guide.domain.recommendations import Recommendation
from indgang_guide.domain.versions import EntryVersion
from indgang_runtime.mongo import as_duplicate_key
from indgang_runtime.outbox import OutboxCollection

# An index earlier versions created on `entries`; no query uses it.
_UNUSED_INDEXES = ("version_1",)


@dataclass(frozen=True)
class StoredEntry:
    entry: Entry
    version: int
    updated_at: datetime
    updated_by: str
    file_hash: str | None
    history: tuple[EntryVersion, ...] = ()

    def at_version(self, number: int) -> EntryVersion | None:
        return next((v for v in self.history if v.version == number), None)

    @classmethod
    def saved(cls, version: EntryVersion, file_hash: str | None) -> StoredEntry:
        """The entry as a save just stored it (without history, as the catalogue keeps it)."""
        return cls(
            entry=version.content,
            version=version.version,
            updated_at=version.saved_at,
            updated_by=version.saved_by,
            file_hash=file_hash,
        )


@dataclass(frozen=True)
class CaseRecommendations:
    """What is kept per case: the case's needs and stage (to recompute on reading)
    and the list computed when it was routed. No personal data."""

    case_id: str
    needs: list[str]
    stage: str | None
    items: list[Recommendation]


def _stored(doc: dict[str, Any]) -> StoredEntry:
    return StoredEntry(
        entry=Entry.model_validate(doc["entry"]),
        version=int(doc["version"]),
        updated_at=doc["updated_at"],
        updated_by=doc["updated_by"],
        file_hash=doc.get("file_hash"),
        history=tuple(EntryVersion.model_validate(v) for v in doc.get("history", [])),
    )


class GuideStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.outbox = OutboxCollection(db["entries"])
        self.entries: AsyncCollection[dict[str, Any]] = self.outbox.collection
        self.sections: AsyncCollection[dict[str, Any]] = db["sections"]
        self.catalogue: AsyncCollection[dict[str, Any]] = db["catalogue"]
        self.recommendations: AsyncCollection[dict[str, Any]] = db["recommendations"]

    async def ensure_indexes(self) -> None:
        """At start-up (not a hot path). Every hot-path query is by `_id` except the
        relay's, whose `outbox_due` index the outbox creates."""
        await self.outbox.ensure_indexes()
        existing = await self.entries.index_information()
        for name in _UNUSED_INDEXES:
            if name in existing:  # an index nothing reads still costs every save a write
                await self.entries.drop_index(name)
        # Entries stored before versioning (flat documents, loaded from the files and
        # never edited: there was no editor) are dropped and loaded again as version 1.
        await self.entries.delete_many({"entry": {"$exists": False}})

    async def save_sections(self, sections: Sequence[Section]) -> None:
        """Sections come only from the files (not edited in the editor): replace them."""
        for order, section in enumerate(sections):
            await self.sections.replace_one(
                {"_id": section.id.value},
                {**section.model_dump(mode="json"), "order": order},
                upsert=True,
            )

    async def all_sections(self) -> list[Section]:
        """Only when the catalogue is rebuilt (a handful of sections, from the files)."""
        return [
            Section.model_validate({k: v for k, v in d.items() if k not in ("_id", "order")})
            async for d in self.sections.find({}).sort("order", 1)
        ]

    async def current(self) -> list[StoredEntry]:
        """Every entry's current version, without the history, for the in-memory
        catalogue: read only when the generation says something was saved."""
        cursor = self.entries.find({}, {"history": 0, "outbox": 0}).sort("_id", 1)
        return [_stored(doc) async for doc in cursor]

    async def generation(self) -> int:
        """How many entry saves the store has seen (0 before the first)."""
        doc = await self.catalogue.find_one(CATALOGUE_GENERATION.filter(_id=CATALOGUE_ID))
        return int(doc["generation"]) if doc else 0

    async def raise_generation(self) -> int:
        """Count one more entry save (after the save is stored); returns the new count."""
        query = CATALOGUE_GENERATION.filter(_id=CATALOGUE_ID)
        for attempt in (1, 2):
            try:
                doc = await self.catalogue.find_one_and_update(
                    query,
                    {"$inc": {"generation": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except (DuplicateKeyError, OperationFailure) as exc:
                # Two instances creating the document at once: the loser's upsert
                # collides on `_id`, and the document now exists for its retry.
                duplicate = exc if isinstance(exc, DuplicateKeyError) else as_duplicate_key(exc)
                if duplicate is None or attempt == 2:
                    raise
                continue
            if doc is None:  # an upsert always returns the document after the change
                raise RuntimeError("the catalogue generation was not counted")
            return int(doc["generation"])
        raise AssertionError("unreachable")

    async def get(self, entry_id: str) -> StoredEntry | None:
        doc = await self.entries.find_one(ENTRY.filter(_id=entry_id))
        return _stored(doc) if doc else None

    async def insert(
        self,
        version: EntryVersion,
        file_hash: str | None,
        events: Sequence[Record],
    ) -> bool:
        """A new entry at version 1 with its events; False if the id is taken."""
        try:
            created = await self.outbox.create(
                version.content.id,
                {
                    "entry": version.content.model_dump(mode="json"),
                    "version": version.version,
                    "updated_at": version.saved_at,
                    "updated_by": version.saved_by,
                    "file_hash": file_hash,
                    "history": [version.model_dump(mode="json")],
                },
                events,
            )
        except DuplicateKeyError:  # another instance created it at the same moment
            return False
        return created

    async def save_version(
        self,
        expected_version: int,
        version: EntryVersion,
        events: Sequence[Record],
        file_hash: str | None = None,
    ) -> bool:
        """Store the next version if nobody saved since `expected_version` (optimistic
        concurrency): the version, its history line and its events in one write."""
        update: dict[str, Any] = {
            "$set": {
                "entry": version.content.model_dump(mode="json"),
                "version": version.version,
                "updated_at": version.saved_at,
                "updated_by": version.saved_by,
                **({"file_hash": file_hash} if file_hash is not None else {}),
            },
            "$push": {"history": version.model_dump(mode="json")},
        }
        result = await self.outbox.update(
            ENTRY_AT_VERSION.filter(_id=version.content.id, version=expected_version),
            update,
            events,
        )
        return bool(result.matched_count)

    async def save_recommendations(self, batch: Sequence[CaseRecommendations]) -> None:
        """Replace each case's list (idempotent by case id), in one round trip. A case
        twice in one batch keeps the later list: events of one case come in order,
        and an unordered bulk write applies its operations in no set order."""
        latest = {r.case_id: r for r in batch}
        if not latest:
            return
        now = datetime.now(UTC)
        await self.recommendations.bulk_write(
            [
                ReplaceOne(
                    CASE_RECOMMENDATIONS.filter(_id=r.case_id),
                    {
                        "needs": r.needs,
                        "stage": r.stage,
                        "items": [i.model_dump(mode="json") for i in r.items],
                        "at": now,
                    },
                    upsert=True,
                )
                for r in latest.values()
            ],
            ordered=False,
        )

    async def recommendations_for(self, case_id: str) -> dict[str, Any] | None:
        return await self.recommendations.find_one(CASE_RECOMMENDATIONS.filter(_id=case_id))
