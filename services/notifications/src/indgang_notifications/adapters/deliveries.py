"""The delivery log: one document per delivery, stored before anything is sent.

Life of a delivery: `pending` (stored by the consumer) → claimed by a sender
with a lease → `sent`, or back to `pending` with `next_attempt_at` later, or
`dead` after the last attempt. Outcome events travel in the same document's
outbox, so the status change and its event are one write.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import Record
from indgang_notifications.domain.messages import OutgoingMessage
from indgang_runtime import outbox

Document = dict[str, Any]

# Fields the delivery log shows; content, outbox and lease bookkeeping stay inside.
PUBLIC_FIELDS = (
    "kind",
    "channel",
    "recipient",
    "recipient_role",
    "language",
    "case_id",
    "inquiry_id",
    "reference",
    "event_id",
    "event_type",
    "message_id",
    "status",
    "attempts",
    "cycle",
    "next_attempt_at",
    "last_error",
    "errors",
    "subject",
    "created_at",
    "sent_at",
    "dead_at",
)


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("key", unique=True)
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.collection.create_index("case_id")
        await self.collection.create_index("inquiry_id")
        await self.collection.create_index("recipient")

    async def store(
        self,
        message: OutgoingMessage,
        *,
        event_type: str,
        municipality_code: str,
        subject: str | None,
        content: dict[str, Any],
    ) -> bool:
        """Store the delivery as pending unless it exists; True if it is new."""
        now = _now()
        result = await self.collection.update_one(
            {"_id": message.delivery_id},
            {
                "$setOnInsert": {
                    "key": message.key,
                    "event_id": message.event_id,
                    "event_type": event_type,
                    "municipality_code": municipality_code,
                    "kind": message.kind,
                    "channel": message.channel,
                    "recipient": message.recipient,
                    "recipient_role": message.recipient_role,
                    "language": message.language,
                    "case_id": message.case_id,
                    "inquiry_id": message.inquiry_id,
                    "reference": message.reference,
                    "message_id": message.message_id,
                    "subject": subject,
                    "content": content,
                    "status": "pending",
                    "attempts": 0,
                    "cycle": 1,
                    "errors": [],
                    "next_attempt_at": now,
                    "lease_until": None,
                    "lease_token": None,
                    "created_at": now,
                    "updated_at": now,
                    **outbox.new_outbox([]),
                }
            },
            upsert=True,
        )
        return result.upserted_id is not None

    async def claim(self, lease_seconds: float) -> Document | None:
        """Lease the delivery that is due first, counting the attempt now.

        The attempt is counted before sending, so a message that crashes the
        process every time still runs out of attempts instead of looping."""
        now = _now()
        return await self.collection.find_one_and_update(
            {
                "status": "pending",
                "next_attempt_at": {"$lte": now},
                "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
            },
            {
                "$set": {
                    "lease_until": now + timedelta(seconds=lease_seconds),
                    "lease_token": uuid.uuid4().hex,
                    "updated_at": now,
                },
                "$inc": {"attempts": 1},
            },
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def sent(self, doc: Document, outcome: Record) -> bool:
        now = _now()
        update = outbox.append([outcome])
        update["$set"] = {
            "status": "sent",
            "sent_at": now,
            "updated_at": now,
            "lease_until": None,
            "lease_token": None,
            "last_error": None,
        }
        # The message body is personal data we no longer need once it is delivered.
        update["$unset"] = {"content": ""}
        return await self._finish(doc, update)

    async def retry_later(self, doc: Document, error: str, delay_seconds: float) -> bool:
        now = _now()
        return await self._finish(
            doc,
            {
                "$set": {
                    "next_attempt_at": now + timedelta(seconds=delay_seconds),
                    "last_error": error[:2000],
                    "updated_at": now,
                    "lease_until": None,
                    "lease_token": None,
                },
                "$push": {"errors": _error(doc, error, now)},
            },
        )

    async def dead(self, doc: Document, error: str, outcome: Record) -> bool:
        now = _now()
        update = outbox.append([outcome])
        update["$set"] = {
            "status": "dead",
            "dead_at": now,
            "last_error": error[:2000],
            "updated_at": now,
            "lease_until": None,
            "lease_token": None,
            "next_attempt_at": None,
        }
        update["$push"]["errors"] = _error(doc, error, now)
        return await self._finish(doc, update)

    async def _finish(self, doc: Document, update: Document) -> bool:
        # Only the holder of the lease may finish the attempt: if the lease ran
        # out and another sender took over, this late result is dropped.
        result = await self.collection.update_one(
            {"_id": doc["_id"], "status": "pending", "lease_token": doc["lease_token"]}, update
        )
        return result.modified_count == 1

    async def resend(self, delivery_id: str) -> Document | None:
        """A dead delivery gets a new cycle of attempts; None if it is not dead."""
        now = _now()
        return await self.collection.find_one_and_update(
            {"_id": delivery_id, "status": "dead"},
            {
                "$set": {
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "lease_until": None,
                    "lease_token": None,
                    "updated_at": now,
                },
                "$inc": {"cycle": 1},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def get(self, delivery_id: str) -> Document | None:
        return await self.collection.find_one({"_id": delivery_id})

    async def search(
        self, query: str | None = None, status: str | None = None, limit: int = 200
    ) -> list[Document]:
        """By case id, inquiry id, reference or (part of) the recipient."""
        conditions: Document = {}
        if query:
            exact = query.strip()
            conditions["$or"] = [
                {"case_id": exact},
                {"inquiry_id": exact},
                {"reference": exact.upper()},
                {"recipient": {"$regex": re.escape(exact.lower()), "$options": "i"}},
            ]
        if status:
            conditions["status"] = status
        cursor = self.collection.find(conditions).sort("created_at", DESCENDING).limit(limit)
        return [doc async for doc in cursor]


def public(doc: Document) -> Document:
    return {"id": doc["_id"], **{name: doc.get(name) for name in PUBLIC_FIELDS}}


def _error(doc: Document, error: str, now: datetime) -> Document:
    return {"at": now, "cycle": doc.get("cycle", 1), "attempt": doc["attempts"], "error": error}


def _now() -> datetime:
    return datetime.now(UTC)
