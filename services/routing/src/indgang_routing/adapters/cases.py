"""Cases in the store; each case document carries its own outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import Record
from indgang_runtime import outbox

CaseDoc = dict[str, Any]
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting")


class CaseRepository:
    def __init__(self, db: AsyncDatabase[CaseDoc]) -> None:
        self.collection: AsyncCollection[CaseDoc] = db["cases"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("organisation_key")
        await self.collection.create_index([("consultant.id", 1), ("status", 1)])

    async def open(self, case: CaseDoc, events: Sequence[Record]) -> bool:
        """Store a new case with its events; False when it already exists (redelivery)."""
        result = await self.collection.update_one(
            {"_id": case["_id"]},
            {"$setOnInsert": {**case, **outbox.new_outbox(events)}},
            upsert=True,
        )
        return result.upserted_id is not None

    async def get(self, case_id: str) -> CaseDoc | None:
        return await self.collection.find_one({"_id": case_id}, {"outbox": 0})

    async def last_consultant_of(self, organisation_key: str) -> str | None:
        cursor = (
            self.collection.find({"organisation_key": organisation_key}, {"consultant.id": 1})
            .sort("created_at", -1)
            .limit(1)
        )
        async for doc in cursor:
            return str(doc["consultant"]["id"])
        return None

    async def open_loads(self) -> dict[str, int]:
        """Open cases per consultant."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"status": {"$in": list(OPEN_STATUSES)}}},
            {"$group": {"_id": "$consultant.id", "n": {"$sum": 1}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {str(row["_id"]): int(row["n"]) async for row in cursor}

    async def add_referral(
        self,
        case_id: str,
        referral: dict[str, Any],
        timeline_entry: dict[str, Any],
        events: Sequence[Record],
    ) -> bool:
        ops = outbox.append(events)
        ops["$push"]["referrals"] = referral
        ops["$push"]["timeline"] = timeline_entry
        ops["$set"] = {"updated_at": timeline_entry["at"]}
        result = await self.collection.update_one({"_id": case_id}, ops)
        return result.matched_count == 1
