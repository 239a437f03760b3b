"""The read model in the store: one document per inquiry, case, closing, referral and
delivery (`domain.facts`), each with its `month` and `week` bucket fields indexed.

Writes: per event, the documents it touches are loaded by `_id`, merged (pure) and
written back with a compare-and-set on their revision (`rev`), so two subscribers
touching the same document (an inquiry's inquiry-received and its case-routed) never
lose each other's fields: the loser reloads and merges again (merges are idempotent).
A document that did not change is not written.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

import structlog
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_contracts.events import Event
from indgang_reporting.adapters import queries as q
from indgang_reporting.domain.facts import (
    CASE_CHANGES,
    CASES,
    COLLECTIONS,
    CONSULTANTS,
    DELIVERIES,
    INQUIRIES,
    OUTCOMES,
    REFERRALS,
    RSV,
    Doc,
    Key,
    merge,
    touches,
)
from indgang_reporting.domain.figures import FACT_PARTS, Facts
from indgang_reporting.domain.periods import Span

log = structlog.get_logger(__name__)
ATTEMPTS = 20
# The purge looks this many months back (the topics keep far less than that).
PURGE_MONTHS_BACK = 24


class Conflict(Exception):
    """Another writer changed a document between our read and our write."""


class FactStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def ensure_indexes(self) -> None:
        for name in (INQUIRIES, CASES, CASE_CHANGES, REFERRALS, DELIVERIES, OUTCOMES, RSV):
            await self._db[name].create_index([("month", ASCENDING)])
            await self._db[name].create_index([("week", ASCENDING)])
        await self._db[CASES].create_index([("awaiting_first_contact", ASCENDING)])
        await self._db[REFERRALS].create_index([("completed_month", ASCENDING)])
        await self._db[REFERRALS].create_index([("completed_week", ASCENDING)])
        await self._db[REFERRALS].create_index([("reason_purge_month", ASCENDING)])
        await self._db[OUTCOMES].create_index([("case_id", ASCENDING)])

    async def purge_reasons(self, today: date, months_back: int = PURGE_MONTHS_BACK) -> int:
        """Remove the reasons of declines due this month or in the `months_back` before
        (a rebuild may bring back a reason that was due; the next tick removes it)."""
        removed = 0
        year, month = today.year, today.month
        for _ in range(months_back + 1):
            done = await self._db[REFERRALS].update_many(
                q.REASONS_TO_PURGE.filter(reason_purge_month=f"{year:04d}-{month:02d}"),
                {
                    "$unset": {"answers.declined.reason": ""},
                    "$set": {"reason_purge_month": None},
                    "$inc": {"rev": 1},
                },
            )
            removed += done.modified_count
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return removed

    async def drop(self) -> None:
        """Forget the whole read model (a rebuild reads the topics again)."""
        for name in COLLECTIONS:
            await self._db.drop_collection(name)

    # --- writes -----------------------------------------------------------------------

    async def record(self, events: Sequence[Event]) -> int:
        """Apply `events` in order; returns how many documents changed."""
        for _ in range(ATTEMPTS):
            try:
                return await self._record_once(events)
            except (Conflict, DuplicateKeyError):
                continue  # someone else wrote first: merge again on what they wrote
        raise Conflict(f"{len(events)} events: gave up after {ATTEMPTS} conflicting writes")

    async def _record_once(self, events: Sequence[Event]) -> int:
        loaded: dict[Key, Doc | None] = {}
        current: dict[Key, Doc | None] = {}
        for event in events:
            for key in touches(event):
                if key not in loaded:
                    loaded[key] = await self._db[key[0]].find_one(q.FACT.filter(_id=key[1]))
                    current[key] = loaded[key]
            current.update(merge(event, current))
        changed = 0
        for key, doc in current.items():
            before = loaded[key]
            if doc is None or (before is not None and _same(before, doc)):
                continue
            await self._write(key, before, doc)
            changed += 1
        return changed

    async def _write(self, key: Key, before: Doc | None, doc: Doc) -> None:
        collection = self._db[key[0]]
        if before is None:
            await collection.insert_one({**doc, "rev": 1})  # DuplicateKeyError: a race
            return
        rev = int(before.get("rev", 0))
        done = await collection.replace_one(
            {**q.FACT.filter(_id=key[1]), "rev": rev}, {**doc, "rev": rev + 1}
        )
        if done.matched_count == 0:
            raise Conflict(key)

    async def names(self, staff_ids: Iterable[str]) -> dict[str, str]:
        """The consultants' names by staff id (those known from the events)."""
        found: dict[str, str] = {}
        for staff_id in set(staff_ids):
            doc = await self._db[CONSULTANTS].find_one(q.FACT.filter(_id=staff_id))
            if doc is not None and doc.get("name"):
                found[staff_id] = str(doc["name"])
        return found

    # --- reads ------------------------------------------------------------------------

    async def _of(self, collection: str, field: str, keys: Iterable[str]) -> list[Doc]:
        found: list[Doc] = []
        for key in keys:
            found.extend(await self._db[collection].find({field: key}).to_list(None))
        return found

    async def facts(
        self, span: Span, *, parts: Collection[str] = FACT_PARTS, openers: bool = False
    ) -> Facts:
        """The facts of `span`'s periods: only the `parts` (fields of `Facts`) a report
        uses; `openers`: with the cases' opening inquiries (the door of a case)."""
        by = span.granularity  # "month" or "week", the indexed bucket field
        keys = span.keys()
        facts = Facts()
        if "inquiries" in parts or openers:
            facts.inquiries = await self._of(INQUIRIES, by, keys)
        if "cases" in parts:
            facts.cases = await self._of(CASES, by, keys)
        if "case_changes" in parts:
            facts.case_changes = await self._of(CASE_CHANGES, by, keys)
        if "referrals_made" in parts:
            facts.referrals_made = await self._of(REFERRALS, by, keys)
        if "referrals_completed" in parts:
            facts.referrals_completed = await self._of(REFERRALS, f"completed_{by}", keys)
        if "deliveries" in parts:
            facts.deliveries = await self._of(DELIVERIES, by, keys)
        if "outcomes" in parts:
            facts.outcomes = await self._of(OUTCOMES, by, keys)
        if "rsv" in parts:
            facts.rsv = await self._of(RSV, by, keys)
        if "case_outcomes" in parts:
            # The recordings of each case closed in the periods (one query per case).
            closed = {str(d["case_id"]) for d in facts.case_changes if d.get("kind") == "closed"}
            facts.case_outcomes = {
                case: await self._db[OUTCOMES]
                .find(q.OUTCOMES_OF_CASE.filter(case_id=case))
                .to_list(None)
                for case in sorted(closed)
            }
        if "awaiting" in parts:
            facts.awaiting = (
                await self._db[CASES]
                .find(q.CASES_AWAITING.filter(awaiting_first_contact=True))
                .to_list(None)
            )
        if openers:
            known = {str(d["_id"]): d for d in facts.inquiries}
            for case in [*facts.cases, *facts.awaiting]:
                opening = str(case.get("opening_inquiry_id"))
                if opening not in known:
                    doc = await self._db[INQUIRIES].find_one(q.FACT.filter(_id=opening))
                    if doc is not None:
                        known[opening] = doc
            facts.openers = known
        return facts


def _same(before: Doc, after: Doc) -> bool:
    strip: dict[str, Any] = {k: v for k, v in before.items() if k != "rev"}
    return strip == after
