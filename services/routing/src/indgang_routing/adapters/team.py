"""The team (with each member's number of open cases) and the outside-provider list in
the store, seeded from their files.

Seeding inserts what is missing and never overwrites: once the team lead has
edited a consultant or a provider, a restart keeps the edit. Removal leaves a
tombstone (`active: false`, `removed_at`), so a removed member does not come back
from the seed file at the next start. `active` is a boolean, not "no
`removed_at`", because only equality is answered through an index.

Each consultant document also holds `open_cases`, how many open cases they
own: the policy's loads, read with the team in one query instead of counting
cases. A counter, not the set of case ids, so the team read on every inquiry
batch costs the same at ten open cases or ten thousand (a set grew by ~45 bytes
per open case, and FerretDB decodes whole documents). It is raised or lowered
(`$inc`) right after the case write that opens, moves, closes or reopens a case,
and recomputed from the open cases at startup and periodically
(`handlers/loads.py`). An increment is not idempotent, so it is applied once,
by the writer of the case change, never again on a redelivery. The case
document stays the truth about its owner; a counter is a heuristic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
OPEN_CASES = "open_cases"


class LoadCorrection(NamedTuple):
    """A recorded load (None: no counter yet) and the open cases the member really has."""

    recorded: int | None
    actual: int


async def _seed(collection: AsyncCollection[Doc], docs: Sequence[Doc], now: datetime) -> int:
    added = 0
    for doc in docs:
        try:
            result = await collection.update_one(
                {"_id": doc["_id"]},
                {
                    "$setOnInsert": {
                        **doc,
                        "active": True,
                        "removed_at": None,
                        "created_at": now,
                        OPEN_CASES: 0,
                    }
                },
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
        return (await self.load_with_loads())[0]

    async def load_with_loads(self) -> tuple[Team, dict[str, int]]:
        """The team and how many open cases each member has (one query)."""
        docs = await self.collection.find(q.TEAM.filter(active=True)).to_list()
        # Never below zero: a decrement whose increment was lost reads as no case
        # until the reconciliation puts the counter right.
        loads = {str(d["_id"]): max(0, int(d.get(OPEN_CASES) or 0)) for d in docs}
        return self._team(docs), loads

    async def save(self, consultant: Consultant, now: datetime, *, new: bool) -> bool:
        """Add (`new`: False if the id is taken by an active member) or update a member."""
        doc = consultant.to_doc()
        fields = {k: v for k, v in doc.items() if k != "_id"}
        member = q.CONSULTANT.filter(_id=consultant.id)
        if new:
            try:
                await self.collection.insert_one(
                    {**doc, "active": True, "removed_at": None, "created_at": now, OPEN_CASES: 0}
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

    async def change_loads(self, changes: Mapping[str, int]) -> None:
        """Raise or lower each member's counter by the change (one round trip per 20
        members; increments commute, so in any order). Not idempotent: apply once."""
        await bulk_update(
            self.collection,
            (
                UpdateOne(q.CONSULTANT.filter(_id=consultant_id), {"$inc": {OPEN_CASES: change}})
                for consultant_id, change in sorted(changes.items())
                if change
            ),
            ordered=False,
        )

    async def recorded_loads(self) -> dict[str, int | None]:
        """Every member's (and former member's) counter; None where there is none yet."""
        found: dict[str, int | None] = {}
        for query in (q.TEAM.filter(active=True), q.FORMER_MEMBERS.filter(active=False)):
            async for doc in self.collection.find(query, {OPEN_CASES: 1}):
                value = doc.get(OPEN_CASES)
                found[str(doc["_id"])] = None if value is None else int(value)
        return found

    async def correct_loads(self, corrections: Mapping[str, LoadCorrection]) -> int:
        """Set each counter to the actual number if it still holds what was read
        (compare-and-set: an increment that landed meanwhile is not overwritten);
        returns how many were set."""
        return await bulk_update(
            self.collection,
            (
                UpdateOne(
                    {
                        **q.CONSULTANT.filter(_id=consultant_id),
                        OPEN_CASES: ({"$exists": False} if c.recorded is None else c.recorded),
                    },
                    {"$set": {OPEN_CASES: c.actual}},
                )
                for consultant_id, c in sorted(corrections.items())
            ),
            ordered=False,
        )


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
