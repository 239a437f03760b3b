"""The delivery log: one document per delivery, stored before anything is sent.

Life of a delivery: `pending` (stored by the consumer) → claimed by a sender
with a lease → `sent`, or back to `pending` with `next_attempt_at` later, or
`dead` after the last attempt. Outcome events travel in the same document's
outbox, so the status change and its event are one write. Claims live in
`delivery_claims` (see `claim`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

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
        self.claims: AsyncCollection[Document] = db["delivery_claims"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("key", unique=True)
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.collection.create_index("case_id")
        await self.collection.create_index("inquiry_id")
        await self.collection.create_index("recipient")
        await self.claims.create_index("delivery_id")

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
                    "created_at": now,
                    "updated_at": now,
                    **outbox.new_outbox([]),
                }
            },
            upsert=True,
        )
        return result.upserted_id is not None

    async def due(self, limit: int = 20) -> list[Document]:
        """Pending deliveries whose next attempt is due, oldest first (not yet claimed)."""
        cursor = (
            self.collection.find({"status": "pending", "next_attempt_at": {"$lte": _now()}})
            .sort("next_attempt_at", ASCENDING)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def claim(self, doc: Document, lease_seconds: float) -> Document | None:
        """Lease `doc` for one attempt, or None if another sender has it.

        The lock is the insert of a claim with a unique id: FerretDB v1 does not
        make findAndModify or a conditional update atomic between concurrent
        writers (two can both "win"), but a unique key it does enforce. A claim
        left by a crashed sender blocks only until its lease runs out; then the
        next claim number is free. The attempt is counted before sending, so a
        message that crashes the process every time still runs out of attempts."""
        now = _now()
        latest = await self.claims.find_one({"delivery_id": doc["_id"]}, sort=[("n", DESCENDING)])
        if latest is not None and latest["lease_until"] > now:
            return None
        claim_id = f"{doc['_id']}/{(latest['n'] if latest else 0) + 1}"
        try:
            await self.claims.insert_one(
                {
                    "_id": claim_id,
                    "delivery_id": doc["_id"],
                    "n": (latest["n"] if latest else 0) + 1,
                    "lease_until": now + timedelta(seconds=lease_seconds),
                }
            )
        except DuplicateKeyError:
            return None
        # Read again under the claim: another sender may have finished it meanwhile.
        current = await self.collection.find_one({"_id": doc["_id"]})
        if (
            current is None
            or current["status"] != "pending"
            or current["next_attempt_at"] is None
            or current["next_attempt_at"] > _now()
        ):
            await self.claims.delete_one({"_id": claim_id})
            return None
        attempts = current["attempts"] + 1
        await self.collection.update_one(
            {"_id": doc["_id"]}, {"$set": {"attempts": attempts, "updated_at": now}}
        )
        return {**current, "attempts": attempts, "claim_id": claim_id}

    async def sent(self, doc: Document, outcome: Record) -> None:
        now = _now()
        update = outbox.append([outcome])
        update["$set"] = {"status": "sent", "sent_at": now, "updated_at": now, "last_error": None}
        # The message body is personal data we no longer need once it is delivered.
        update["$unset"] = {"content": ""}
        await self._finish(doc, update)

    async def retry_later(self, doc: Document, error: str, delay_seconds: float) -> None:
        now = _now()
        await self._finish(
            doc,
            {
                "$set": {
                    "next_attempt_at": now + timedelta(seconds=delay_seconds),
                    "last_error": error[:2000],
                    "updated_at": now,
                },
                "$push": {"errors": _error(doc, error, now)},
            },
        )

    async def dead(self, doc: Document, error: str, outcome: Record) -> None:
        now = _now()
        update = outbox.append([outcome])
        update["$set"] = {
            "status": "dead",
            "dead_at": now,
            "last_error": error[:2000],
            "updated_at": now,
            "next_attempt_at": None,
        }
        update["$push"]["errors"] = _error(doc, error, now)
        await self._finish(doc, update)

    async def _finish(self, doc: Document, update: Document) -> None:
        # The delivery first, then the claim: a sender that finds the claim gone
        # also finds the delivery finished when it reads it again.
        await self.collection.update_one({"_id": doc["_id"], "status": "pending"}, update)
        await self.claims.delete_one({"_id": doc["claim_id"]})

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
