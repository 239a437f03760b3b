"""The deletion job: anonymise the personal data of cases past their deletion deadline
(slettefrist, `domain/retention.py`), as the privacy notice promises.

The store has no TTL index (FerretDB v1) and no range query on a hot path, so each
case's deadline is filed under the UTC day it falls on (`anonymise_on`, written with
every write that sets the deadline: a new case, closing, reopening, a new inquiry on
an anonymised open case). A tick asks for the cases filed under each day from the
first one not finished (`jobs` document `anonymise-cases`, `next_day`) up to today,
by equality, and keeps yesterday open so a deadline written just before midnight on
an instance whose clock is behind is still found. Of a day's cases:
- past the deadline, nothing waiting in its outbox: anonymised;
- not past it (filed early, or reopened since): moved to its deadline's day, when the
  day looked at is finished;
- an event still waiting for Kafka: looked at again today (its copy in the outbox
  goes with the rest, once published).

Idempotent and safe with several instances: the anonymising write is a
compare-and-set on the case as read (`updated_at`, the deadline, not yet
anonymised), so a reopening, a new note or another instance's job in between makes
it change nothing; the case is read again and decided again. Progress only moves
forward, from the value read.

At startup (`prepare`), when the job has no progress or the policy in the
settings changed, every case still holding personal data is filed again under
its deadline (the one read of every case, not on a hot path): a store from before
deadlines gets them this way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import structlog
from prometheus_client import Counter

from indgang_contracts.events import CaseStatus
from indgang_routing.domain.case import Case
from indgang_routing.domain.retention import anonymised_fields, is_anonymised
from indgang_routing.handlers.context import Context
from indgang_runtime.deadline_days import day_before, day_of, days_from, past, scheduled_day
from indgang_runtime.outbox import PENDING
from indgang_runtime.service import repeat

log = structlog.get_logger(__name__)
JOB = "anonymise-cases"
NEXT_DAY = "next_day"
POLICY = "policy"
ATTEMPTS = 3
ANONYMISED = Counter(
    "indgang_routing_cases_anonymised_total", "Cases anonymised by the deletion job"
)


def _pending(case: Case) -> int:
    return int(cast(Mapping[str, Any], case).get(PENDING) or 0)


class CaseRetention:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cases = ctx.cases

    async def prepare(self) -> None:
        """Startup: file every case under its deadline's day when the job has not run on
        this store or the policy changed since it filed them."""
        policy = self.ctx.retention
        if await self.ctx.jobs.get(JOB, POLICY) == policy.describe():
            return
        now = self.ctx.now()
        schedules: dict[str, dict[str, Any]] = {}
        for case in await self.cases.not_anonymised():
            since = case.get("personal_since") or min(
                (i["received_at"] for i in case.get("inquiries") or []), default=None
            )
            if since is None:
                continue
            closed = case["status"] == CaseStatus.CLOSED.value
            schedule = policy.schedule(since, case.get("closed_at") if closed else None, now)
            schedules[case["_id"]] = {"personal_since": since, **schedule.fields()}
        await self.cases.file_for_anonymisation(schedules)
        yesterday = day_before(day_of(now))
        await self.ctx.jobs.start(JOB, NEXT_DAY, yesterday)
        await self.ctx.jobs.set(JOB, POLICY, policy.describe())
        log.info("deletion_deadlines_filed", cases=len(schedules))

    async def anonymise_due(self, now: datetime | None = None) -> int:
        """One tick: anonymise what is past its deadline; returns how many cases."""
        now = now or self.ctx.now()
        today = day_of(now)
        read = await self.ctx.jobs.get(JOB, NEXT_DAY)
        first = read or day_before(today)
        done = 0
        for day in days_from(first, today):
            done += await self._day(day, today, now)
        yesterday = day_before(today)  # stays open
        if read is None or yesterday > read:
            await self.ctx.jobs.advance(JOB, NEXT_DAY, read, yesterday)
        ANONYMISED.inc(done)
        if done:
            log.info("cases_anonymised", cases=done)
        return done

    async def _day(self, day: str, today: str, now: datetime) -> int:
        moves: dict[str, tuple[str, str | None]] = {}
        done = 0
        for case in await self.cases.due_for_anonymisation(day):
            if is_anonymised(case):
                moves[case["_id"]] = (day, None)
                continue
            deadline = case.get("anonymise_at")
            if deadline is not None and not past(deadline, now):
                if day < today:
                    moves[case["_id"]] = (day, scheduled_day(deadline, now))
                continue
            if _pending(case) > 0:
                if day < today:
                    moves[case["_id"]] = (day, today)  # its event waits for Kafka
                continue
            done += await self._anonymise(case, now)
        if moves:
            await self.cases.refile(moves)
        return done

    async def _anonymise(self, case: Case, now: datetime) -> bool:
        """Compare-and-set on the case as read; read again and decide again when someone
        changed it meanwhile. A case left (still busy after `ATTEMPTS`) is filed today."""
        current: Case | None = case
        for _ in range(ATTEMPTS):
            if current is None or is_anonymised(current):
                return False
            deadline = current.get("anonymise_at")
            if deadline is None or not past(deadline, now) or _pending(current) > 0:
                return False  # reopened, or refiled: its new day will find it
            key = current["organisation_key"]
            if not key.startswith("cvr:"):
                # The organisation's pointer first (it is keyed by the contact's e-mail),
                # so none is left naming this case if the case write comes later.
                await self.ctx.organisations.forget(key, current["_id"])
            if await self.cases.anonymise(current, anonymised_fields(current), now):
                log.info("case_anonymised", case_id=current["_id"])
                return True
            current = await self.cases.get(case["_id"])
        if current is not None:
            await self.cases.refile({case["_id"]: (str(current.get("anonymise_on")), day_of(now))})
        return False

    async def job(self) -> None:
        """Runs for the service's lifetime (Runtime.background)."""
        await repeat(
            self.anonymise_due, self.ctx.settings.retention_interval_seconds, "deletion_deadlines"
        )
