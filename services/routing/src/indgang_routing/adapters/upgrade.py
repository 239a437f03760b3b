"""Startup migrations of a store written by an earlier routing: each runs once.

Each step is recorded in `migrations` (`_id` = its name) when it has run, so a
restart costs one lookup per step instead of a scan of every case (finding
documents that lack a field cannot use an index). Every step is idempotent:
several instances starting at once may both run it.

Steps, in order:
- `cases-open-slot`: cases from before one-open-case-per-organisation get their
  `open_slot` (before the unique index is built);
- `cases-equality-fields`: the top-level fields the hot paths query by equality
  (`consultant_id`, `referral_ids`, `overdue_watch`, `closed_month`);
- `cases-overdue-watch-day`: a watched case's `overdue_watch` was `true`; it
  becomes its due day, which the overdue job looks it up by;
- `active-flags`: team members and providers get `active` (from `removed_at`);
- `organisations-latest-consultant`: each organisation's latest consultant
  (its open case's, else its newest case's), never over a newer write;
- `consultants-load-counters`: the sets of open case ids the members held
  (`open_case_ids`) become counters (`open_cases`), and the sets go;
- `cases-search-terms`: every case gets the words it is found by (`search_terms`;
  only its references once anonymised);
- `cases-referral-watch`: every case gets the answer deadlines of its referrals still
  unanswered (`referral_watch`), which the overdue-referral job looks them up by.

The counters are then reconciled with the open cases, as at every start
(`handlers/loads.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.events import CaseStatus
from indgang_routing.adapters import queries as q
from indgang_routing.adapters.bulk import bulk_update
from indgang_routing.adapters.cases import OPEN, closed_slot
from indgang_routing.adapters.organisations import OrganisationStore, Owner
from indgang_routing.domain.calendar import local_day, month_of
from indgang_routing.domain.lifecycle import overdue_watch
from indgang_routing.domain.referrals import watched_day
from indgang_routing.domain.search import case_search_terms

log = structlog.get_logger(__name__)
Doc = dict[str, Any]


async def give_old_cases_a_slot(cases: AsyncCollection[Doc]) -> int:
    """The newest open case of an organisation becomes its open case; an older open one
    keeps its status but not the slot (`legacy:<id>`). Runs before the unique index
    exists, so it checks for a holder itself."""
    cursor = cases.find(
        {"open_slot": {"$exists": False}}, {"status": 1, "organisation_key": 1, "created_at": 1}
    )
    docs = sorted(await cursor.to_list(), key=lambda d: d["created_at"], reverse=True)
    for doc in docs:
        slot = closed_slot(doc["_id"])
        if doc["status"] in OPEN:
            taken = await cases.find_one(
                q.OPEN_CASE_OF_ORGANISATION.filter(open_slot=doc["organisation_key"]), {"_id": 1}
            )
            slot = f"legacy:{doc['_id']}" if taken else doc["organisation_key"]
        await cases.update_one({"_id": doc["_id"]}, {"$set": {"open_slot": slot}})
    return len(docs)


def _equality_fields(case: Doc) -> Doc:
    closed_at = case.get("closed_at")
    month = None
    if case["status"] == CaseStatus.CLOSED.value and isinstance(closed_at, datetime):
        month = month_of(local_day(closed_at))
    return {
        "consultant_id": case["consultant"]["id"],
        "referral_ids": [r["id"] for r in case.get("referrals") or []],
        "overdue_watch": overdue_watch(
            CaseStatus(case["status"]),
            bool(case.get("overdue_reported_at")),
            case["first_contact_due"],
        ),
        "closed_month": month,
    }


async def add_equality_fields(cases: AsyncCollection[Doc]) -> int:
    projection = {
        "consultant": 1,
        "referrals": 1,
        "status": 1,
        "overdue_reported_at": 1,
        "first_contact_due": 1,
        "closed_at": 1,
    }
    docs = await cases.find({"overdue_watch": {"$exists": False}}, projection).to_list()
    return await bulk_update(
        cases,
        (UpdateOne({"_id": d["_id"]}, {"$set": _equality_fields(d)}) for d in docs),
        ordered=False,
    )


async def watch_by_due_day(cases: AsyncCollection[Doc]) -> int:
    """`overdue_watch: true` → the case's due day (only where it is still true)."""
    docs = await cases.find({"overdue_watch": True}, {"first_contact_due": 1}).to_list()
    return await bulk_update(
        cases,
        (
            UpdateOne(
                {"_id": d["_id"], "overdue_watch": True},
                {"$set": {"overdue_watch": d["first_contact_due"]}},
            )
            for d in docs
        ),
        ordered=False,
    )


async def add_active_flags(collection: AsyncCollection[Doc]) -> int:
    docs = await collection.find({"active": {"$exists": False}}, {"removed_at": 1}).to_list()
    return await bulk_update(
        collection,
        (
            UpdateOne({"_id": d["_id"]}, {"$set": {"active": d.get("removed_at") is None}})
            for d in docs
        ),
        ordered=False,
    )


async def record_latest_consultants(
    cases: AsyncCollection[Doc], organisations: OrganisationStore
) -> int:
    latest: dict[str, tuple[tuple[bool, datetime], Owner]] = {}
    projection = {"organisation_key": 1, "consultant": 1, "status": 1, "created_at": 1}
    async for case in cases.find({}, projection):
        rank = (case["status"] in OPEN, case["created_at"])
        key = case["organisation_key"]
        if key not in latest or rank > latest[key][0]:
            latest[key] = (rank, Owner(case["consultant"]["id"], case["_id"]))
    owners = {key: owner for key, (_, owner) in latest.items()}
    await organisations.record_if_missing(owners, datetime.now(UTC))
    return len(owners)


async def count_open_case_ids(consultants: AsyncCollection[Doc]) -> int:
    """`open_case_ids` (a set that grew with every open case) → `open_cases` (a count).

    A member that already has a counter (an increment got there first) keeps it;
    the reconciliation that follows at startup sets the true counts either way."""
    legacy = {"open_case_ids": {"$exists": True}}
    docs = await consultants.find(legacy, {"open_case_ids": 1}).to_list()
    updates: list[UpdateOne] = []
    for doc in docs:
        count = len(doc.get("open_case_ids") or [])
        updates += [
            UpdateOne(
                {"_id": doc["_id"], "open_cases": {"$exists": False}},
                {"$set": {"open_cases": count}},
            ),
            UpdateOne({"_id": doc["_id"]}, {"$unset": {"open_case_ids": ""}}),
        ]
    await bulk_update(consultants, updates, ordered=True)
    return len(docs)


async def add_search_terms(cases: AsyncCollection[Doc]) -> int:
    """The words each case is found by (`domain/search.py`), once for the existing ones."""
    projection = {
        "reference": 1,
        "inquiries.reference": 1,
        "organisation": 1,
        "contact": 1,
        "anonymised_at": 1,
    }
    docs = await cases.find({}, projection).to_list()

    def terms(case: Doc) -> list[str]:
        if case.get("anonymised_at"):  # only the references find an anonymised case
            case = {"reference": case.get("reference"), "inquiries": case.get("inquiries")}
        return case_search_terms(case)

    return await bulk_update(
        cases,
        (UpdateOne({"_id": d["_id"]}, {"$set": {"search_terms": terms(d)}}) for d in docs),
        ordered=False,
    )


async def add_referral_watch(cases: AsyncCollection[Doc]) -> int:
    """The deadlines of each case's unanswered referrals (`domain/referrals.watched_day`),
    once for the existing cases; the job's first tick reports those already late."""
    docs = await cases.find({"referral_watch": {"$exists": False}}, {"referrals": 1}).to_list()

    def days(case: Doc) -> list[str]:
        return sorted({d for r in case.get("referrals") or [] if (d := watched_day(r))})

    return await bulk_update(
        cases,
        (UpdateOne({"_id": d["_id"]}, {"$set": {"referral_watch": days(d)}}) for d in docs),
        ordered=False,
    )


class StoreUpgrade:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.done: AsyncCollection[Doc] = db[q.MIGRATIONS]

    async def once(self, name: str, step: Callable[[], Awaitable[int]]) -> None:
        if await self.done.find_one(q.MIGRATION.filter(_id=name)) is not None:
            return
        changed = await step()
        await self.done.update_one(
            q.MIGRATION.filter(_id=name),
            {"$setOnInsert": {"at": datetime.now(UTC), "documents": changed}},
            upsert=True,
        )
        log.info("store_migrated", step=name, documents=changed)

    async def run(self) -> None:
        cases = self.db[q.CASES]

        async def active_flags() -> int:
            return await add_active_flags(self.db[q.CONSULTANTS]) + await add_active_flags(
                self.db[q.PROVIDERS]
            )

        await self.once("cases-open-slot", lambda: give_old_cases_a_slot(cases))
        await self.once("cases-equality-fields", lambda: add_equality_fields(cases))
        await self.once("cases-overdue-watch-day", lambda: watch_by_due_day(cases))
        await self.once("active-flags", active_flags)
        await self.once(
            "organisations-latest-consultant",
            lambda: record_latest_consultants(cases, OrganisationStore(self.db)),
        )
        await self.once(
            "consultants-load-counters", lambda: count_open_case_ids(self.db[q.CONSULTANTS])
        )
        await self.once("cases-search-terms", lambda: add_search_terms(cases))
        await self.once("cases-referral-watch", lambda: add_referral_watch(cases))
