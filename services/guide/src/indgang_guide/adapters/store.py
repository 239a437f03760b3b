"""Guide entries and per-case recommendations in the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_guide.domain.entries import Entry, Recommendation, Section


class GuideStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.entries: AsyncCollection[dict[str, Any]] = db["entries"]
        self.sections: AsyncCollection[dict[str, Any]] = db["sections"]
        self.recommendations: AsyncCollection[dict[str, Any]] = db["recommendations"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index([("section", 1), ("status", 1)])

    async def load(self, sections: list[Section], entries: list[Entry]) -> None:
        """Upsert content from the files (idempotent: same files, same store)."""
        for order, section in enumerate(sections):
            await self.sections.replace_one(
                {"_id": section.id.value},
                {**section.model_dump(mode="json"), "order": order},
                upsert=True,
            )
        for entry in entries:
            doc = entry.model_dump(mode="json")
            await self.entries.replace_one({"_id": entry.id}, doc, upsert=True)

    async def all_sections(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.sections.find({}).sort("order", 1)]

    async def published(self, query: dict[str, Any]) -> list[Entry]:
        cursor = self.entries.find({**query, "status": "published"}).sort("id", 1)
        return [
            Entry.model_validate({k: v for k, v in d.items() if k != "_id"}) async for d in cursor
        ]

    async def save_recommendations(self, case_id: str, items: list[Recommendation]) -> None:
        await self.recommendations.replace_one(
            {"_id": case_id},
            {"items": [i.model_dump(mode="json") for i in items], "at": datetime.now(UTC)},
            upsert=True,
        )

    async def recommendations_for(self, case_id: str) -> dict[str, Any] | None:
        return await self.recommendations.find_one({"_id": case_id})
