"""The delivery log: one record per (event, message kind, recipient), stored before sending."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_notifications.domain.messages import OutgoingMessage


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("subject_ref")
        await self.collection.create_index("recipient")

    async def claim(self, message: OutgoingMessage) -> dict[str, Any]:
        """The delivery record for this message, created as 'pending' if new."""
        now = datetime.now(UTC)
        doc = await self.collection.find_one_and_update(
            {"_id": message.key},
            {
                "$setOnInsert": {
                    "event_id": message.event_id,
                    "kind": message.kind,
                    "recipient": message.recipient,
                    "language": message.language,
                    "subject_ref": message.subject_ref,
                    "message_id": message.message_id,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return doc

    async def attempt_failed(self, key: str, error: str) -> None:
        await self.collection.update_one(
            {"_id": key},
            {"$inc": {"attempts": 1}, "$set": {"last_error": error, "updated_at": _now()}},
        )

    async def sent(self, key: str) -> None:
        await self.collection.update_one(
            {"_id": key},
            {
                "$inc": {"attempts": 1},
                "$set": {"status": "sent", "sent_at": _now(), "updated_at": _now()},
            },
        )

    async def find(self, subject_ref: str | None, recipient: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if subject_ref:
            query["subject_ref"] = subject_ref
        if recipient:
            query["recipient"] = recipient
        cursor = self.collection.find(query).sort("created_at", -1).limit(200)
        return [doc async for doc in cursor]


def _now() -> datetime:
    return datetime.now(UTC)
