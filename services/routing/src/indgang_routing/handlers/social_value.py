"""Social value on a case (issue 14): recording, correcting and withdrawing outcomes,
and the RSV readiness checklist. The rules are `domain/social_value.py`.

Each change is one compare-and-set write of the case as read (`updated_at`): the new
state, its event in the case's outbox and its timeline entry together, so two people at
once cannot both succeed and the world is told exactly what was stored. Repeating a
recording (a form sent twice: the form carries its recording's id; an API call retried
with the same id) changes nothing and publishes nothing. Outcomes and the checklist may
be recorded while the case is open and after it is closed (social value often shows
later); by the case's consultant or the team lead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

import structlog

from indgang_contracts.events import RsvCriterion, RsvCriterionStatus
from indgang_routing.domain import timeline
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.case import Case
from indgang_routing.domain.errors import Conflict
from indgang_routing.domain.social_value import (
    Change,
    Outcome,
    changed_readiness,
    check_outcome,
    decide_outcome,
    outcome_record,
    outcome_recorded,
    recorded_at,
    replaced,
    rsv_readiness_changed,
)
from indgang_routing.handlers.context import Context, event_id

log = structlog.get_logger(__name__)
CHANGED_MEANWHILE = "Sagen blev ændret samtidig. Se sagen igen, og prøv igen."


class SocialValue:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def record_outcome(
        self, case_id: str, actor: Actor, outcome: Outcome, outcome_id: str | None = None
    ) -> tuple[str, Change]:
        """Record social value for a day, or correct the recording `outcome_id` names
        (all of it is replaced). A new id (or none: one is made) is a new recording; the
        same recording again is `unchanged`. Returns the id and what happened."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        now = self.ctx.now()
        check_outcome(outcome, self.ctx.local_day(now), self.ctx.local_day(case["created_at"]))
        return await self._write(case, actor, outcome_id or str(uuid.uuid4()), outcome)

    async def withdraw_outcome(self, case_id: str, actor: Actor, outcome_id: str) -> Change:
        """Withdraw a recording (it then counts nothing); again is `unchanged`."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        _, change = await self._write(case, actor, outcome_id, None)
        return change

    async def _write(
        self, case: Case, actor: Actor, outcome_id: str, outcome: Outcome | None
    ) -> tuple[str, Change]:
        recorded = list(case.get("outcomes") or [])
        change = decide_outcome(recorded, outcome_id, outcome)
        if change == "unchanged":
            return outcome_id, change
        now = self.ctx.now()
        previous = next((r for r in recorded if r["id"] == outcome_id), None)
        day = date.fromisoformat(previous["occurred_on"]) if previous else None
        at = recorded_at(recorded, outcome_id, now)
        event = outcome_recorded(case, outcome_id, outcome, day, actor.id, at)
        record = self.ctx.record(event)
        stored = outcome_record(event, event_id(record), actor.name)
        if not await self.ctx.cases.change(
            case["_id"],
            expect={"updated_at": case["updated_at"]},
            now=now,
            set_={"outcomes": replaced(recorded, stored)},
            push={
                "timeline": timeline.outcome_recorded(event, event_id(record), change, actor.name)
            },
            events=[record],
        ):
            raise Conflict(CHANGED_MEANWHILE)
        log.info("case_outcome_recorded", case_id=case["_id"], change=change)
        return outcome_id, change

    async def change_rsv_readiness(
        self,
        case_id: str,
        actor: Actor,
        statuses: Mapping[RsvCriterion, RsvCriterionStatus],
        notes: Mapping[RsvCriterion, str],
        registered_on: date | None,
    ) -> list[str]:
        """Change the RSV checklist (criteria not named keep theirs) and whether the
        enterprise is registered (None: not registered). Returns what changed, in words;
        nothing (a form sent twice, a retried call) stores and publishes nothing."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        now = self.ctx.now()
        readiness, changes = changed_readiness(
            cast(Mapping[str, Any] | None, case.get("rsv")),
            statuses,
            notes,
            registered_on,
            today=self.ctx.local_day(now),
            by=actor.id,
            now=now,
        )
        if not changes:
            return changes
        event = rsv_readiness_changed(case, readiness)
        record = self.ctx.record(event)
        if not await self.ctx.cases.change(
            case_id,
            expect={"updated_at": case["updated_at"]},
            now=now,
            set_={"rsv": readiness},
            push={"timeline": timeline.rsv_changed(event, event_id(record), changes, actor.name)},
            events=[record],
        ):
            raise Conflict(CHANGED_MEANWHILE)
        log.info("rsv_readiness_changed", case_id=case_id, ready=event.ready)
        return changes
