"""The consultant's work on a case: first contact, waiting, closing (telling the
enterprise why, unless it is not to be told), reopening, notes, guide entries for the
inquirer, writing to the enterprise, correcting the contact person's details; and the
overdue reminders (`handlers/overdue.py`).

Each status change is checked by the pure rules in `domain.lifecycle`, then
stored with its `case-status-changed` event and timeline entry in one
conditional update (`status` = the status the decision was made from), so two
people acting at once cannot both succeed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, cast

import structlog
from pymongo.errors import DuplicateKeyError

from indgang_contracts.envelope import Record
from indgang_contracts.events import CaseStatus, ContactChannel, Need
from indgang_routing.adapters.cases import closed_slot
from indgang_routing.adapters.guide import GuideClient
from indgang_routing.domain import timeline
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.calendar import month_of
from indgang_routing.domain.case import (
    Case,
    case_reassigned,
    closing_message,
    consultant_doc,
    contact_changed,
    corrected_contact,
    guide_entries_shared,
    message_to_enterprise,
    new_note,
    routing_info,
    status_changed,
)
from indgang_routing.domain.errors import Conflict, InvalidInput
from indgang_routing.domain.lifecycle import (
    CaseAction,
    first_contact_late,
    next_status,
    overdue_watch,
    require_outcome,
)
from indgang_routing.domain.policy import owner_after_reopen
from indgang_routing.domain.retention import is_anonymised
from indgang_routing.handlers.context import COPENHAGEN, Bookkeeping, Context, event_id
from indgang_routing.handlers.overdue import (
    OverdueFirstContacts,
    OverdueReferrals,
    overdue_report,
)

log = structlog.get_logger(__name__)
MAX_NOTE = 5000
MAX_SHARED = 20


class Casework:
    def __init__(self, ctx: Context, guide: GuideClient) -> None:
        self.ctx = ctx
        self.cases = ctx.cases
        self.guide = guide
        self.overdue = OverdueFirstContacts(ctx)
        self.overdue_referrals = OverdueReferrals(ctx)

    async def _change_status(
        self,
        case_id: str,
        actor: Actor,
        action: CaseAction,
        *,
        first_contact: tuple[ContactChannel, datetime] | None = None,
        outcome: str | None = None,
        closing_text: str | None = None,
    ) -> CaseStatus:
        for _ in range(3):
            case = await self.ctx.case(case_id)
            actor.check_may_work_on(case)
            current = CaseStatus(case["status"])
            new = next_status(current, action, first_contact_logged=bool(case.get("first_contact")))
            now = self.ctx.now()
            # Closing: what the enterprise is told (None: it is not told).
            told = closing_message(case, closing_text)
            event = status_changed(
                case,
                new,
                actor.id,
                now,
                first_contact=first_contact,
                outcome=outcome,
                message_to_enterprise=told,
            )
            record = self.ctx.record(event)
            events: list[Record] = [record]
            entries = [timeline.status_changed(event, event_id(record))]
            reported = bool(case.get("overdue_reported_at"))
            fields: dict[str, Any] = {
                "status": new.value,
                "overdue_watch": overdue_watch(new, reported, case["first_contact_due"]),
            }
            if first_contact is not None:
                channel, at = first_contact
                fields["first_contact"] = {"channel": channel.value, "at": at, "by": actor.id}
            if action is CaseAction.CLOSE:
                fields.update(
                    open_slot=closed_slot(case_id),
                    outcome=outcome,
                    closed_at=now,
                    closed_month=month_of(self.ctx.local_day(now)),
                )
            if action is CaseAction.REOPEN:
                fields.update(open_slot=case["organisation_key"], closed_at=None, closed_month=None)
                await self._new_owner_if_gone(case, now, actor, fields, events, entries)
            since = case.get("personal_since")
            if (
                action in (CaseAction.CLOSE, CaseAction.REOPEN)
                and since
                and not is_anonymised(case)
            ):
                # Closing starts the after-close deadline; reopening cancels it.
                closed_at = now if action is CaseAction.CLOSE else None
                fields.update(self.ctx.retention.schedule(since, closed_at, now).fields())
            due = date.fromisoformat(case["first_contact_due"])
            if fields["overdue_watch"] and first_contact_late(new, due, self.ctx.local_day(now)):
                # Watched again after its due day (reopened without first contact): the
                # overdue job has finished that day, so the report goes in this write.
                reported_case = cast(Case, {**case, **fields})  # as it will be stored
                record, entry = overdue_report(self.ctx, reported_case, now)
                events.append(record)
                entries.append(entry)
                fields.update(overdue_reported_at=now, overdue_watch=False)
            owner = case["consultant"]["id"]
            try:
                changed = await self.cases.change(
                    case_id,
                    # The owner too: the load to change below is that consultant's.
                    # Not anonymised meanwhile: the deadline set here would be its.
                    expect={
                        "status": current.value,
                        "consultant_id": owner,
                        "anonymised_at": case.get("anonymised_at"),
                    },
                    now=now,
                    set_=fields,
                    push={"timeline": {"$each": entries}},
                    events=events,
                )
            except DuplicateKeyError:
                other = await self.cases.open_case_of(case["organisation_key"])
                reference = f" ({other['reference']})" if other else ""
                raise Conflict(
                    f"Organisationen har allerede en åben sag{reference}. En organisation har "
                    "kun én åben sag ad gangen; brug den åbne sag."
                ) from None
            if changed:
                books = Bookkeeping()
                if action is CaseAction.CLOSE:
                    books.closed(owner)
                elif action is CaseAction.REOPEN:
                    new_owner = fields["consultant"]["id"] if "consultant" in fields else owner
                    books.opened(case_id, case["organisation_key"], new_owner)
                await self.ctx.settle(books)
                log.info("case_status_changed", case_id=case_id, status=new.value)
                return new
        raise Conflict("Sagen blev ændret samtidig. Prøv igen.")

    async def _new_owner_if_gone(
        self,
        case: Case,
        now: datetime,
        actor: Actor,
        fields: dict[str, Any],
        events: list[Record],
        entries: list[dict[str, Any]],
    ) -> None:
        """A case reopened after its consultant left the team gets a new one by the policy."""
        team, loads = await self.ctx.team.load_with_loads()
        needs = [Need(n) for n in case["needs"]]
        assignment = owner_after_reopen(
            team, case["consultant"]["id"], needs, loads, self.ctx.local_day(now)
        )
        if assignment is None:
            return
        event = case_reassigned(case, assignment, now)
        record = self.ctx.record(event)
        fields["consultant"] = consultant_doc(event.consultant)
        fields["routing"] = routing_info(assignment, case["consultant"]["id"])
        events.append(record)  # after the reopening, in the outbox as on the timeline
        entries.append(
            timeline.reassigned(event, event_id(record), case["consultant"]["name"], actor.id)
        )

    async def log_first_contact(
        self, case_id: str, actor: Actor, channel: ContactChannel, on: date
    ) -> CaseStatus:
        case = await self.ctx.case(case_id)
        now = self.ctx.now()
        today = self.ctx.local_day(now)
        if on > today:
            raise InvalidInput("Datoen for første kontakt kan ikke ligge i fremtiden.")
        if on < self.ctx.local_day(case["created_at"]):
            raise InvalidInput("Datoen for første kontakt ligger før henvendelsen kom ind.")
        at = now if on == today else datetime.combine(on, time(12), COPENHAGEN)
        return await self._change_status(
            case_id, actor, CaseAction.LOG_FIRST_CONTACT, first_contact=(channel, at)
        )

    async def wait(self, case_id: str, actor: Actor) -> CaseStatus:
        return await self._change_status(case_id, actor, CaseAction.WAIT)

    async def resume(self, case_id: str, actor: Actor) -> CaseStatus:
        return await self._change_status(case_id, actor, CaseAction.RESUME)

    async def close(
        self,
        case_id: str,
        actor: Actor,
        outcome: str | None,
        message_to_enterprise: str | None = None,
    ) -> CaseStatus:
        """Close with an outcome (staff's words) and, unless None, a message for the
        enterprise saying why in plain language (`case-status-changed.message_to_enterprise`,
        mailed by notifications). The console requires one unless the consultant chose
        »Send ikke besked« (`domain.case.closing_choice`)."""
        return await self._change_status(
            case_id,
            actor,
            CaseAction.CLOSE,
            outcome=require_outcome(outcome),
            closing_text=message_to_enterprise,
        )

    async def reopen(self, case_id: str, actor: Actor) -> CaseStatus:
        return await self._change_status(case_id, actor, CaseAction.REOPEN)

    async def add_note(self, case_id: str, actor: Actor, text: str) -> None:
        """An internal note: stored on the case, shown to staff, never published."""
        text = text.strip()
        if not text:
            raise InvalidInput("Skriv noten, før du gemmer den.")
        if len(text) > MAX_NOTE:
            raise InvalidInput(f"En note må højst være {MAX_NOTE} tegn.")
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        now = self.ctx.now()
        note = new_note(str(uuid.uuid4()), actor.id, actor.name, text, now)
        # Only onto the case as read: a deletion job that anonymised it meanwhile would
        # otherwise be followed by personal text it never saw.
        if not await self.cases.change(
            case_id,
            expect={"anonymised_at": case.get("anonymised_at")},
            now=now,
            push={"notes": note},
        ):
            raise Conflict("Sagen blev anonymiseret imens; noten blev ikke gemt.")

    async def share_guide_entries(
        self, case_id: str, actor: Actor, entry_ids: Sequence[str], message: str | None
    ) -> int:
        """Send the chosen guide entries (external audience only) to the inquirer."""
        chosen = list(dict.fromkeys(e.strip() for e in entry_ids if e.strip()))
        if not chosen:
            raise InvalidInput("Vælg mindst ét opslag fra vejledningen.")
        if len(chosen) > MAX_SHARED:
            raise InvalidInput(f"Der kan højst sendes {MAX_SHARED} opslag ad gangen.")
        if message and len(message) > 2000:
            raise InvalidInput("Den personlige besked må højst være 2000 tegn.")
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        entries = [await self.guide.shareable_entry(entry_id) for entry_id in chosen]
        now = self.ctx.now()
        event = guide_entries_shared(case, entries, (message or "").strip(), now)
        record = self.ctx.record(event)
        await self.cases.change(
            case_id,
            expect={},
            now=now,
            push={"timeline": timeline.guide_shared(event, event_id(record), actor.id)},
            events=[record],
        )
        log.info("guide_entries_shared", case_id=case_id, entries=len(entries))
        return len(entries)

    async def write_to_enterprise(
        self, case_id: str, actor: Actor, subject_line: str, body: str
    ) -> str:
        """A message from the consultant to the case's contact person: published as
        message-to-enterprise (notifications mails it, replies go to the consultant) and
        logged on the timeline in the same write. Refused when the case has no contact
        e-mail any more. Returns the message id."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        now = self.ctx.now()
        message_id = str(uuid.uuid4())
        event = message_to_enterprise(case, message_id, subject_line, body, now)
        record = self.ctx.record(event)
        # Onto the case as read: anonymised meanwhile, its contact is gone.
        if not await self.cases.change(
            case_id,
            expect={"anonymised_at": case.get("anonymised_at")},
            now=now,
            push={"timeline": timeline.message_to_enterprise(event, event_id(record), actor.id)},
            events=[record],
        ):
            raise Conflict("Sagen blev anonymiseret imens; beskeden blev ikke sendt.")
        log.info("message_to_enterprise", case_id=case_id, message_id=message_id)
        return message_id

    async def change_contact(
        self,
        case_id: str,
        actor: Actor,
        *,
        name: str,
        email: str,
        phone: str,
        language: str,
    ) -> list[str]:
        """Correct the contact person's details: the case's contact (and the words it is
        found by) changes, the timeline says which fields changed, and case-contact-changed
        tells the world. Returns the changed fields' Danish names."""
        case = await self.ctx.case(case_id)
        actor.check_may_work_on(case)
        if is_anonymised(case):
            raise InvalidInput(
                "Sagens personoplysninger er slettet efter slettefristen; kontaktoplysningerne "
                "kan ikke rettes på denne sag."
            )
        contact, changed = corrected_contact(
            case.get("contact") or {}, name=name, email=email, phone=phone, language=language
        )
        now = self.ctx.now()
        event = contact_changed(case, contact, actor.id, now)
        record = self.ctx.record(event)
        # Compare-and-set on the case as read: two corrections at once, or the deletion
        # job, make this one change nothing (the consultant tries again on the new case).
        if not await self.cases.change(
            case_id,
            expect={"updated_at": case["updated_at"], "anonymised_at": None},
            now=now,
            set_={"contact": contact.model_dump(mode="json")},
            push={
                "timeline": timeline.contact_changed(event, event_id(record), changed, actor.name)
            },
            events=[record],
        ):
            raise Conflict("Sagen blev ændret samtidig. Se de nye oplysninger, og prøv igen.")
        log.info("case_contact_changed", case_id=case_id, fields=len(changed))
        return changed
