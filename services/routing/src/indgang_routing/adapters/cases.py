"""Cases in the store; each case document carries its own outbox.

One open case per organisation is kept by the store itself: every case has an
`open_slot` with a unique index. An open case's slot is its organisation_key; a
closed case's is `closed:<case id>`. Opening a second case for an organisation,
or reopening an old one while another is open, fails with a duplicate key,
atomically, whichever instance tries it. (FerretDB v1 has no partial indexes,
so the slot field stands in for one.)

Every change is one conditional single-document update that also appends its
events to the outbox, so a change is stored together with what it publishes,
and a condition that no longer holds (another instance or person got there
first) changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.results import UpdateResult

from indgang_contracts.envelope import Record
from indgang_routing.domain.lifecycle import OPEN_STATUSES
from indgang_runtime import outbox

CaseDoc = dict[str, Any]
OPEN = [s.value for s in OPEN_STATUSES]
# Kept in the document, never shown or returned by the API.
INTERNAL_FIELDS = ("outbox", "outbox_pending", "outbox_lease_until", "applied_event_ids")


def closed_slot(case_id: str) -> str:
    return f"closed:{case_id}"


async def _update_one(
    collection: AsyncCollection[CaseDoc],
    query: Mapping[str, Any],
    ops: Mapping[str, Any],
    *,
    upsert: bool = False,
) -> UpdateResult:
    """`update_one` that reports a unique-index violation as DuplicateKeyError on both stores
    (FerretDB v1 answers an update that breaks a unique index with a generic InternalError)."""
    try:
        return await collection.update_one(dict(query), dict(ops), upsert=upsert)
    except OperationFailure as exc:
        if exc.code != 11000 and "UNIQUE constraint failed" not in str(exc):
            raise
        raise DuplicateKeyError(str(exc), 11000, exc.details) from exc


class CaseRepository:
    def __init__(self, db: AsyncDatabase[CaseDoc]) -> None:
        self.collection: AsyncCollection[CaseDoc] = db["cases"]

    async def ensure_indexes(self) -> None:
        await self._give_old_cases_a_slot()
        await self.collection.create_index("open_slot", unique=True)
        await self.collection.create_index("organisation_key")
        await self.collection.create_index("inquiry_ids")
        await self.collection.create_index("referrals.id")
        await self.collection.create_index([("consultant.id", 1), ("status", 1)])
        await self.collection.create_index([("status", 1), ("first_contact_due", 1)])

    async def _give_old_cases_a_slot(self) -> None:
        """Cases stored before one-open-case-per-organisation get their slot, newest first:
        the newest open case of an organisation becomes its open case; an older open one
        keeps its status but not the slot (`legacy:<id>`). Runs before the unique index
        exists, so it checks for a holder itself."""
        cursor = self.collection.find(
            {"open_slot": {"$exists": False}}, {"status": 1, "organisation_key": 1}
        ).sort("created_at", -1)
        async for doc in cursor:
            slot = closed_slot(doc["_id"])
            if doc["status"] in OPEN:
                taken = await self.collection.find_one(
                    {"open_slot": doc["organisation_key"]}, {"_id": 1}
                )
                slot = f"legacy:{doc['_id']}" if taken else doc["organisation_key"]
            await self.collection.update_one({"_id": doc["_id"]}, {"$set": {"open_slot": slot}})

    # --- reading ----------------------------------------------------------------

    async def get(self, case_id: str) -> CaseDoc | None:
        return await self.collection.find_one({"_id": case_id}, {"outbox": 0})

    async def with_inquiry(self, inquiry_id: str) -> CaseDoc | None:
        return await self.collection.find_one({"inquiry_ids": inquiry_id}, {"outbox": 0})

    async def open_case_of(self, organisation_key: str) -> CaseDoc | None:
        return await self.collection.find_one({"open_slot": organisation_key}, {"outbox": 0})

    async def with_referral(self, referral_id: str) -> CaseDoc | None:
        return await self.collection.find_one({"referrals.id": referral_id}, {"outbox": 0})

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
            {"$match": {"status": {"$in": OPEN}}},
            {"$group": {"_id": "$consultant.id", "n": {"$sum": 1}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {str(row["_id"]): int(row["n"]) async for row in cursor}

    async def find(
        self, query: Mapping[str, Any], *, sort: Sequence[tuple[str, int]], limit: int = 200
    ) -> list[CaseDoc]:
        projection = {"outbox": 0, "timeline": 0, "notes": 0}
        cursor = self.collection.find(dict(query), projection).sort(list(sort)).limit(limit)
        return [doc async for doc in cursor]

    async def overdue(self, today_iso: str, limit: int = 100) -> list[CaseDoc]:
        """Assigned cases whose first-contact date has passed and that were not reported."""
        query = {
            "status": "assigned",
            "first_contact_due": {"$lt": today_iso},
            "overdue_reported_at": None,
        }
        return await self.find(query, sort=[("first_contact_due", 1)], limit=limit)

    # --- writing -----------------------------------------------------------------

    async def create(self, case: CaseDoc, events: Sequence[Record]) -> bool:
        """Store a new case with its events; False when it already exists (redelivery).

        Raises DuplicateKeyError when its organisation already has an open case.
        """
        result = await _update_one(
            self.collection,
            {"_id": case["_id"]},
            {"$setOnInsert": {**case, **outbox.new_outbox(events)}},
            upsert=True,
        )
        return result.upserted_id is not None

    async def change(
        self,
        case_id: str,
        *,
        expect: Mapping[str, Any],
        now: datetime,
        set_: Mapping[str, Any] | None = None,
        push: Mapping[str, Any] | None = None,
        add_to_set: Mapping[str, Any] | None = None,
        events: Sequence[Record] = (),
    ) -> bool:
        """One atomic update of a case if it still matches `expect`; True if it did.

        DuplicateKeyError when it would give the organisation a second open case.

        `push` appends one value per field (or `{"$each": [...]}`); the events go to
        the outbox in the same write.
        """
        ops: dict[str, Any] = outbox.append(events) if events else {"$push": {}}
        ops["$push"].update(push or {})
        if not ops["$push"]:
            del ops["$push"]
        if add_to_set:
            ops["$addToSet"] = dict(add_to_set)
        ops["$set"] = {**(set_ or {}), "updated_at": now}
        result = await _update_one(self.collection, {"_id": case_id, **expect}, ops)
        return result.matched_count == 1
