"""Who each case is between (`case_contacts`), remembered from case-routed.

Kept only as long as needed: when the case is closed the record gets a deadline
(`delete_after`: closure + retention) and the day of it (`delete_on`); the purge
job deletes each day's expired records by that day (`domain.retention`), an
indexed equality, as FerretDB has no TTL indexes and pushes no range down. A
reopened case loses both. The job's progress is a document in `service_state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.events import Consultant, ContactPerson
from indgang_notifications.adapters.queries import CASE_CONTACTS, CONTACTS_TO_DELETE, STATE
from indgang_notifications.domain.messages import CaseParties
from indgang_notifications.domain.retention import days_to_visit, finished_through
from indgang_runtime.deadline_days import scheduled_day

PURGE_STATE = "case_contacts_purge"


class CaseParticipants:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db["case_contacts"]
        self.state: AsyncCollection[dict[str, Any]] = db["service_state"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("delete_on")

    async def get(self, case_id: str) -> CaseParties | None:
        doc = await self.collection.find_one(CASE_CONTACTS.filter(_id=case_id))
        if doc is None:
            return None
        contact = doc.get("contact")
        return CaseParties(
            case_id=case_id,
            consultant=Consultant.model_validate(doc["consultant"]),
            contact=ContactPerson.model_validate(contact) if contact else None,
            routed_at=doc.get("routed_at"),
        )

    async def remember(self, routings: Sequence[CaseParties]) -> None:
        """Keep the parties of each case's latest routing (two bulk writes for a batch).

        Order does not matter: a routing older than the stored one changes nothing, so a
        redelivered event cannot bring back a former consultant. A routing without the
        contact (not shared) keeps the contact already known."""
        routings = [r for r in routings if r.routed_at is not None]
        if not routings:
            return
        # First make sure each case has a record; then, only for the cases that had one
        # already (a re-routing or a redelivery: rare), let the newest routing win.
        created = await self.collection.bulk_write(
            [
                UpdateOne(
                    CASE_CONTACTS.filter(_id=r.case_id),
                    {"$setOnInsert": _fields(r, with_contact=True)},
                    upsert=True,
                )
                for r in routings
            ],
            ordered=False,
        )
        upserted = created.upserted_ids or {}
        existing = [r for n, r in enumerate(routings) if n not in upserted]
        if not existing:
            return
        await self.collection.bulk_write(
            [
                UpdateOne(
                    {**CASE_CONTACTS.filter(_id=r.case_id), "routed_at": {"$lt": r.routed_at}},
                    {"$set": _fields(r, with_contact=r.contact is not None)},
                )
                for r in existing
            ],
            ordered=False,
        )

    async def closed(self, case_id: str, at: datetime, retention: timedelta, now: datetime) -> None:
        delete_after = at + retention
        await self.collection.update_one(
            CASE_CONTACTS.filter(_id=case_id),
            {"$set": {"delete_after": delete_after, "delete_on": scheduled_day(delete_after, now)}},
        )

    async def reopened(self, case_id: str) -> None:
        await self.collection.update_one(
            CASE_CONTACTS.filter(_id=case_id), {"$set": {"delete_after": None, "delete_on": None}}
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


def _fields(parties: CaseParties, *, with_contact: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "consultant": parties.consultant.model_dump(mode="json"),
        "routed_at": parties.routed_at,
    }
    if with_contact:
        fields["contact"] = parties.contact.model_dump(mode="json") if parties.contact else None
    return fields
