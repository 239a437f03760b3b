"""Where a periodic job keeps its progress: one small document per job (`_id` = the
job's name), so a tick starts from where the last finished one stopped instead of
reading everything the job might concern.

Progress only moves forward, and only from the value a tick read (compare-and-set):
when several instances run the same job, the one that read the current progress
moves it; the others' writes change nothing.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_routing.adapters import queries as q

Doc = dict[str, Any]


class JobState:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[q.JOBS]

    async def get(self, job: str, field: str) -> str | None:
        doc = await self.collection.find_one(q.JOB.filter(_id=job))
        return None if doc is None or doc.get(field) is None else str(doc[field])

    async def start(self, job: str, field: str, value: str) -> None:
        """Record a first value unless the job has one (another instance may have started)."""
        # DuplicateKeyError: another instance inserted it at the same moment.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                q.JOB.filter(_id=job),
                {"$setOnInsert": {field: value, "updated_at": datetime.now(UTC)}},
                upsert=True,
            )

    async def advance(self, job: str, field: str, read: str | None, value: str) -> bool:
        """Move the value from what was `read` (None: there was none) to `value`."""
        if read is None:
            await self.start(job, field, value)
            return True
        result = await self.collection.update_one(
            {**q.JOB.filter(_id=job), field: read},
            {"$set": {field: value, "updated_at": datetime.now(UTC)}},
        )
        return result.matched_count == 1

    async def set(self, job: str, field: str, value: str) -> None:
        """Write a value whatever it was (the deletion job's policy, after filing)."""
        # DuplicateKeyError: another instance inserted it at the same moment (same value).
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                q.JOB.filter(_id=job),
                {"$set": {field: value, "updated_at": datetime.now(UTC)}},
                upsert=True,
            )
