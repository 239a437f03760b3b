"""Start-up migration of a store written by an earlier version (not a hot path).

Version 2 (issue 9, every hot-path query by `_id` or indexed equality):
- deliveries get `search_terms` and `created_hour` (the delivery log), and
  `claim`/`claim_until` (a claim is now a compare-and-set on the delivery; a
  live claim from `delivery_claims` is carried over, then that collection goes);
- deliveries written before the relay's `outbox_due` flag get it (and a free
  lease), so events still waiting in their outbox are published;
- closed cases' contacts get their deletion day (`delete_on`);
- indexes that no query uses any more are dropped (each costs every write).

Version 3 (issue 12, finding 7): deliveries get their anonymisation deadline,
three years after they were made (a case closed before this version keeps that
longest deadline; one closed from now on brings it forward).
Version 4 (issue 12, finding 7): case contacts get `first_routed_at` and, while
their case is open, the longest deadline (three years after it), so the
contacts of a case that is never closed are deleted too.
The version is kept in `service_state`, so a migrated store is not read again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from indgang_notifications.adapters.deliveries import EPOCH, FREE
from indgang_notifications.adapters.queries import STATE
from indgang_notifications.domain.delivery_log import created_hour, search_terms
from indgang_notifications.domain.retention import DELIVERY_MAX_RETENTION_DAYS, anonymise_after
from indgang_runtime.deadline_days import scheduled_day

log = structlog.get_logger(__name__)
Document = dict[str, Any]

VERSION = 4
SCHEMA = "schema"
CHUNK = 500
UNUSED_INDEXES = {
    "deliveries": (
        "key_1",  # `_id` is derived from the key, so it is unique already
        "status_1_next_attempt_at_1",
        "case_id_1",
        "inquiry_id_1",
        "recipient_1",
    ),
    "case_contacts": ("delete_after_1",),
}


async def migrate(db: AsyncDatabase[Document], now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    state = db["service_state"]
    schema = await state.find_one(STATE.filter(_id=SCHEMA))
    if schema is not None and schema.get("version", 0) >= VERSION:
        return
    claims = await _live_claims(db["delivery_claims"], now)
    deliveries = await _update_all(
        db["deliveries"], {"search_terms": {"$exists": False}}, lambda d: _delivery(d, claims)
    )
    longest = timedelta(days=DELIVERY_MAX_RETENTION_DAYS)
    await _update_all(
        db["deliveries"],
        {"anonymise_on": {"$exists": False}},
        lambda d: _deadline(d.get("created_at") or now, longest, now),
    )
    # Deliveries whose outcome events were stored before the due flag get it from the
    # runtime's own start-up upgrade (OutboxCollection.ensure_indexes).
    contacts = await _update_all(
        db["case_contacts"],
        {"delete_after": {"$ne": None}, "delete_on": {"$exists": False}},
        lambda d: {"delete_on": scheduled_day(d["delete_after"], now)},
    )
    contacts += await _update_all(
        db["case_contacts"],
        {"first_routed_at": {"$exists": False}},
        lambda d: _first_routed(d, longest, now),
    )
    for collection, names in UNUSED_INDEXES.items():
        for name in names:
            # Never created, or dropped by another instance meanwhile.
            with contextlib.suppress(OperationFailure):
                await db[collection].drop_index(name)
    await db.drop_collection("delivery_claims")
    await state.update_one(STATE.filter(_id=SCHEMA), {"$max": {"version": VERSION}}, upsert=True)
    log.info(
        "store_migrated",
        version=VERSION,
        deliveries=deliveries,
        case_contacts=contacts,
    )


async def _live_claims(claims: AsyncCollection[Document], now: datetime) -> dict[str, Document]:
    """Per delivery, a claim whose lease has not run out (its sender may be sending)."""
    live: dict[str, Document] = {}
    async for claim in claims.find({}):
        if claim["lease_until"] > now:
            live[claim["delivery_id"]] = claim
    return live


def _deadline(created: datetime, longest: timedelta, now: datetime) -> Document:
    deadline = anonymise_after(created, None, timedelta(0), longest)
    return {"anonymise_after": deadline, "anonymise_on": scheduled_day(deadline, now)}


def _first_routed(doc: Mapping[str, Any], longest: timedelta, now: datetime) -> Document:
    # The earliest routing still known: the stored (latest) one, or now if none.
    first = doc.get("routed_at") or now
    fields: Document = {"first_routed_at": first}
    if doc.get("delete_after") is None:  # open: the longest deadline
        deadline = first + longest
        fields.update(delete_after=deadline, delete_on=scheduled_day(deadline, now))
    return fields


def _delivery(doc: Mapping[str, Any], claims: Mapping[str, Document]) -> Document:
    created = doc.get("created_at") or EPOCH
    fields: Document = {
        "search_terms": search_terms(
            doc.get("case_id"), doc.get("inquiry_id"), doc.get("reference"), doc.get("recipient")
        ),
        "created_hour": created_hour(created),
        "claim": FREE,
        "claim_until": EPOCH,
    }
    claim = claims.get(doc["_id"])
    if claim is not None and doc.get("status") == "pending":
        fields.update(claim=f"migrated:{claim['_id']}", claim_until=claim["lease_until"])
    return fields


async def _update_all(
    collection: AsyncCollection[Document],
    query: Mapping[str, Any],
    fields: Callable[[Mapping[str, Any]], Document],
) -> int:
    """`$set` `fields(doc)` on every document matching `query`, in bulk writes."""
    count = 0
    batch: list[UpdateOne] = []
    async for doc in collection.find(dict(query)):
        batch.append(UpdateOne({"_id": doc["_id"]}, {"$set": fields(doc)}))
        if len(batch) >= CHUNK:
            count += (await collection.bulk_write(batch, ordered=False)).matched_count
            batch = []
    if batch:
        count += (await collection.bulk_write(batch, ordered=False)).matched_count
    return count
