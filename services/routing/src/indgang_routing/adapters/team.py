"""The team (with each member's open cases) and the outside-provider list in the store,
seeded from their files.

Seeding inserts what is missing and never overwrites: once the team lead has
edited a consultant or a provider, a restart keeps the edit. Removal leaves a
tombstone (`active: false`, `removed_at`), so a removed member does not come back
from the seed file at the next start. `active` is a boolean, not "no
`removed_at`", because only equality is answered through an index.

Each consultant document also holds `open_case_ids`, the set of their open
cases: the policy's loads, read with the team in one query instead of counting
cases. It is changed right after the case write that opens, moves, closes or
reopens a case (`$addToSet`/`$pull`, so repeating a change is harmless) and
recomputed from the open cases at startup and periodically
(`handlers/loads.py`). The case document stays the truth about its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from indgang_routing.adapters import queries as q
from indgang_routing.adapters.bulk import bulk_update
from indgang_routing.domain.providers import Provider
from indgang_routing.domain.team import Consultant, Team

Doc = dict[str, Any]
OPEN_CASE_IDS = "open_case_ids"


class LoadChange(NamedTuple):
    """A case became (`opened`) or stopped being one of the consultant's open cases."""

    consultant_id: str
    case_id: str
    opened: bool


async def _seed(collection: AsyncCollection[Doc], docs: Sequence[Doc], now: datetime) -> int:
    added = 0
    for doc in docs:
        try:
            result = await collection.update_one(
                {"_id": doc["_id"]},
                {"$setOnInsert": {**doc, "active": True, "removed_at": None, "created_at": now}},
                upsert=True,
            )
        except DuplicateKeyError:  # another instance seeded it at the same moment
            continue
        added += result.upserted_id is not None
    return added


class TeamStore:
    def __init__(self, db: AsyncDatabase[Doc], team_lead_email: str | None) -> None:
        self.collection: AsyncCollection[Doc] = db[q.CONSULTANTS]
        self.team_lead_email = team_lead_email

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("active")
        await self.collection.create_index("deputy")

    async def seed(self, team: Team, now: datetime) -> int:
        return await _seed(self.collection, [c.to_doc() for c in team.consultants], now)

    def _team(self, docs: Sequence[Doc]) -> Team:
        members = sorted((Consultant.from_doc(d) for d in docs), key=lambda c: c.id)
        return Team(tuple(members), self.team_lead_email)

    async def load(self) -> Team:
        docs = await self.collection.find(q.TEAM.filter(active=True), {OPEN_CASE_IDS: 0}).to_list()
        return self._team(docs)

    async def load_with_loads(self) -> tuple[Team, dict[str, int]]:
        """The team and how many open cases each member has (one query)."""
        docs = await self.collection.find(q.TEAM.filter(active=True)).to_list()
        loads = {str(d["_id"]): len(d.get(OPEN_CASE_IDS) or []) for d in docs}
        return self._team(docs), loads

    async def save(self, consultant: Consultant, now: datetime, *, new: bool) -> bool:
        """Add (`new`: False if the id is taken by an active member) or update a member."""
        doc = consultant.to_doc()
        fields = {k: v for k, v in doc.items() if k != "_id"}
        member = q.CONSULTANT.filter(_id=consultant.id)
        if new:
            try:
                await self.collection.insert_one(
                    {**doc, "active": True, "removed_at": None, "created_at": now}
                )
            except DuplicateKeyError:
                # Someone who left and comes back: revive the tombstone.
                result = await self.collection.update_one(
                    {**member, "active": False},
                    {"$set": {**fields, "active": True, "removed_at": None, "updated_at": now}},
                )
                return result.matched_count == 1
            return True
        result = await self.collection.update_one(
            {**member, "active": True}, {"$set": {**fields, "updated_at": now}}
        )
        return result.matched_count == 1

    async def remove(self, consultant_id: str, now: datetime) -> None:
        """Tombstone the member and clear them as anyone's deputy."""
        await self.collection.update_one(
            {**q.CONSULTANT.filter(_id=consultant_id), "active": True},
            {"$set": {"active": False, "removed_at": now, "updated_at": now}},
        )
        await self.collection.update_many(
            q.DEPUTY_OF.filter(deputy=consultant_id), {"$set": {"deputy": None, "updated_at": now}}
        )

    # --- loads -------------------------------------------------------------------------

    async def change_loads(self, changes: Sequence[LoadChange]) -> None:
        """Apply the changes in order (one round trip per 20)."""
        await bulk_update(
            self.collection,
            (
                UpdateOne(
                    q.CONSULTANT.filter(_id=c.consultant_id),
                    {"$addToSet" if c.opened else "$pull": {OPEN_CASE_IDS: c.case_id}},
                )
                for c in changes
            ),
            ordered=True,
        )

    async def open_case_ids(self) -> dict[str, set[str]]:
        """Every member's (and former member's) recorded open cases."""
        found: dict[str, set[str]] = {}
        for query in (q.TEAM.filter(active=True), q.FORMER_MEMBERS.filter(active=False)):
            async for doc in self.collection.find(query, {OPEN_CASE_IDS: 1}):
                found[str(doc["_id"])] = set(doc.get(OPEN_CASE_IDS) or [])
        return found


class ProviderStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[q.PROVIDERS]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("active")

    async def seed(self, providers: Sequence[Provider], now: datetime) -> int:
        return await _seed(self.collection, [p.to_doc() for p in providers], now)

    async def all(self) -> dict[str, Provider]:
        docs = await self.collection.find(q.PROVIDER_LIST.filter(active=True)).to_list()
        providers = sorted((Provider.from_doc(d) for d in docs), key=lambda p: (p.name, p.id))
        return {p.id: p for p in providers}

    async def save(self, provider: Provider, now: datetime) -> None:
        fields = {k: v for k, v in provider.to_doc().items() if k != "_id"}
        await self.collection.update_one(
            q.PROVIDER.filter(_id=provider.id),
            {
                "$set": {**fields, "active": True, "removed_at": None, "updated_at": now},
                "$setOnInsert": {"created_at": now},
            },
            upsert=True,
        )

    async def remove(self, provider_id: str, now: datetime) -> bool:
        result = await self.collection.update_one(
            {**q.PROVIDER.filter(_id=provider_id), "active": True},
            {"$set": {"active": False, "removed_at": now, "updated_at": now}},
        )
        return result.matched_count == 1
