"""One-off work at start-up for stores written before intake kept its deletion schedule
and its organisation pointers (not hot: these read whole collections, once)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from indgang_intake.adapters.organisations import Organisations
from indgang_intake.domain.retention import RetentionPolicy, hour_of

_CHUNK = 500


async def drop_indexes(collection: AsyncCollection[dict[str, Any]], names: Sequence[str]) -> None:
    """Drop indexes no query uses any more (absent ones are fine)."""
    for name in names:
        with suppress(OperationFailure):
            await collection.drop_index(name)


async def file_every_inquiry(
    inquiries: AsyncCollection[dict[str, Any]],
    organisations: Organisations,
    policy: RetentionPolicy,
    now: datetime,
    *,
    note_organisations: bool,
) -> int:
    """Give every inquiry not yet anonymised its deadline under `policy` and the day it
    is filed under (never before today); with `note_organisations`, also note each
    organisation's latest such inquiry. Returns how many inquiries were re-filed.

    It runs while intake serves (the retention job's first round), so each write is a
    compare-and-set on what the deadline was computed from (`case_closed_at` as read):
    a closing or reopening stored meanwhile wrote the inquiry's deadline itself, and
    the filing then changes nothing. Only inquiries not filed as the policy files them
    are written, so a restart half-way rewrites only what is left."""
    updates: list[UpdateOne] = []
    latest: dict[str, tuple[str, datetime]] = {}
    refiled = 0
    fields = {
        "received_at": 1,
        "case_closed_at": 1,
        "anonymise_at": 1,
        "anonymise_on": 1,
        "organisation_key": 1,
    }
    async for doc in inquiries.find({"anonymised_at": None}, fields):
        schedule = policy.schedule(doc["received_at"], doc.get("case_closed_at"), now)
        filed = (doc.get("anonymise_at"), doc.get("anonymise_on"))
        if filed != (_millis(schedule.deadline), schedule.day):
            updates.append(
                UpdateOne(
                    {
                        "_id": doc["_id"],
                        "anonymised_at": None,
                        "case_closed_at": doc.get("case_closed_at"),
                    },
                    {"$set": {"anonymise_at": schedule.deadline, "anonymise_on": schedule.day}},
                )
            )
        key = doc.get("organisation_key")
        if key is not None and (key not in latest or latest[key][1] < doc["received_at"]):
            latest[key] = (doc["_id"], doc["received_at"])
        if len(updates) >= _CHUNK:
            refiled += await _write(inquiries, updates)
    refiled += await _write(inquiries, updates)
    if note_organisations:
        for key, (inquiry_id, received_at) in latest.items():
            await organisations.note(key, inquiry_id, received_at)
    return refiled


async def hour_every_record(idempotency: AsyncCollection[dict[str, Any]]) -> str | None:
    """File idempotency records made before the hour buckets under the hour they were
    made; returns the oldest hour of any record (None when there are none)."""
    updates: list[UpdateOne] = []
    oldest: str | None = None
    async for doc in idempotency.find({}, {"created_at": 1, "created_hour": 1}):
        hour = doc.get("created_hour") or hour_of(doc["created_at"])
        if doc.get("created_hour") != hour:
            updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"created_hour": hour}}))
        oldest = hour if oldest is None else min(oldest, hour)
        if len(updates) >= _CHUNK:
            await _write(idempotency, updates)
    await _write(idempotency, updates)
    return oldest


def _millis(moment: datetime) -> datetime:
    """The moment as the store keeps it (milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def _write(collection: AsyncCollection[dict[str, Any]], updates: list[UpdateOne]) -> int:
    if not updates:
        return 0
    result = await collection.bulk_write(list(updates), ordered=False)
    updates.clear()
    return result.modified_count
