"""The team and the outside-provider list in the store, seeded from their files.

Seeding inserts what is missing and never overwrites: once the team lead has
edited a consultant or a provider, a restart keeps the edit. Removal leaves a
tombstone (`removed_at`), so a removed member does not come back from the seed
file at the next start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_routing.domain.providers import Provider
from indgang_routing.domain.team import Consultant, Team

Doc = dict[str, Any]
ACTIVE = {"removed_at": None}


async def _seed(collection: AsyncCollection[Doc], docs: Sequence[Doc], now: datetime) -> int:
    added = 0
    for doc in docs:
        try:
            result = await collection.update_one(
                {"_id": doc["_id"]},
                {"$setOnInsert": {**doc, "removed_at": None, "created_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:  # another instance seeded it at the same moment
            continue
        added += result.upserted_id is not None
    return added


class TeamStore:
    def __init__(self, db: AsyncDatabase[Doc], team_lead_email: str | None) -> None:
        self.collection: AsyncCollection[Doc] = db["consultants"]
        self.team_lead_email = team_lead_email

    async def seed(self, team: Team, now: datetime) -> int:
        return await _seed(self.collection, [c.to_doc() for c in team.consultants], now)

    async def load(self) -> Team:
        docs = [doc async for doc in self.collection.find(ACTIVE).sort("_id", 1)]
        return Team(tuple(Consultant.from_doc(d) for d in docs), self.team_lead_email)

    async def removed(self, consultant_id: str) -> bool:
        doc = await self.collection.find_one({"_id": consultant_id}, {"removed_at": 1})
        return doc is not None and doc.get("removed_at") is not None

    async def names(self) -> dict[str, str]:
        """Every consultant ever on the team, removed ones too (for history)."""
        return {str(d["_id"]): d["name"] async for d in self.collection.find({}, {"name": 1})}

    async def save(self, consultant: Consultant, now: datetime, *, new: bool) -> bool:
        """Add (`new`: False if the id is taken by an active member) or update a member."""
        doc = consultant.to_doc()
        fields = {k: v for k, v in doc.items() if k != "_id"}
        if new:
            try:
                await self.collection.insert_one({**doc, "removed_at": None, "created_at": now})
            except DuplicateKeyError:
                # Someone who left and comes back: revive the tombstone.
                result = await self.collection.update_one(
                    {"_id": consultant.id, "removed_at": {"$ne": None}},
                    {"$set": {**fields, "removed_at": None, "updated_at": now}},
                )
                return result.matched_count == 1
            return True
        result = await self.collection.update_one(
            {"_id": consultant.id, **ACTIVE}, {"$set": {**fields, "updated_at": now}}
        )
        return result.matched_count == 1

    async def remove(self, consultant_id: str, now: datetime) -> None:
        """Tombstone the member and clear them as anyone's deputy."""
        await self.collection.update_one(
            {"_id": consultant_id, **ACTIVE}, {"$set": {"removed_at": now, "updated_at": now}}
        )
        await self.collection.update_many(
            {"deputy": consultant_id}, {"$set": {"deputy": None, "updated_at": now}}
        )


class ProviderStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db["providers"]

    async def seed(self, providers: Sequence[Provider], now: datetime) -> int:
        return await _seed(self.collection, [p.to_doc() for p in providers], now)

    async def all(self) -> dict[str, Provider]:
        cursor = self.collection.find(ACTIVE).sort("name", 1)
        return {str(d["_id"]): Provider.from_doc(d) async for d in cursor}

    async def save(self, provider: Provider, now: datetime) -> None:
        fields = {k: v for k, v in provider.to_doc().items() if k != "_id"}
        await self.collection.update_one(
            {"_id": provider.id},
            {
                "$set": {**fields, "removed_at": None, "updated_at": now},
                "$setOnInsert": {"created_at": now},
            },
            upsert=True,
        )

    async def remove(self, provider_id: str, now: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": provider_id, **ACTIVE}, {"$set": {"removed_at": now, "updated_at": now}}
        )
        return result.matched_count == 1
