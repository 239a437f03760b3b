"""Inquiries in the store, each with its outbox of events in the same document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_contracts.envelope import Record
from indgang_intake.domain.inquiry import Inquiry
from indgang_intake.domain.retention import anonymised_fields
from indgang_runtime import outbox


class InquiryRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["inquiries"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("reference", unique=True)
        await self.collection.create_index("organisation_key")
        await self.collection.create_index("follow_up_of")
        await self.collection.create_index("received_at")
        await self.collection.create_index("case_closed_at")

    async def add(self, inquiry: Inquiry, events: list[Record]) -> None:
        """Store the inquiry and its events in one atomic write.

        Idempotent on the inquiry id: when a retried write finds the inquiry
        already stored (the first attempt succeeded after all), it is done.
        """
        s = inquiry.submission
        door = inquiry.door
        try:
            await self.collection.insert_one(
                {
                    "_id": inquiry.id,
                    "reference": inquiry.reference,
                    "received_at": inquiry.received_at,
                    "municipality_code": inquiry.municipality_code,
                    "organisation_key": inquiry.organisation_key,
                    "channel": door.channel.value,
                    "forwarded_by": door.forwarded_by.value if door.forwarded_by else None,
                    "received_by": door.received_by,
                    "follow_up_of": inquiry.follow_up_of,
                    "organisation": s.organisation.model_dump(mode="json"),
                    "contact": s.contact.model_dump(mode="json"),
                    "needs": [n.value for n in s.needs],
                    "description": s.description,
                    "privacy_notice_version": inquiry.privacy_notice_version,
                    "updated_at": inquiry.received_at,
                    # Filled in from case-status-changed; drive the deletion deadlines.
                    "case_id": None,
                    "case_status": None,
                    "case_status_at": None,
                    "case_closed_at": None,
                    "anonymised_at": None,
                    **outbox.new_outbox(events),
                }
            )
        except DuplicateKeyError:
            if await self.collection.find_one({"_id": inquiry.id}, {"_id": 1}) is None:
                raise

    async def get(self, inquiry_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": inquiry_id}, {"outbox": 0})

    async def count(self) -> int:
        return await self.collection.count_documents({})

    async def latest_for_organisation(
        self, organisation_key: str, *, exclude_id: str | None = None
    ) -> dict[str, Any] | None:
        """The organisation's most recent earlier inquiry that still identifies it."""
        query: dict[str, Any] = {"organisation_key": organisation_key, "anonymised_at": None}
        if exclude_id is not None:
            query["_id"] = {"$ne": exclude_id}
        cursor = (
            self.collection.find(query, {"_id": 1, "received_at": 1})
            .sort("received_at", DESCENDING)
            .limit(1)
        )
        async for doc in cursor:
            return doc
        return None

    async def record_case_status(
        self, *, reference: str, case_id: str, status: str, closed: bool, at: datetime
    ) -> int:
        """Apply a case's status to the inquiry with `reference` and to its follow-ups.

        Follow-ups received before the change that have not been seen in a case
        of their own belong to the same case (routing keeps them there). Older
        changes than the one stored are ignored, so redelivery and replays
        change nothing. Returns how many inquiries were updated.
        """
        root = await self.collection.find_one({"reference": reference}, {"_id": 1})
        if root is None:
            return 0
        ids = [root["_id"]]
        frontier = list(ids)
        while frontier:
            children = self.collection.find(
                {
                    "follow_up_of": {"$in": frontier},
                    "received_at": {"$lte": at},
                    "$or": [{"case_id": None}, {"case_id": case_id}],
                },
                {"_id": 1},
            )
            frontier = [c["_id"] async for c in children if c["_id"] not in ids]
            ids.extend(frontier)
        result = await self.collection.update_many(
            {
                "_id": {"$in": ids},
                "$or": [{"case_status_at": None}, {"case_status_at": {"$lte": at}}],
            },
            {
                "$set": {
                    "case_id": case_id,
                    "case_status": status,
                    "case_status_at": at,
                    "case_closed_at": at if closed else None,
                }
            },
        )
        return result.modified_count

    async def anonymise_due(
        self, *, closed_before: datetime, received_before: datetime, now: datetime
    ) -> int:
        """Remove personal data from inquiries past their deadline; returns how many.

        An inquiry whose event is still waiting in the outbox is left alone
        until it has been published (nothing is lost, not even to a deadline).
        """
        due = self.collection.find(
            {
                "anonymised_at": None,
                "outbox_pending": 0,
                "$or": [
                    {"case_closed_at": {"$ne": None, "$lt": closed_before}},
                    {"received_at": {"$lt": received_before}},
                ],
            },
            {"_id": 1, "organisation": 1, "organisation_key": 1},
        )
        done = 0
        async for doc in due:
            fields = anonymised_fields(
                bool((doc.get("organisation") or {}).get("cvr")), doc.get("organisation_key")
            )
            result = await self.collection.update_one(
                {"_id": doc["_id"], "anonymised_at": None, "outbox_pending": 0},
                {"$set": {**fields, "anonymised_at": now, "updated_at": now}},
            )
            done += result.modified_count
        return done
