"""The overdue reminders: `first-contact-overdue`, once, for every case whose first contact
was not made by its due day; and `referral-overdue`, once, for every referral not answered
by its deadline (`OverdueReferrals`, below, the same shape).

A tick reads only the cases due on the days that passed since the last finished
one, by equality (`{overdue_watch: day}`, one query per day: a watched case holds
its due day there, any other case false), never every case awaiting first
contact (with thousands of open cases that was thousands of documents every
`OVERDUE_CHECK_SECONDS`). One field, not the due day and a flag: with an index
on each, PostgreSQL under FerretDB chose the flag's and filtered every watched
case (19 ms at 1,000, growing; 1.4 ms by the day alone). The last finished day
is kept in the `jobs` document `first-contact-overdue` (`finished_through`) and
moved forward only from the value the tick read. Yesterday stays open: each tick
reads it again (an empty index lookup once its cases are reported), so a write
on an instance whose clock is a little behind midnight is not missed. An idle
tick: one lookup by `_id` and one for yesterday.

Every watched case is seen:
- a new case is due at least one working day after it is opened, so after any
  finished day;
- a status change that watches a case again (reopened without first contact)
  reports it in the same write when its due day has passed
  (`Casework._change_status`), and otherwise leaves it to that day; a write that
  ever moves a due date must do the same;
- the first tick on a store: startup found the earliest due day among the
  watched cases (one query, once, not on a hot path) and starts from it; a store
  that lost its progress document looks back `LOOK_BACK_DAYS`;
- after a long stop: a tick reads at most `MAX_DAYS_PER_TICK` days, the next
  tick goes on from there.

Exactly once: the watch is cleared in the same write that appends the event, a
compare-and-set on status and watch, so several instances running the job (or
the job and a reopening) never report a case twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

import structlog

from indgang_contracts.envelope import Record
from indgang_contracts.events import CaseStatus, ReferralStatus
from indgang_routing.adapters.cases import OPEN
from indgang_routing.domain import timeline
from indgang_routing.domain.case import Case, Referral, first_contact_overdue, referral_overdue
from indgang_routing.domain.lifecycle import first_contact_late
from indgang_routing.domain.referrals import due_on
from indgang_routing.handlers.context import Context, event_id
from indgang_runtime.service import repeat

log = structlog.get_logger(__name__)
JOB = "first-contact-overdue"
FINISHED = "finished_through"
MAX_DAYS_PER_TICK = 31
LOOK_BACK_DAYS = 31
DAY = timedelta(days=1)


def overdue_report(ctx: Context, case: Case, now: datetime) -> tuple[Record, dict[str, Any]]:
    """The first-contact-overdue event of `case` and its timeline entry."""
    event = first_contact_overdue(case, ctx.team.team_lead_email, now)
    record = ctx.record(event)
    return record, timeline.overdue(event, event_id(record))


class OverdueFirstContacts:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def prepare(self) -> None:
        """Before the job's first round (in the background: on a store from before the
        job it reads every watched case), if the job has no progress yet: start from the
        earliest due day among the watched cases (yesterday if that is later)."""
        if await self.ctx.jobs.get(JOB, FINISHED) is not None:
            return
        first = self.ctx.local_day(self.ctx.now()) - DAY
        earliest = await self.ctx.cases.earliest_watched_due()
        if earliest is not None:
            first = min(first, date.fromisoformat(earliest))
        await self.ctx.jobs.start(JOB, FINISHED, (first - DAY).isoformat())

    async def report(self) -> int:
        """One tick: report the overdue cases of the days not yet finished; returns how
        many were reported now."""
        now = self.ctx.now()
        today = self.ctx.local_day(now)
        read = await self.ctx.jobs.get(JOB, FINISHED)
        finished = date.fromisoformat(read) if read else today - DAY * (LOOK_BACK_DAYS + 1)
        last = min(today - DAY, finished + DAY * MAX_DAYS_PER_TICK)
        reported = 0
        day = finished + DAY
        while day <= last:
            for case in await self.ctx.cases.awaiting_first_contact(day.isoformat()):
                reported += await self._report(case, now, today)
            day += DAY
        done = min(last, today - 2 * DAY)  # yesterday stays open
        if read is None or done > finished:
            await self.ctx.jobs.advance(JOB, FINISHED, read, done.isoformat())
        if reported:
            log.info("first_contact_overdue", cases=reported)
        return reported

    async def _report(self, case: Case, now: datetime, today: date) -> bool:
        due = date.fromisoformat(case["first_contact_due"])
        if not first_contact_late(CaseStatus(case["status"]), due, today):
            return False
        record, entry = overdue_report(self.ctx, case, now)
        # The watch is cleared in the same write that appends the event: exactly once,
        # also with several instances running this job.
        return await self.ctx.cases.change(
            case["_id"],
            expect={"status": CaseStatus.ASSIGNED.value, "overdue_watch": case["overdue_watch"]},
            now=now,
            set_={"overdue_reported_at": now, "overdue_watch": False},
            push={"timeline": entry},
            events=[record],
        )

    async def job(self) -> None:
        """Runs for the service's lifetime (Runtime.background)."""
        await repeat(
            self.report,
            self.ctx.settings.overdue_check_seconds,
            "overdue_check",
            prepare=self.prepare,
        )


REFERRAL_JOB = "referral-overdue"


class OverdueReferrals:
    """`referral-overdue`, once, for every referral still unanswered (`sent`) after its
    answer deadline, so its consultant is reminded; the case page and lists show it as
    "Forsinket svar" by the same rule (`domain.referrals.is_late`), reported or not.

    The same shape as the first-contact job, by the same hot-path rules: a case holds the
    deadlines of its referrals still unanswered in `referral_watch` (multikey, added in the
    write that makes the referral), a tick reads the cases of each day since the last
    finished one (`jobs` `referral-overdue`) by equality, and yesterday stays open. A
    report takes that day out of the case's watch in the same write that appends the events
    (one per referral of the case due that day), a compare-and-set on the watch and on each
    reported referral still being `sent`: several instances never report twice, and a
    referral answered meanwhile is not reported (the case is read again). A day whose
    referrals were all answered meanwhile is taken out without a report. Answering clears
    "Forsinket svar" (the referral is no longer `sent`). A deadline is today or later when a
    referral is made, so after any finished day.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def prepare(self) -> None:
        """Before the first round (in the background: it may read every case), without
        progress: from the earliest watched deadline (or yesterday)."""
        if await self.ctx.jobs.get(REFERRAL_JOB, FINISHED) is not None:
            return
        first = self.ctx.local_day(self.ctx.now()) - DAY
        earliest = await self.ctx.cases.earliest_referral_due()
        if earliest is not None:
            first = min(first, date.fromisoformat(earliest))
        await self.ctx.jobs.start(REFERRAL_JOB, FINISHED, (first - DAY).isoformat())

    async def report(self) -> int:
        """One tick; returns how many referrals were reported now."""
        now = self.ctx.now()
        today = self.ctx.local_day(now)
        read = await self.ctx.jobs.get(REFERRAL_JOB, FINISHED)
        finished = date.fromisoformat(read) if read else today - DAY * (LOOK_BACK_DAYS + 1)
        last = min(today - DAY, finished + DAY * MAX_DAYS_PER_TICK)
        reported = 0
        day = finished + DAY
        while day <= last:
            for case in await self.ctx.cases.with_referrals_due(day.isoformat()):
                reported += await self._report(case, day.isoformat(), now)
            day += DAY
        done = min(last, today - 2 * DAY)  # yesterday stays open
        if read is None or done > finished:
            await self.ctx.jobs.advance(REFERRAL_JOB, FINISHED, read, done.isoformat())
        if reported:
            log.info("referral_overdue", referrals=reported)
        return reported

    async def _report(self, case: Case, day: str, now: datetime) -> int:
        for _ in range(3):
            late = due_on(case, day)
            is_open = case["status"] in OPEN
            events: list[Record] = []
            entries: list[dict[str, Any]] = []
            expect: dict[str, Any] = {"referral_watch": day}
            fields: dict[str, Any] = {}
            for index, referral in late if is_open else []:
                event = referral_overdue(case, cast(Referral, referral), now)
                record = self.ctx.record(event)
                events.append(record)
                entries.append(timeline.referral_overdue(event, event_id(record)))
                expect[f"referrals.{index}.id"] = referral["id"]
                expect[f"referrals.{index}.status"] = ReferralStatus.SENT.value
                fields[f"referrals.{index}.overdue_reported_at"] = now
            if await self.ctx.cases.unwatch_referral_day(
                case["_id"], day, expect=expect, now=now, set_=fields, timeline=entries,
                events=events,
            ):  # fmt: skip
                return len(events)
            fresh = await self.ctx.cases.get(case["_id"])
            if fresh is None or day not in (fresh.get("referral_watch") or []):
                return 0  # another instance reported it
            case = fresh
        return 0

    async def job(self) -> None:
        """Runs for the service's lifetime (Runtime.background)."""
        await repeat(
            self.report,
            self.ctx.settings.overdue_check_seconds,
            "referral_overdue",
            prepare=self.prepare,
        )
