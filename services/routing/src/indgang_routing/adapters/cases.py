"""Cases in the store; each case document carries its own outbox.

Every write that causes events goes through `OutboxCollection`, so the change
and its events are one single-document write and the relay is woken. Changes
are conditional (`expect`): an update that no longer matches (another instance
or person got there first) changes nothing; one that would give an organisation
a second open case raises DuplicateKeyError on every store.

Besides the case itself a document holds top-level copies that make the hot
paths equality lookups (`adapters/queries.py`), written in the same update as
what they copy: `consultant_id` (of `consultant`), `referral_ids` (of
`referrals`), `overdue_watch` (the due day while assigned and not reported
overdue, else false), `referral_watch` (the answer deadlines of the referrals
still unanswered and not reported late) and
`closed_month` (of `closed_at`, while closed), `search_terms` (the words the case
is found by: `domain/search.py`). `consultant_id`, `referral_ids` and
`search_terms` are kept here, whatever the caller sets or pushes.

The documents are `domain.case.Case`s (a TypedDict: read and written as they
are). A list read with a projection holds only the projected keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, cast

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import Record
from indgang_routing.adapters import queries as q
from indgang_routing.adapters.bulk import bulk_update
from indgang_routing.domain.case import Case
from indgang_routing.domain.lifecycle import OPEN_STATUSES
from indgang_routing.domain.search import MAX_CANDIDATES, case_search_terms
from indgang_runtime import outbox
from indgang_runtime.outbox import OutboxCollection

Doc = dict[str, Any]
OPEN = sorted(s.value for s in OPEN_STATUSES)
# Kept in the document, never shown or returned by the API.
INTERNAL_FIELDS = (
    *outbox.INTERNAL_FIELDS,
    "applied_event_ids",
    "open_slot",
    "consultant_id",
    "referral_ids",
    "overdue_watch",
    "referral_watch",
    "closed_month",
    "anonymise_on",
    "search_terms",
)
WITHOUT_OUTBOX = {"outbox": 0}
# Lists show neither the timeline nor the notes.
LISTED = {"outbox": 0, "timeline": 0, "notes": 0}


def closed_slot(case_id: str) -> str:
    return f"closed:{case_id}"


def newest_first(
    cases: Sequence[Case], key: Literal["created_at", "closed_at"] = "created_at"
) -> list[Case]:
    """Sorted in Python: the store sorts nothing on a hot path (FerretDB v1 would scan)."""
    return sorted(cases, key=lambda c: (c[key], c["_id"]), reverse=True)


class CaseRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.outbox = OutboxCollection(db[q.CASES])
        self.collection: AsyncCollection[Doc] = self.outbox.collection

    async def ensure_indexes(self) -> None:
        """The indexes the hot paths need (README: "Indexes"); the relay adds `outbox_due`."""
        await self.collection.create_index("open_slot", unique=True)
        await self.collection.create_index("inquiry_ids")
        await self.collection.create_index("referral_ids")
        await self.collection.create_index("organisation_key")
        await self.collection.create_index("status")
        await self.collection.create_index([("consultant_id", 1), ("status", 1)])
        await self.collection.create_index([("consultant_id", 1), ("closed_month", 1)])
        await self.collection.create_index("overdue_watch")
        await self.collection.create_index("referral_watch")
        await self.collection.create_index("anonymise_on")
        # Finding a case: one term (multikey), alone or within one consultant's cases.
        await self.collection.create_index("search_terms")
        await self.collection.create_index([("consultant_id", 1), ("search_terms", 1)])

    # --- reading: one case -----------------------------------------------------------

    async def _one(self, query: Mapping[str, Any]) -> Case | None:
        return cast(Case | None, await self.collection.find_one(dict(query), WITHOUT_OUTBOX))

    async def get(self, case_id: str) -> Case | None:
        return await self._one(q.CASE.filter(_id=case_id))

    async def with_inquiry(self, inquiry_id: str) -> Case | None:
        return await self._one(q.CASE_OF_INQUIRY.filter(inquiry_ids=inquiry_id))

    async def open_case_of(self, organisation_key: str) -> Case | None:
        return await self._one(q.OPEN_CASE_OF_ORGANISATION.filter(open_slot=organisation_key))

    async def with_referral(self, referral_id: str) -> Case | None:
        return await self._one(q.CASE_OF_REFERRAL.filter(referral_ids=referral_id))

    # --- reading: lists (bounded by current work; sorted by the caller) ---------------

    async def _list(
        self, query: Mapping[str, Any], projection: Mapping[str, Any] | None = None
    ) -> list[Case]:
        found = await self.collection.find(dict(query), dict(projection or LISTED)).to_list()
        return cast(list[Case], found)

    async def open_cases(
        self, consultant_id: str | None = None, projection: Mapping[str, Any] | None = None
    ) -> list[Case]:
        """Every open case (of one consultant): one equality query per open status."""
        queries = [
            q.CASES_IN_STATUS.filter(status=status)
            if consultant_id is None
            else q.CONSULTANT_CASES_IN_STATUS.filter(consultant_id=consultant_id, status=status)
            for status in OPEN
        ]
        found = await asyncio.gather(*(self._list(query, projection) for query in queries))
        return [case for cases in found for case in cases]

    async def closed_in(self, consultant_id: str, months: Sequence[str]) -> list[Case]:
        """A consultant's cases closed in these months ("2026-11")."""
        queries = [
            q.CONSULTANT_CLOSED_IN_MONTH.filter(consultant_id=consultant_id, closed_month=month)
            for month in months
        ]
        found = await asyncio.gather(*(self._list(query) for query in queries))
        return [case for cases in found for case in cases]

    async def with_term(self, term: str, consultant_id: str | None = None) -> list[Case]:
        """Cases found by one search term (of one consultant), at most MAX_CANDIDATES:
        the other filters and the order by deadline are applied by `domain/search.py`."""
        query = (
            q.CASES_WITH_TERM.filter(search_terms=term)
            if consultant_id is None
            else q.CONSULTANT_CASES_WITH_TERM.filter(consultant_id=consultant_id, search_terms=term)
        )
        found = await self.collection.find(query, dict(LISTED)).limit(MAX_CANDIDATES).to_list()
        return cast(list[Case], found)

    async def of_organisation(self, organisation_key: str) -> list[Case]:
        query = q.CASES_OF_ORGANISATION.filter(organisation_key=organisation_key)
        return await self._list(query, WITHOUT_OUTBOX)

    async def awaiting_first_contact(self, due_day: str) -> list[Case]:
        """Cases due on `due_day` ("2026-11-30") the overdue job watches (assigned, not
        yet reported)."""
        return await self._list(q.AWAITING_FIRST_CONTACT.filter(overdue_watch=due_day))

    async def with_referrals_due(self, due_day: str) -> list[Case]:
        """Cases with an unanswered referral whose answer deadline was `due_day`, not yet
        reported (the overdue-referral job)."""
        return await self._list(q.REFERRALS_DUE.filter(referral_watch=due_day))

    async def earliest_referral_due(self) -> str | None:
        """The earliest answer deadline among the watched referrals: the overdue-referral
        job's first day on a store. Reads every watching case: the job's first round only."""
        docs = self.collection.find({"referral_watch": {"$type": "string"}}, {"referral_watch": 1})
        return min(
            [str(day) async for d in docs for day in d.get("referral_watch") or []],
            default=None,
        )

    async def earliest_watched_due(self) -> str | None:
        """The earliest due day among the watched cases: the overdue job's first day on a
        store. Reads every watched case: the job's first round on a store only."""
        docs = self.collection.find({"overdue_watch": {"$type": "string"}}, {"overdue_watch": 1})
        return min([str(d["overdue_watch"]) async for d in docs], default=None)

    async def due_for_anonymisation(self, day: str) -> list[Case]:
        """Cases whose deletion deadline is filed under `day` ("2027-11-30"), whole but for
        the outbox (the job rewrites their texts)."""
        query = q.DUE_FOR_ANONYMISATION.filter(anonymise_on=day)
        return await self._list(query, WITHOUT_OUTBOX)

    async def not_anonymised(self) -> list[Case]:
        """Every case still holding personal data, with what its deadline is made of.
        Reads every case: the deletion job's first round only, when the schedule is missing
        or the policy changed."""
        docs = self.collection.find(
            {"anonymised_at": None},  # also a case from before deadlines (no field)
            {"_id": 1, "inquiries.received_at": 1, "personal_since": 1, "closed_at": 1,
             "status": 1, "anonymise_at": 1, "anonymise_on": 1, "updated_at": 1},
        )  # fmt: skip
        return cast(list[Case], await docs.to_list())

    async def file_for_anonymisation(
        self, schedules: Mapping[str, tuple[datetime | None, Mapping[str, Any]]]
    ) -> int:
        """Case id → (its `updated_at` as read, its schedule fields): write each, only if
        the case is unchanged since and not anonymised (the deletion job's first round).
        Returns how many were written; the others changed meanwhile."""
        return await bulk_update(
            self.collection,
            (
                UpdateOne(
                    {**q.CASE.filter(_id=case_id), "anonymised_at": None, "updated_at": read},
                    {"$set": dict(f)},
                )
                for case_id, (read, f) in schedules.items()
            ),
            ordered=False,
        )

    async def refile(self, moves: Mapping[str, tuple[str, str | None]]) -> None:
        """Case id → (the day it is filed under, the day to file it under, or None for no
        day), each only if still filed under the first (a concurrent write wins)."""
        await bulk_update(
            self.collection,
            (
                UpdateOne(
                    {**q.CASE.filter(_id=case_id), "anonymise_on": day},
                    {"$set": {"anonymise_on": to}},
                )
                for case_id, (day, to) in moves.items()
            ),
            ordered=False,
        )

    async def anonymise(self, case: Case, fields: Mapping[str, Any], now: datetime) -> bool:
        """Replace the personal data of `case` as read, if nothing changed it since and no
        event of it waits for the relay (their copies go too); True if it did."""
        expect = {
            "anonymised_at": None,
            "anonymise_at": case.get("anonymise_at"),
            "updated_at": case["updated_at"],
            outbox.PENDING: case.get(outbox.PENDING),  # as read: 0 (or none ever)
        }
        result = await self.collection.update_one(
            {**q.CASE.filter(_id=case["_id"]), **expect},
            {
                "$set": {
                    **fields,
                    # Only the references still find an anonymised case (no personal data).
                    "search_terms": case_search_terms(
                        {"reference": case.get("reference"), "inquiries": case.get("inquiries")}
                    ),
                    outbox.OUTBOX: [],
                    "personal_since": None,
                    "anonymise_at": None,
                    "anonymise_on": None,
                    "anonymised_at": now,
                    "updated_at": now,
                }
            },
        )
        return result.matched_count == 1

    # --- writing -----------------------------------------------------------------------

    async def create(self, case: Case, events: Sequence[Record]) -> bool:
        """Store a new case with its events; False when it already exists (redelivery).

        Raises DuplicateKeyError when its organisation already has an open case.
        """
        fields: Doc = {k: v for k, v in case.items() if k != "_id"}
        fields["consultant_id"] = case["consultant"]["id"]
        fields["referral_ids"] = [r["id"] for r in case.get("referrals", [])]
        fields["search_terms"] = case_search_terms(case)
        return await self.outbox.create(case["_id"], fields, events)

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
        fields = {**(set_ or {}), "updated_at": now}
        if "consultant" in fields:
            fields["consultant_id"] = fields["consultant"]["id"]
        appended = dict(push or {})
        if "referrals" in appended:
            referral = appended["referrals"]
            added = referral.get("$each", [referral])
            appended["referral_ids"] = {"$each": [r["id"] for r in added]}
        ops: dict[str, Any] = {"$set": fields}
        if appended:
            ops["$push"] = appended
        added_to_set = dict(add_to_set or {})
        # New words to find the case by, in the same write (a follow-up's reference, a
        # changed organisation or contact); the old ones stay until the case is anonymised.
        new_terms = _terms_of_change(fields, appended)
        if new_terms:
            added_to_set["search_terms"] = {"$each": new_terms}
        if added_to_set:
            ops["$addToSet"] = added_to_set
        result = await self.outbox.update({**q.CASE.filter(_id=case_id), **expect}, ops, events)
        return result.matched_count == 1

    async def unwatch_referral_day(
        self,
        case_id: str,
        day: str,
        *,
        expect: Mapping[str, Any],
        now: datetime,
        set_: Mapping[str, Any],
        timeline: Sequence[Mapping[str, Any]],
        events: Sequence[Record],
    ) -> bool:
        """Take `day` out of the case's referral watch, with the reports of that day's late
        referrals (fields, timeline entries, events), if the case still matches `expect`."""
        ops: dict[str, Any] = {
            "$set": {**set_, "updated_at": now},
            "$pull": {"referral_watch": day},
        }
        if timeline:
            ops["$push"] = {"timeline": {"$each": list(timeline)}}
        result = await self.outbox.update({**q.CASE.filter(_id=case_id), **expect}, ops, events)
        return result.matched_count == 1


def _terms_of_change(fields: Mapping[str, Any], appended: Mapping[str, Any]) -> list[str]:
    partial: dict[str, Any] = {k: fields[k] for k in ("organisation", "contact") if k in fields}
    if "inquiries" in appended:
        inquiry = appended["inquiries"]
        partial["inquiries"] = inquiry.get("$each", [inquiry])
    return case_search_terms(partial) if partial else []
