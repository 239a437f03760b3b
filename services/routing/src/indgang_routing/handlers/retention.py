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

The job's first round on a store (`prepare`, in the background: it reads every
case, minutes at 100,000, and routing serves meanwhile), when the job has no
progress or the policy in the settings changed, files every case still holding
personal data again under its deadline (the one read of every case, not on a hot
path): a store from before deadlines gets them this way, and a changed policy
applies to every case. Until it is done, nothing is anonymised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

import structlog
from prometheus_client import Counter

from indgang_contracts.events import CaseStatus
from indgang_routing.domain.case import Case
from indgang_routing.domain.errors import Conflict
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
# Cases the first round decides and writes at a time: a write that misses (the case
# changed meanwhile) reads only these again.
FILING_BATCH = 20
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
        """The job's first round on a store (in the background; routing serves
        meanwhile): when the job has not run on this store or the policy changed since
        it filed them, file every case still holding personal data under its deadline's
        day, then record the policy. Until then no case is anonymised.

        A case already filed as the policy files it is not written: a restart half-way
        (or a second instance) rewrites only what is left. Each write is a
        compare-and-set on the case as read (`updated_at`), so a case changed meanwhile
        is read again and decided again (closing or reopening it filed it already)."""
        policy = self.ctx.retention
        if await self.ctx.jobs.get(JOB, POLICY) == policy.describe():
            return
        now = self.ctx.now()
        everything = await self.cases.not_anonymised()
        filed = 0
        for start in range(0, len(everything), FILING_BATCH):
            filed += await self._file(everything[start : start + FILING_BATCH], now)
        yesterday = day_before(day_of(now))
        await self.ctx.jobs.start(JOB, NEXT_DAY, yesterday)
        await self.ctx.jobs.set(JOB, POLICY, policy.describe())
        log.info("deletion_deadlines_filed", cases=len(everything), written=filed)

    def _filing(self, case: Case, now: datetime) -> dict[str, Any] | None:
        """The schedule fields `case` should have under the policy; None when it has
        them (or holds no inquiry to count from)."""
        since = case.get("personal_since") or min(
            (i["received_at"] for i in case.get("inquiries") or []), default=None
        )
        if since is None:
            return None
        closed = case["status"] == CaseStatus.CLOSED.value
        schedule = self.ctx.retention.schedule(
            since, case.get("closed_at") if closed else None, now
        )
        fields = {"personal_since": since, **schedule.fields()}
        stored = cast(Mapping[str, Any], case)
        return None if all(stored.get(k) == v for k, v in fields.items()) else fields

    async def _file(self, cases: list[Case], now: datetime) -> int:
        """Write the schedules of these cases that differ; returns how many were written."""
        written = 0
        for _ in range(ATTEMPTS):
            changes = {
                c["_id"]: (c.get("updated_at"), fields)
                for c in cases
                if not is_anonymised(c) and (fields := self._filing(c, now)) is not None
            }
            if not changes:
                return written
            applied = await self.cases.file_for_anonymisation(changes)
            written += applied
            if applied == len(changes):
                return written
            # Changed since they were read (a note, a closure): read them again.
            fresh = await asyncio.gather(*(self.cases.get(case_id) for case_id in changes))
            cases = [c for c in fresh if c is not None]
        raise Conflict("cases kept changing while they were filed under their deadlines")

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
            self.anonymise_due,
            self.ctx.settings.retention_interval_seconds,
            "deletion_deadlines",
            prepare=self.prepare,
        )
