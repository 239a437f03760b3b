"""Idempotency records: the first answer to a request, by client and Idempotency-Key.

One document per (client, key), `_id` = "<client>|<key>", so the unique `_id`
index makes "one answer per key" hold across instances. The record names the
inquiry id and reference *before* the inquiry is stored: a retry after a crash
reuses them, and the inquiry's own unique id makes a second inquiry impossible.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_intake.domain.inquiry import new_reference


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["idempotency"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("created_at")

    async def begin(
        self, record_id: str, fingerprint: str, now: datetime
    ) -> tuple[dict[str, Any], bool]:
        """Claim `record_id`; returns (the record, whether this call created it)."""
        record = {
            "_id": record_id,
            "fingerprint": fingerprint,
            "state": "pending",
            "inquiry_id": str(uuid.uuid4()),
            "reference": new_reference(),
            "response": None,
            "created_at": now,
            "claimed_at": now,
        }
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": record_id})
            if existing is not None:
                return existing, False
            # Purged between the insert and the read: claim it afresh.
            await self.collection.insert_one(record)
        return record, True

    async def take_over(self, record: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        """Claim a pending record whose claimer gave up or crashed (compare-and-set)."""
        return await self.collection.find_one_and_update(
            {"_id": record["_id"], "state": "pending", "claimed_at": record["claimed_at"]},
            {"$set": {"claimed_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    async def release(self, record_id: str, epoch: datetime) -> None:
        """Let the next retry take over at once (the claimer failed)."""
        await self.collection.update_one(
            {"_id": record_id, "state": "pending"}, {"$set": {"claimed_at": epoch}}
        )

    async def complete(self, record_id: str, response: dict[str, Any]) -> None:
        await self.collection.update_one(
            {"_id": record_id}, {"$set": {"state": "done", "response": response}}
        )

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self.collection.delete_many({"created_at": {"$lt": cutoff}})
        return result.deleted_count
