"""Idempotency records: the first answer to a request, by client and Idempotency-Key.

One document per (client, key), `_id` = "<client>|<key>", so the unique `_id`
index makes "one answer per key" hold across instances. The record names the
inquiry id and reference *before* the inquiry is stored: a retry after a crash
reuses them, and the inquiry's own unique id makes a second inquiry impossible.

Each record is filed under the hour it was made (`created_hour`), so the
deletion job removes them an hour at a time by equality, remembering in
`job_state` the first hour it has not finished.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_intake.adapters.job_state import JobState
from indgang_intake.adapters.migrations import drop_indexes, hour_every_record
from indgang_intake.adapters.queries import IDEMPOTENCY, IDEMPOTENCY_MADE_IN, IDEMPOTENCY_RECORD
from indgang_intake.domain.inquiry import new_reference
from indgang_intake.domain.retention import hour_of, hours_from

# The deletion job's progress in `job_state`: the first hour it has not finished.
PURGE_JOB = "purge-idempotency-records"


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db[IDEMPOTENCY]
        self.jobs = JobState(db)

    async def prepare(self, now: datetime | None = None) -> None:
        """Start-up: the index, and records made without an hour (by a version before
        the buckets, perhaps still running beside this one) filed under theirs.

        Reads every record, which only a start-up may do; there are at most a
        day's worth."""
        await self.ensure_indexes()
        await drop_indexes(self.collection, ["created_at_1"])
        oldest = await hour_every_record(self.collection)
        state = await self._start_purging(oldest or hour_of(now or datetime.now(UTC)))
        if oldest is not None and oldest < state["next_hour"]:
            await self.jobs.set(PURGE_JOB, {"next_hour": oldest})

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("created_hour")

    async def begin(
        self, record_id: str, fingerprint: str, now: datetime
    ) -> tuple[dict[str, Any], bool]:
        """Claim `record_id`; returns (the record, whether this call created it)."""
        record = {
            "_id": record_id,
            "fingerprint": fingerprint,
            "state": "pending",
            "inquiry_id": str(uuid.uuid4()),
            "reference": new_reference(),
            "response": None,
            "created_at": now,
            "created_hour": hour_of(now),
            "claimed_at": now,
        }
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:
            existing = await self.collection.find_one(IDEMPOTENCY_RECORD.filter(_id=record_id))
            if existing is not None:
                return existing, False
            # Purged between the insert and the read: claim it afresh.
            await self.collection.insert_one(record)
        return record, True

    async def take_over(self, record: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        """Claim a pending record whose claimer gave up or crashed (compare-and-set)."""
        return await self.collection.find_one_and_update(
            {
                **IDEMPOTENCY_RECORD.filter(_id=record["_id"]),
                "state": "pending",
                "claimed_at": record["claimed_at"],
            },
            {"$set": {"claimed_at": now}},
            return_document=ReturnDocument.AFTER,
        )

    async def release(self, record_id: str, epoch: datetime) -> None:
        """Let the next retry take over at once (the claimer failed)."""
        await self.collection.update_one(
            {**IDEMPOTENCY_RECORD.filter(_id=record_id), "state": "pending"},
            {"$set": {"claimed_at": epoch}},
        )

    async def complete(self, record_id: str, response: dict[str, Any]) -> None:
        await self.collection.update_one(
            IDEMPOTENCY_RECORD.filter(_id=record_id),
            {"$set": {"state": "done", "response": response}},
        )

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete every record made before `cutoff`; returns how many.

        Whole hours before the cutoff's hour go by equality; in the cutoff's own
        hour only the records made before it (a residual on that one hour's records).
        """
        last = hour_of(cutoff)
        state = await self.jobs.get(PURGE_JOB)
        if state is None:  # the first run on a store nobody prepared
            oldest = await hour_every_record(self.collection)
            state = await self._start_purging(min(oldest or last, last))
        deleted = 0
        for hour in hours_from(state["next_hour"], last):
            query: dict[str, Any] = IDEMPOTENCY_MADE_IN.filter(created_hour=hour)
            if hour == last:
                query["created_at"] = {"$lt": cutoff}
            deleted += (await self.collection.delete_many(query)).deleted_count
        await self.jobs.advance(PURGE_JOB, "next_hour", last)
        return deleted

    async def _start_purging(self, hour: str) -> dict[str, Any]:
        """The purge job's state, starting at `hour` if it has none yet."""
        return await self.jobs.begin(PURGE_JOB, {"next_hour": hour})
