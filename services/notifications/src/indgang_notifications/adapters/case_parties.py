"""Who each case is between (`case_contacts`), remembered from case-routed.

Kept only as long as needed: when the case is closed the record gets a
`delete_after` (closure + retention) and a periodic job deletes it; a reopened
case keeps it. FerretDB has no TTL indexes, hence the job.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.events import Consultant, ContactPerson
from indgang_notifications.domain.messages import CaseParties


class CaseParticipants:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["case_contacts"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("delete_after")

    async def get(self, case_id: str) -> CaseParties | None:
        doc = await self.collection.find_one({"_id": case_id})
        if doc is None:
            return None
        contact = doc.get("contact")
        return CaseParties(
            case_id=case_id,
            consultant=Consultant.model_validate(doc["consultant"]),
            contact=ContactPerson.model_validate(contact) if contact else None,
        )

    async def remember(self, parties: CaseParties, routed_at: datetime) -> None:
        """Keep the parties of the latest routing; an older, redelivered one changes nothing."""
        current = await self.collection.find_one({"_id": parties.case_id})
        if current is not None and current["routed_at"] > routed_at:
            return
        contact = parties.contact or (
            ContactPerson.model_validate(current["contact"])
            if current and current.get("contact")
            else None
        )
        await self.collection.update_one(
            {"_id": parties.case_id},
            {
                "$set": {
                    "consultant": parties.consultant.model_dump(mode="json"),
                    "contact": contact.model_dump(mode="json") if contact else None,
                    "routed_at": routed_at,
                }
            },
            upsert=True,
        )

    async def closed(self, case_id: str, at: datetime, retention: timedelta) -> None:
        await self.collection.update_one(
            {"_id": case_id}, {"$set": {"delete_after": at + retention}}
        )

    async def reopened(self, case_id: str) -> None:
        await self.collection.update_one({"_id": case_id}, {"$set": {"delete_after": None}})

    async def forget_expired(self) -> int:
        result = await self.collection.delete_many(
            {"delete_after": {"$ne": None, "$lt": datetime.now(UTC)}}
        )
        return result.deleted_count
