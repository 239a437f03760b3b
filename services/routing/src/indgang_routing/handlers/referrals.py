"""Referrals from a case, and the target's answers through routing's department API.

Departments and outside providers answer only through that API (each key reads and
answers only the referrals sent to its department, or to its own provider); routing
alone writes `referral-updated` (issue 12: no other principal may write the topic)
and consumes it again. An answer is applied once: the CloudEvent id is remembered on
the case in the same write that applies it, so a redelivered event, or routing's own
published answer coming back from Kafka, changes nothing. The consultant stays the
owner.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import structlog

from indgang_contracts.envelope import Envelope, Record
from indgang_contracts.events import Consultant as ConsultantRef
from indgang_contracts.events import (
    ReferralOutcome,
    ReferralStatus,
    ReferralUpdated,
)
from indgang_routing.adapters.cases import OPEN
from indgang_routing.domain import timeline
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import COPENHAGEN
from indgang_routing.domain.case import Case, Referral, new_referral, referral_answer
from indgang_routing.domain.errors import CaseNotFound, Conflict, ReferralNotFound
from indgang_routing.domain.referrals import (
    ReferralRequest,
    check_answer,
    check_answered_on,
    check_request,
    check_response_due,
    check_sent_to,
    referral_made,
    referral_updated,
    same_answer,
    target_name,
    unknown,
    watched_day,
)
from indgang_routing.handlers.context import Context, event_id
from indgang_runtime.auth import DepartmentSystem

log = structlog.get_logger(__name__)


def _locate(case: Case, referral_id: str) -> tuple[int, Referral]:
    for index, referral in enumerate(case.get("referrals", [])):
        if referral["id"] == referral_id:
            return index, referral
    raise ReferralNotFound(f"Henvisningen {referral_id} findes ikke på sagen {case['_id']}.")


class Referrals:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cases = ctx.cases

    async def make(self, case_id: str, request: ReferralRequest, actor: Actor) -> str:
        provider = check_request(request, await self.ctx.providers.all())
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        if case["status"] not in OPEN:
            raise Conflict("Sagen er lukket. Genåbn den for at henvise.")
        now = self.ctx.now()
        check_response_due(request.response_due, self.ctx.local_day(now))
        referral_id = str(uuid.uuid4())
        consultant = ConsultantRef.model_validate(case["consultant"])
        event = referral_made(case, request, consultant, referral_id, now)
        record = self.ctx.record(event)
        name = target_name(
            request.target.model_dump(mode="json"), provider.name if provider else None
        )
        referral = new_referral(referral_id, request, name, actor.id, now)
        # Its answer deadline, for the overdue-referral job (`handlers/overdue.py`).
        day = watched_day(referral)
        made = await self.cases.change(
            case_id,
            expect={"status": {"$in": OPEN}},
            now=now,
            push={
                "referrals": referral,
                "timeline": timeline.referral_made(event, event_id(record), name, actor.id),
            },
            add_to_set={"referral_watch": day} if day else None,
            events=[record],
        )
        if not made:
            raise Conflict("Sagen blev lukket samtidig. Genåbn den for at henvise.")
        log.info("referral_made", case_id=case_id, referral_id=referral_id)
        return referral_id

    async def referral(self, referral_id: str, reader: DepartmentSystem) -> tuple[Case, Referral]:
        """The referral and its case, for the department system it was sent to (an outside
        provider: only its own referrals; any other is not found)."""
        case = await self.cases.with_referral(referral_id)
        if case is None:
            raise unknown(referral_id)
        _, referral = _locate(case, referral_id)
        check_sent_to(referral, reader.department, reader.provider_id)
        return case, referral

    async def answer(
        self,
        referral_id: str,
        answerer: DepartmentSystem,
        status: ReferralStatus,
        reason: str | None,
        outcome: ReferralOutcome | None,
    ) -> str:
        """A department or outside provider answers through the API: stored and published
        as referral-updated (routing is the only writer of that topic).

        Returns the case id. Repeating the answer the referral already has changes nothing."""
        case, referral = await self.referral(referral_id, answerer)
        # Answered by the target it was sent to (`check_sent_to`), as the referral names it.
        update = referral_updated(
            case,
            referral,
            status=status,
            reason=reason,
            outcome=outcome,
            answered_at=self.ctx.now(),
        )
        record = self.ctx.record(update)
        await self._apply(case, update, event_id(record), [record])
        return str(case["_id"])

    async def record_answer(
        self,
        case_id: str,
        referral_id: str,
        actor: Actor,
        status: ReferralStatus,
        reason: str | None,
        outcome: ReferralOutcome | None,
        answered_on: date,
    ) -> bool:
        """The consultant records an answer the target gave by phone or mail, on its behalf:
        the same rules and the same apply path as an answer through the API, published as
        referral-updated with `recorded_by`. Returns False when the referral already has
        this answer (a form sent twice changes nothing)."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        _, referral = _locate(case, referral_id)
        now = self.ctx.now()
        today = self.ctx.local_day(now)
        check_answered_on(answered_on, today, self.ctx.local_day(referral["made_at"]))
        at = now if answered_on == today else datetime.combine(answered_on, time(12), COPENHAGEN)
        update = referral_updated(
            case,
            referral,
            status=status,
            reason=reason,
            outcome=outcome,
            answered_at=at,
            recorded_by=actor.id,
        )
        record = self.ctx.record(update)
        return await self._apply(case, update, event_id(record), [record], actor.name)

    async def apply(self, envelope: Envelope[ReferralUpdated]) -> bool:
        """A referral-updated event from Kafka: routing's own answers coming back (only
        routing may write the topic). Unknown case or referral, or an answer by someone
        the referral was not sent to → dead letter."""
        update = envelope.data
        case = await self.cases.get(update.case_id)
        if case is None:
            raise CaseNotFound(
                f"referral-updated {envelope.id} names case {update.case_id}, which routing "
                "does not have"
            )
        _, referral = _locate(case, update.referral_id)
        check_sent_to(referral, update.answered_by, update.answered_by_provider_id)
        return await self._apply(case, update, envelope.id, [])

    async def _apply(
        self,
        case: Case,
        update: ReferralUpdated,
        answer_id: str,
        events: list[Record],
        recorder_name: str | None = None,
    ) -> bool:
        for _ in range(3):
            index, referral = _locate(case, update.referral_id)
            answers = referral.get("answers", [])
            if answer_id in case.get("applied_event_ids", []) or (
                answers and same_answer(answers[-1], update)
            ):
                log.info("referral_answer_already_applied", referral_id=update.referral_id)
                return False
            check_answer(ReferralStatus(referral["status"]), update.status)
            answer = referral_answer(update, answer_id, recorder_name)
            name = referral.get("target_name") or target_name(referral["target"])
            at = f"referrals.{index}"
            applied = await self.cases.change(
                case["_id"],
                expect={
                    f"{at}.id": update.referral_id,
                    f"{at}.status": referral["status"],
                    "applied_event_ids": {"$ne": answer_id},
                },
                now=self.ctx.now(),
                set_={f"{at}.status": update.status.value},
                push={
                    f"{at}.answers": answer,
                    "applied_event_ids": answer_id,
                    "timeline": timeline.referral_answered(update, answer_id, name, recorder_name),
                },
                events=events,
            )
            if applied:
                log.info(
                    "referral_answered", referral_id=update.referral_id, status=update.status.value
                )
                return True
            case = await self.ctx.case(case["_id"])
        raise Conflict("Henvisningen blev besvaret samtidig. Prøv igen.")
