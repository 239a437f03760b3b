"""Inquiries in the store, each with its outbox of events in the same document."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import Record
from indgang_intake.domain.inquiry import Inquiry
from indgang_runtime import outbox


class InquiryRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["inquiries"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("reference", unique=True)
        await self.collection.create_index("organisation_key")

    async def add(self, inquiry: Inquiry, events: list[Record]) -> None:
        """Store the inquiry and its events in one atomic write."""
        s = inquiry.submission
        await self.collection.insert_one(
            {
                "_id": inquiry.id,
                "reference": inquiry.reference,
                "received_at": inquiry.received_at,
                "municipality_code": inquiry.municipality_code,
                "organisation_key": inquiry.organisation_key,
                "channel": s.channel.value,
                "forwarded_by": s.forwarded_by.value if s.forwarded_by else None,
                "organisation": s.organisation.model_dump(mode="json"),
                "contact": s.contact.model_dump(mode="json"),
                "needs": [n.value for n in s.needs],
                "description": s.description,
                "privacy_notice_version": inquiry.privacy_notice_version,
                "updated_at": inquiry.received_at,
                **outbox.new_outbox(events),
            }
        )

    async def get(self, inquiry_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": inquiry_id}, {"outbox": 0})

    async def count(self) -> int:
        return await self.collection.count_documents({})
