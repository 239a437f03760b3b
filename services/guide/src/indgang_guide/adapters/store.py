"""Guide entries (with their version history and outbox) and per-case recommendations.

One document per entry: the current content, its version number, the full
history (every version's whole content) and the outbox of events that a save
caused, so a save and its `guide-entry-published` are one atomic write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_contracts.envelope import Record
from indgang_guide.domain.entries import Entry, Section
from indgang_guide.domain.recommendations import Recommendation
from indgang_guide.domain.versions import EntryVersion
from indgang_runtime import outbox


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
        self.entries: AsyncCollection[dict[str, Any]] = db["entries"]
        self.sections: AsyncCollection[dict[str, Any]] = db["sections"]
        self.recommendations: AsyncCollection[dict[str, Any]] = db["recommendations"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index("version")
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
        return [
            Section.model_validate({k: v for k, v in d.items() if k not in ("_id", "order")})
            async for d in self.sections.find({}).sort("order", 1)
        ]

    async def current(self) -> list[StoredEntry]:
        """Every entry's current version, without the history (for the in-memory catalogue)."""
        cursor = self.entries.find({}, {"history": 0, "outbox": 0}).sort("_id", 1)
        return [_stored(doc) async for doc in cursor]

    async def signature(self) -> list[tuple[str, int]]:
        """(id, version) of every entry: changes whenever any entry is saved."""
        cursor = self.entries.find({}, {"version": 1}).sort("_id", 1)
        return [(str(doc["_id"]), int(doc["version"])) async for doc in cursor]

    async def get(self, entry_id: str) -> StoredEntry | None:
        doc = await self.entries.find_one({"_id": entry_id})
        return _stored(doc) if doc else None

    async def insert(
        self,
        version: EntryVersion,
        file_hash: str | None,
        events: Sequence[Record],
    ) -> bool:
        """A new entry at version 1; False if the id is taken."""
        try:
            await self.entries.insert_one(
                {
                    "_id": version.content.id,
                    "entry": version.content.model_dump(mode="json"),
                    "version": version.version,
                    "updated_at": version.saved_at,
                    "updated_by": version.saved_by,
                    "file_hash": file_hash,
                    "history": [version.model_dump(mode="json")],
                    **outbox.new_outbox(events),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def save_version(
        self,
        expected_version: int,
        version: EntryVersion,
        events: Sequence[Record],
        file_hash: str | None = None,
    ) -> bool:
        """Store the next version if nobody saved since `expected_version` (optimistic
        concurrency); the version, its history line and its events in one write."""
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
        if events:
            appended = outbox.append(events)
            update["$push"][outbox.OUTBOX] = appended["$push"][outbox.OUTBOX]
            update["$inc"] = appended["$inc"]
        found = await self.entries.find_one_and_update(
            {"_id": version.content.id, "version": expected_version},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return found is not None

    async def save_recommendations(
        self,
        case_id: str,
        needs: list[str],
        stage: str | None,
        items: list[Recommendation],
    ) -> None:
        await self.recommendations.replace_one(
            {"_id": case_id},
            {
                "needs": needs,
                "stage": stage,
                "items": [i.model_dump(mode="json") for i in items],
                "at": datetime.now(UTC),
            },
            upsert=True,
        )

    async def recommendations_for(self, case_id: str) -> dict[str, Any] | None:
        return await self.recommendations.find_one({"_id": case_id})
