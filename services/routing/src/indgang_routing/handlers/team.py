"""The team lead keeps the team and the outside-provider list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import structlog

from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import Conflict, InvalidInput, NotFound
from indgang_routing.domain.providers import Provider
from indgang_routing.domain.team import Absence, Consultant
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.context import Context

log = structlog.get_logger(__name__)


class TeamAdmin:
    def __init__(self, ctx: Context, routing: CaseRouting) -> None:
        self.ctx = ctx
        self.routing = routing

    async def save(self, consultant: Consultant, *, new: bool) -> None:
        team = await self.ctx.team.load()
        if not new:
            current = team.require(consultant.id)
            consultant = replace(consultant, absences=current.absences)
        team.with_member(consultant)  # validates the deputy
        if not await self.ctx.team.save(consultant, self.ctx.now(), new=new):
            if new:
                raise Conflict(f"Der er allerede en konsulent med id'et {consultant.id!r}.")
            raise NotFound(f"Konsulenten {consultant.id!r} er ikke på holdet.")
        log.info("consultant_saved", consultant=consultant.id, new=new)

    async def add_absence(self, consultant_id: str, start: date, end: date) -> None:
        team = await self.ctx.team.load()
        consultant = team.require(consultant_id)
        now = self.ctx.now()
        updated = consultant.with_absence(Absence(start, end), self.ctx.local_day(now))
        if updated != consultant:
            await self.ctx.team.save(updated, now, new=False)

    async def remove_absence(self, consultant_id: str, start: date, end: date) -> None:
        team = await self.ctx.team.load()
        consultant = team.require(consultant_id)
        kept = tuple(a for a in consultant.absences if a != Absence(start, end))
        await self.ctx.team.save(replace(consultant, absences=kept), self.ctx.now(), new=False)

    async def remove(self, consultant_id: str, to_id: str | None, actor: Actor) -> int:
        """The consultant leaves the team; their open cases move (bulk, reason manual)."""
        team = await self.ctx.team.load()
        team_after = team.without(consultant_id)  # refuses to remove the last consultant
        if to_id is not None:
            team_after.require(to_id)
        await self.ctx.team.remove(consultant_id, self.ctx.now())
        moved = await self.routing.reassign_all(consultant_id, to_id, actor, team_after)
        log.info("consultant_removed", consultant=consultant_id, cases_moved=moved)
        return moved

    async def reassign_all(self, from_id: str, to_id: str | None, actor: Actor) -> int:
        """Move a consultant's open cases without removing them (e.g. a long absence)."""
        if to_id == from_id:
            raise InvalidInput("Vælg en anden konsulent at flytte sagerne til.")
        return await self.routing.reassign_all(from_id, to_id, actor)

    async def save_provider(self, provider: Provider) -> None:
        await self.ctx.providers.save(provider, self.ctx.now())

    async def remove_provider(self, provider_id: str) -> None:
        if not await self.ctx.providers.remove(provider_id, self.ctx.now()):
            raise NotFound(f"Udbyderen {provider_id!r} er ikke på listen.")
