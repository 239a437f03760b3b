"""How far each periodic job has got: one keyed document per job (collection `job_state`).

The deletion job walks its schedule a day (or an hour) at a time by equality,
so it must remember where it stopped instead of asking the store for "every
deadline before now", which the store could only answer by reading everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from indgang_intake.adapters.queries import JOB, JOB_STATE
from indgang_runtime.mongo import as_duplicate_key


class JobState:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db[JOB_STATE]

    async def get(self, job: str) -> dict[str, Any] | None:
        return await self.collection.find_one(JOB.filter(_id=job))

    async def begin(self, job: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The job's state, created with `fields` unless it exists (another instance's wins)."""
        try:
            state = await self.collection.find_one_and_update(
                JOB.filter(_id=job),
                {"$setOnInsert": dict(fields)},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except OperationFailure as exc:
            if as_duplicate_key(exc) is None:
                raise
            state = None  # another instance created it at the same moment
        if state is None:
            state = await self.get(job)
        if state is None:
            raise RuntimeError(f"job state {job!r} vanished")
        return state

    async def set(self, job: str, fields: Mapping[str, Any]) -> None:
        await self.collection.update_one(JOB.filter(_id=job), {"$set": dict(fields)})

    async def advance(self, job: str, field: str, value: str) -> None:
        """Move `field` forward to `value`, never back (instances may race; ISO strings
        sort like the moments they name)."""
        await self.collection.update_one(
            {**JOB.filter(_id=job), field: {"$lt": value}}, {"$set": {field: value}}
        )
