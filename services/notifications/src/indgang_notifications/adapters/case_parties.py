"""Who each case is between (`case_contacts`), remembered from case-routed.

Kept only as long as needed: every record has a deadline (`delete_after`) and
the day of it (`delete_on`): at first the privacy notice's longest, three years
after the case's first routing (`first_routed_at`), so a case that is never
closed is not kept for ever; when the case is closed, closure + retention if
that is sooner; a reopened case goes back to the longest. The purge job deletes
each day's expired records by that day (`domain.retention`), an indexed
equality, as FerretDB has no TTL indexes and pushes no range down. The job's
progress is a document in `service_state`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.events import Consultant, ContactPerson
from indgang_notifications.adapters.queries import CASE_CONTACTS, CONTACTS_TO_DELETE, STATE
from indgang_notifications.domain.messages import CaseParties
from indgang_notifications.domain.retention import days_to_visit, finished_through
from indgang_runtime.deadline_days import DEFAULT_DAYS_MAX, scheduled_day

PURGE_STATE = "case_contacts_purge"


class CaseParticipants:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        longest: timedelta = timedelta(days=DEFAULT_DAYS_MAX),
    ) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["case_contacts"]
        self.state: AsyncCollection[dict[str, Any]] = db["service_state"]
        self.longest = longest  # kept at most this long after the first routing

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("delete_on")

    async def get(self, case_id: str) -> CaseParties | None:
        return _parties(case_id, await self.collection.find_one(CASE_CONTACTS.filter(_id=case_id)))

    async def get_or_start(
        self, routing: CaseParties, now: datetime | None = None
    ) -> tuple[CaseParties | None, bool]:
        """The case's parties as they were before this routing, and whether this routing
        started its record: one command where `get` and `remember` take two.

        A case's first routing (the usual one) is then remembered already, and
        `remember` skips it (`started`). A case with a record is left as it is, for
        `remember` to judge the routing against. Safe to replay: a crash before the
        deliveries are stored finds the record with this same routing, which plans the
        same mails (no former consultant to tell)."""
        if routing.routed_at is None:
            return await self.get(routing.case_id), False
        before = await self.collection.find_one_and_update(
            CASE_CONTACTS.filter(_id=routing.case_id),
            {"$setOnInsert": self._first(routing, now or datetime.now(UTC))},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return _parties(routing.case_id, before), before is None

    async def contact_changed(
        self, case_id: str, contact: ContactPerson, changed_at: datetime, now: datetime
    ) -> None:
        """A consultant corrected the case's contact person: later mails go to them.

        Order-safe: a correction older than the contact stored (a later correction, or a
        routing after it) changes nothing, so a redelivered or late event cannot bring
        back an old address. Seen before the case's routing, it is kept for it (the
        routing then keeps the newer contact), under the longest deadline."""
        fields = {"contact": contact.model_dump(mode="json"), "contact_at": changed_at}
        updated = await self.collection.update_one(
            {**CASE_CONTACTS.filter(_id=case_id), **_contact_older_than(changed_at)},
            {"$set": fields},
        )
        if updated.matched_count:
            return
        # No record, or one with a newer contact: insert if none (a newer one stays).
        await self.collection.update_one(
            CASE_CONTACTS.filter(_id=case_id),
            {"$setOnInsert": {**fields, **_deadline(changed_at + self.longest, now)}},
            upsert=True,
        )

    async def remember(
        self,
        routings: Sequence[CaseParties],
        now: datetime | None = None,
        started: Collection[CaseParties] = (),
    ) -> None:
        """Keep the parties of each case's latest routing (at most two bulk writes for a
        batch; none when every routing `started` its case's record, by `get_or_start`).

        Order does not matter: a routing older than the stored one changes nothing, so a
        redelivered event cannot bring back a former consultant. A routing without the
        contact (not shared) keeps the contact already known."""
        routings = [r for r in routings if r.routed_at is not None]
        existing = [r for r in routings if r not in started]
        if not existing:
            return
        now = now or datetime.now(UTC)
        # First make sure each case has a record; then, only for the cases that had one
        # already (a re-routing or a redelivery: rare), let the newest routing win.
        created = await self.collection.bulk_write(
            [
                UpdateOne(
                    CASE_CONTACTS.filter(_id=r.case_id),
                    {"$setOnInsert": self._first(r, now)},
                    upsert=True,
                )
                for r in existing
            ],
            ordered=False,
        )
        upserted = created.upserted_ids or {}
        existing = [r for n, r in enumerate(existing) if n not in upserted]
        if not existing:
            return
        # The contact by the newest routing or correction (`contact_at`), whichever came
        # last; then the consultant by the newest routing. In this order: a record from
        # before `contact_at` existed judges the contact by its `routed_at`. A record made
        # by a correction seen before the routing has no `routed_at` yet.
        updates = [
            UpdateOne(
                {**CASE_CONTACTS.filter(_id=r.case_id), **_contact_older_than(r.routed_at)},
                {"$set": _contact(r)},
            )
            for r in existing
            if r.contact is not None
        ] + [
            UpdateOne(
                {**CASE_CONTACTS.filter(_id=r.case_id), **_older_than("routed_at", r.routed_at)},
                {"$set": _fields(r, with_contact=False)},
            )
            for r in existing
        ]
        await self.collection.bulk_write(updates, ordered=True)

    def _first(self, routing: CaseParties, now: datetime) -> dict[str, Any]:
        assert routing.routed_at is not None
        return {
            **_fields(routing, with_contact=True),
            "first_routed_at": routing.routed_at,
            **_deadline(routing.routed_at + self.longest, now),
        }

    async def closed(self, case_id: str, at: datetime, retention: timedelta, now: datetime) -> None:
        """The case closed: its deadline comes forward to `retention` after `at`, unless
        the longest one is sooner. (A read and a write: closing is rare, and both are
        by `_id`; a redelivered close computes the same.)"""
        await self._deadline_from(case_id, now, closed_at=at, retention=retention)

    async def reopened(self, case_id: str, now: datetime | None = None) -> None:
        """The case is open again: back to the longest deadline."""
        await self._deadline_from(case_id, now or datetime.now(UTC))

    async def _deadline_from(
        self,
        case_id: str,
        now: datetime,
        closed_at: datetime | None = None,
        retention: timedelta = timedelta(0),
    ) -> None:
        doc = await self.collection.find_one(
            CASE_CONTACTS.filter(_id=case_id), {"first_routed_at": 1, "routed_at": 1}
        )
        if doc is None:
            return
        first = doc.get("first_routed_at") or doc["routed_at"]
        deadline = first.replace(tzinfo=first.tzinfo or UTC) + self.longest
        if closed_at is not None:
            deadline = min(deadline, closed_at + retention)
        await self.collection.update_one(
            CASE_CONTACTS.filter(_id=case_id), {"$set": _deadline(deadline, now)}
        )

    async def forget_expired(self, now: datetime) -> int:
        """Delete the contacts whose deadline has passed, day by day; returns how many."""
        state = await self.state.find_one(STATE.filter(_id=PURGE_STATE))
        done = date.fromisoformat(state["done_through"]) if state else None
        deleted = 0
        for day in days_to_visit(done, now):
            result = await self.collection.delete_many(
                # The deadline is checked only among the day's own records.
                {**CONTACTS_TO_DELETE.filter(delete_on=day), "delete_after": {"$lte": now}}
            )
            deleted += result.deleted_count
        finished = finished_through(now)
        if done is None or finished > done:
            # $max: an instance with an older view never moves it back.
            await self.state.update_one(
                STATE.filter(_id=PURGE_STATE),
                {"$max": {"done_through": finished.isoformat()}},
                upsert=True,
            )
        return deleted


def _deadline(delete_after: datetime, now: datetime) -> dict[str, Any]:
    return {"delete_after": delete_after, "delete_on": scheduled_day(delete_after, now)}


def _fields(parties: CaseParties, *, with_contact: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "consultant": parties.consultant.model_dump(mode="json"),
        "routed_at": parties.routed_at,
    }
    if with_contact:
        fields.update(_contact(parties))
    return fields


def _contact(parties: CaseParties) -> dict[str, Any]:
    return {
        "contact": parties.contact.model_dump(mode="json") if parties.contact else None,
        "contact_at": parties.routed_at,
    }


def _older_than(field: str, at: datetime | None) -> dict[str, Any]:
    """The record's `field` is before `at`, or it has none (a record made by a contact
    correction seen before the routing has no `routed_at`)."""
    return {"$or": [{field: {"$lt": at}}, {field: {"$exists": False}}]}


def _parties(case_id: str, doc: dict[str, Any] | None) -> CaseParties | None:
    if doc is None or not doc.get("consultant"):
        # Unknown, or only a corrected contact seen before the case's routing.
        return None
    contact = doc.get("contact")
    return CaseParties(
        case_id=case_id,
        consultant=Consultant.model_validate(doc["consultant"]),
        contact=ContactPerson.model_validate(contact) if contact else None,
        routed_at=doc.get("routed_at"),
        contact_at=doc.get("contact_at"),
    )


def _contact_older_than(at: datetime | None) -> dict[str, Any]:
    """The stored contact was set before `at`: by `contact_at`, or on a record from
    before it existed, by its routing."""
    return {
        "$or": [
            {"contact_at": {"$lt": at}},
            {"contact_at": {"$exists": False}, "routed_at": {"$lt": at}},
        ]
    }
