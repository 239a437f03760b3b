"""Each organisation's latest consultant, for the continuity rule, by key.

One document per organisation (`_id` = the organisation key: a normalised CVR
or e-mail address, so possibly personal data): `consultant_id` and `case_id`
of the latest time one of its cases got an owner (opened, moved, reopened),
written right after that case write. Routing reads it when it opens a case,
instead of finding the organisation's newest case with a sort. A lost write
(a crash between the two writes) is repaired when the inquiry is redelivered;
the case document stays the truth about its owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from indgang_routing.adapters import queries as q
from indgang_routing.adapters.bulk import bulk_update

Doc = dict[str, Any]


class Owner(NamedTuple):
    consultant_id: str
    case_id: str


class OrganisationStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[q.ORGANISATIONS]

    async def latest_consultant(self, organisation_key: str) -> str | None:
        owner = await self.latest_owner(organisation_key)
        return owner.consultant_id if owner else None

    async def latest_owner(self, organisation_key: str) -> Owner | None:
        """The organisation's latest consultant and the case they got then."""
        doc = await self.collection.find_one(q.ORGANISATION.filter(_id=organisation_key))
        return Owner(str(doc["consultant_id"]), str(doc["case_id"])) if doc else None

    async def record(self, owners: Mapping[str, Owner], now: datetime) -> None:
        """Organisation key → who now owns which of its cases (one round trip per 20)."""
        await bulk_update(
            self.collection,
            (
                UpdateOne(
                    q.ORGANISATION.filter(_id=key),
                    {
                        "$set": {
                            "consultant_id": owner.consultant_id,
                            "case_id": owner.case_id,
                            "updated_at": now,
                        }
                    },
                    upsert=True,
                )
                for key, owner in owners.items()
            ),
            ordered=False,
        )

    async def record_if_missing(self, owners: Mapping[str, Owner], now: datetime) -> None:
        """Like `record`, but never over a newer write (the startup migration)."""
        await bulk_update(
            self.collection,
            (
                UpdateOne(
                    q.ORGANISATION.filter(_id=key),
                    {
                        "$setOnInsert": {
                            "consultant_id": owner.consultant_id,
                            "case_id": owner.case_id,
                            "updated_at": now,
                        }
                    },
                    upsert=True,
                )
                for key, owner in owners.items()
            ),
            ordered=False,
        )

    async def forget(self, organisation_key: str, case_id: str) -> None:
        """Delete the organisation's pointer if it still names this case (the deletion job:
        a key without CVR is the contact's e-mail)."""
        await self.collection.delete_one(
            {**q.ORGANISATION.filter(_id=organisation_key), "case_id": case_id}
        )
