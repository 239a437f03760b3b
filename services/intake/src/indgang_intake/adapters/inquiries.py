"""Inquiries in the store (collection `inquiries`), each with its outbox of events in the
same document, and each organisation's latest inquiry beside them (`organisations`).

Every query here is one of `queries.HOT_PATHS`: by `_id`, or equality on an
indexed field whose answer stays small (a reference, an inquiry's follow-ups,
the inquiries whose deadline falls on one day).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_contracts.envelope import Record
from indgang_intake.adapters.deletion_schedule import DeletionSchedule
from indgang_intake.adapters.job_state import JobState
from indgang_intake.adapters.migrations import drop_indexes
from indgang_intake.adapters.organisations import Organisations
from indgang_intake.adapters.queries import (
    FOLLOW_UPS,
    INQUIRIES,
    INQUIRY,
    INQUIRY_BY_REFERENCE,
)
from indgang_intake.domain.inquiry import Inquiry
from indgang_intake.domain.retention import RetentionPolicy
from indgang_runtime.deadline_days import past
from indgang_runtime.outbox import OutboxCollection

Clock = Callable[[], datetime]

# What each step reads of an inquiry (never the outbox: it can be large).
_STORED = {
    "_id": 1,
    "reference": 1,
    "received_at": 1,
    "organisation_key": 1,
    "follow_up_of": 1,
    "anonymised_at": 1,
    "anonymise_at": 1,
}
_IN_CASE = {"_id": 1, "received_at": 1, "case_id": 1, "case_status_at": 1, "anonymised_at": 1}


@dataclass(frozen=True)
class StoredInquiry:
    """What the use cases need of a stored inquiry."""

    id: str
    reference: str
    received_at: datetime
    organisation_key: str | None
    follow_up_of: str | None
    anonymised: bool

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> StoredInquiry:
        return cls(
            id=doc["_id"],
            reference=doc["reference"],
            received_at=doc["received_at"],
            organisation_key=doc.get("organisation_key"),
            follow_up_of=doc.get("follow_up_of"),
            anonymised=doc.get("anonymised_at") is not None,
        )


class InquiryRepository:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        policy: RetentionPolicy | None = None,
        *,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox = OutboxCollection(db[INQUIRIES])
        self.collection: AsyncCollection[dict[str, Any]] = self.outbox.collection
        self.organisations = Organisations(db)
        self.jobs = JobState(db)
        self.policy = policy or RetentionPolicy.of()
        # When a deadline is written: it is filed no earlier than this clock's day.
        self.clock = clock
        self.schedule = DeletionSchedule(
            self.collection, self.organisations, self.jobs, self.policy
        )

    async def prepare(self) -> None:
        """Start-up: the indexes. (The deletion schedule is brought up to date by the
        retention job's first round, in the background: it may read every inquiry.)"""
        await self.ensure_indexes()
        # Served queries of the version before the schedule; each index costs every write.
        await drop_indexes(
            self.collection, ["organisation_key_1", "received_at_1", "case_closed_at_1"]
        )

    async def ensure_indexes(self) -> None:
        """The indexes the hot paths need (README: "Indexes"); the outbox relay adds
        `outbox_due`, and `organisations` and `job_state` are read by `_id` only."""
        await self.collection.create_index("reference", unique=True)
        await self.collection.create_index("follow_up_of")
        await self.collection.create_index("anonymise_on")
        await self.organisations.ensure_collection()

    # --- Receiving ------------------------------------------------------------------

    async def add(self, inquiry: Inquiry, events: Sequence[Record]) -> StoredInquiry:
        """Store the inquiry and its events in one write, then make it its organisation's
        latest; returns the inquiry as stored.

        Idempotent on the inquiry id: when a retried write finds the inquiry already
        stored (the first attempt succeeded after all), the stored one is kept and
        returned, and only the organisation's pointer is applied again.
        """
        document = {"_id": inquiry.id, **self._document(inquiry)}
        try:
            # An insert, not an upsert: FerretDB v1 drops top-level nulls from `$setOnInsert`.
            await self.outbox.insert(document, events)
            stored = StoredInquiry.of(document)
        except DuplicateKeyError:
            found = await self.find(inquiry.id)
            if found is None:  # another unique index refused it (a reference in use)
                raise
            stored = found
        await self.note_latest(stored)
        return stored

    def _document(self, inquiry: Inquiry) -> dict[str, Any]:
        s = inquiry.submission
        door = inquiry.door
        schedule = self.policy.schedule(inquiry.received_at, None, self.clock())
        return {
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
            # The deadline, and the day the deletion job looks for it.
            "anonymise_at": schedule.deadline,
            "anonymise_on": schedule.day,
            "anonymised_at": None,
        }

    async def find(self, inquiry_id: str) -> StoredInquiry | None:
        doc = await self.collection.find_one(INQUIRY.filter(_id=inquiry_id), _STORED)
        return StoredInquiry.of(doc) if doc is not None else None

    async def note_latest(self, inquiry: StoredInquiry) -> None:
        """Make the stored inquiry its organisation's latest (idempotent, forward only)."""
        if inquiry.organisation_key is None or inquiry.anonymised:
            return
        await self.organisations.note(inquiry.organisation_key, inquiry.id, inquiry.received_at)

    async def latest_for_organisation(
        self, organisation_key: str, *, now: datetime, exclude_id: str | None = None
    ) -> str | None:
        """The id of the organisation's latest inquiry, if it still identifies the
        organisation at `now` (not anonymised and not past its deadline, even if the
        deletion job has not come round yet). Two reads by `_id`."""
        latest = await self.organisations.latest(organisation_key)
        if latest is None or latest["inquiry_id"] == exclude_id:
            return None
        doc = await self.collection.find_one(INQUIRY.filter(_id=latest["inquiry_id"]), _STORED)
        if doc is None or doc.get("anonymised_at") is not None:
            return None
        deadline = doc.get("anonymise_at")
        if deadline is not None and past(deadline, now):
            return None
        inquiry_id: str = doc["_id"]
        return inquiry_id

    # --- Case status ------------------------------------------------------------------

    async def record_case_status(
        self, *, reference: str, case_id: str, status: str, closed: bool, at: datetime
    ) -> int:
        """Apply a case's status to the inquiry with `reference` and to its follow-ups.

        Follow-ups received before the change that have not been seen in a case
        of their own belong to the same case (routing keeps them there). Older
        changes than the one stored are ignored, so redelivery and replays
        change nothing. Each inquiry's deletion deadline follows its case (closing
        starts the countdown, reopening stops it). Returns how many inquiries changed.
        """
        root = await self.collection.find_one(
            INQUIRY_BY_REFERENCE.filter(reference=reference), _IN_CASE
        )
        if root is None:
            return 0
        members = [root]
        seen = {root["_id"]}
        frontier = [root]
        while frontier:
            found: list[dict[str, Any]] = []
            for parent in frontier:
                children = self.collection.find(
                    FOLLOW_UPS.filter(follow_up_of=parent["_id"]), _IN_CASE
                )
                async for child in children:
                    if (
                        child["_id"] not in seen
                        and child["received_at"] <= at
                        and child.get("case_id") in (None, case_id)
                    ):
                        seen.add(child["_id"])
                        found.append(child)
            members += found
            frontier = found
        now = self.clock()
        updates = []
        for doc in members:
            stored_at = doc.get("case_status_at")
            if stored_at is not None and stored_at > at:
                continue
            fields: dict[str, Any] = {
                "case_id": case_id,
                "case_status": status,
                "case_status_at": at,
                "case_closed_at": at if closed else None,
            }
            if doc.get("anonymised_at") is None:
                schedule = self.policy.schedule(doc["received_at"], at if closed else None, now)
                fields.update(anonymise_at=schedule.deadline, anonymise_on=schedule.day)
            updates.append(
                UpdateOne(
                    {
                        **INQUIRY.filter(_id=doc["_id"]),
                        # Compare-and-set: a newer change stored meanwhile wins.
                        "$or": [{"case_status_at": None}, {"case_status_at": {"$lte": at}}],
                    },
                    {"$set": fields},
                )
            )
        if not updates:
            return 0
        result = await self.collection.bulk_write(updates, ordered=False)
        return result.modified_count
