"""Each organisation's latest inquiry, for repeat contact (collection `organisations`).

One document per organisation, `_id` = its key (`cvr:<8 digits>`, else
`email:<address>`: personal data), holding the id and receipt time of its most
recent inquiry. A new inquiry reads it by `_id` instead of searching the
inquiries, so repeat contact costs the same at any data size. It only moves
forward in time, and the deletion job deletes it together with the personal
data of the inquiry it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import DeleteOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from indgang_intake.adapters.queries import ORGANISATION, ORGANISATIONS
from indgang_runtime.mongo import as_duplicate_key


class Organisations:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection: AsyncCollection[dict[str, Any]] = db[ORGANISATIONS]

    async def ensure_collection(self) -> None:
        """Create the collection at start-up, not on the first inquiry (a table to create
        in the store is no work for a request)."""
        with suppress(CollectionInvalid, OperationFailure):  # it exists
            await self.collection.database.create_collection(self.collection.name)

    async def latest(self, organisation_key: str) -> dict[str, Any] | None:
        """`{_id, inquiry_id, received_at}` of the organisation's latest inquiry, if any."""
        return await self.collection.find_one(ORGANISATION.filter(_id=organisation_key))

    async def note(self, organisation_key: str, inquiry_id: str, received_at: datetime) -> None:
        """Make this inquiry the organisation's latest unless a later one is already noted.

        Idempotent (a retried submit notes the same inquiry again). One write in
        every ordinary case: the conditional upsert inserts the document, or moves
        it forward, or hits the existing `_id` because a later inquiry is noted.
        """
        # The store keeps milliseconds: compare what it will hold.
        received_at = received_at.replace(microsecond=received_at.microsecond // 1000 * 1000)
        latest = {"inquiry_id": inquiry_id, "received_at": received_at}
        for _ in range(3):
            try:
                await self.collection.update_one(
                    {
                        **ORGANISATION.filter(_id=organisation_key),
                        "received_at": {"$lt": received_at},
                    },
                    {"$set": latest},
                    upsert=True,
                )
                return
            except OperationFailure as exc:
                if as_duplicate_key(exc) is None:
                    raise
            # The document exists and was not older: either a later inquiry is noted
            # (done), or a concurrent writer created it a moment ago (look again).
            current = await self.latest(organisation_key)
            if current is not None and not _older(current, received_at):
                return

    async def forget(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Delete each organisation's document that still names the given inquiry
        (`(organisation_key, inquiry_id)`), in one round trip."""
        deletes = [
            DeleteOne({**ORGANISATION.filter(_id=key), "inquiry_id": inquiry_id})
            for key, inquiry_id in pairs
        ]
        if deletes:
            await self.collection.bulk_write(deletes, ordered=False)


def _older(current: dict[str, Any], received_at: datetime) -> bool:
    noted: datetime = current["received_at"]
    return noted < received_at
