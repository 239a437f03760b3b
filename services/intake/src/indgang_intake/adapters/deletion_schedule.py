"""The deletion schedule of inquiries: each inquiry's deadline filed under the UTC day
it falls on (`anonymise_on`), and the job that anonymises what is past its deadline by
asking for one day at a time, remembering in `job_state` the first day it has not
finished (no range query over the inquiries on a hot path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from indgang_intake.adapters.job_state import JobState
from indgang_intake.adapters.migrations import file_every_inquiry
from indgang_intake.adapters.organisations import Organisations
from indgang_intake.adapters.queries import DUE_ON, INQUIRY
from indgang_intake.domain.retention import RetentionPolicy, anonymised_fields
from indgang_runtime.deadline_days import day_before, day_of, days_from, past, scheduled_day
from indgang_runtime.outbox import OUTBOX, PENDING

# The deletion job's progress in `job_state`: the first day it has not finished.
ANONYMISATION_JOB = "anonymise-inquiries"

# What the job reads of an inquiry (never the outbox: it can be large).
_DUE = {
    "_id": 1,
    "organisation": 1,
    "organisation_key": 1,
    "anonymise_at": 1,
    "anonymised_at": 1,
    PENDING: 1,
}


class DeletionSchedule:
    def __init__(
        self,
        inquiries: AsyncCollection[dict[str, Any]],
        organisations: Organisations,
        jobs: JobState,
        policy: RetentionPolicy,
    ) -> None:
        self._inquiries = inquiries
        self._organisations = organisations
        self._jobs = jobs
        self._policy = policy

    async def anonymise_due(self, now: datetime) -> int:
        """Remove personal data from inquiries past their deadline; returns how many.

        Reads the inquiries filed under each day from where the job stopped up to
        today (by equality), and keeps yesterday open, so a deadline written just
        before midnight is still found. An inquiry whose event is still waiting in
        the outbox is left alone until it has been published (nothing is lost, not
        even to a deadline): it is filed under today and looked at again.
        """
        state = await self._jobs.get(ANONYMISATION_JOB)
        if state is None:  # the first run on a store nobody prepared
            state = await self.reschedule(now)
        today = day_of(now)
        done = 0
        for day in days_from(state["next_day"], today):
            done += await self._anonymise_day(day, today, now)
        await self._jobs.advance(ANONYMISATION_JOB, "next_day", day_before(today))
        return done

    async def _anonymise_day(self, day: str, today: str, now: datetime) -> int:
        filed = await self._inquiries.find(DUE_ON.filter(anonymise_on=day), _DUE).to_list(None)
        ready: list[dict[str, Any]] = []
        moves: list[UpdateOne] = []
        for doc in filed:
            refile: str | None
            if doc.get("anonymised_at") is not None:
                refile = None  # already done: take it off the schedule
            elif not past(doc["anonymise_at"], now):
                if day >= today:
                    continue  # due later today
                refile = scheduled_day(doc["anonymise_at"], now)
            elif doc.get(PENDING, 0) > 0:
                if day >= today:
                    continue
                refile = today  # its event waits for Kafka: look again today
            else:
                ready.append(doc)
                continue
            moves.append(
                UpdateOne(
                    {**INQUIRY.filter(_id=doc["_id"]), "anonymise_on": day},
                    {"$set": {"anonymise_on": refile}},
                )
            )
        if moves:
            await self._inquiries.bulk_write(moves, ordered=False)
        if not ready:
            return 0
        # First the organisation's pointer, so a crash in between never leaves one
        # naming an anonymised inquiry (the day is simply done again).
        await self._organisations.forget(
            (doc["organisation_key"], doc["_id"]) for doc in ready if doc.get("organisation_key")
        )
        result = await self._inquiries.bulk_write(
            [
                UpdateOne(
                    {**INQUIRY.filter(_id=doc["_id"]), "anonymised_at": None, PENDING: 0},
                    {
                        "$set": {
                            **anonymised_fields(
                                bool((doc.get("organisation") or {}).get("cvr")),
                                doc.get("organisation_key"),
                            ),
                            # The published event's copy holds the contact too; with
                            # nothing pending the relay no longer needs it.
                            OUTBOX: [],
                            "anonymised_at": now,
                            "updated_at": now,
                            "anonymise_on": None,
                        }
                    },
                )
                for doc in ready
            ],
            ordered=False,
        )
        return result.modified_count

    async def reschedule(self, now: datetime) -> dict[str, Any]:
        """Start-up: file every inquiry still on record under its deadline's day, when
        the schedule is missing (a store from before it) or the policy changed.

        Reads every inquiry not yet anonymised, which only a start-up may do, and
        writes only those whose deadline moved. On a store without a schedule it
        also notes each organisation's latest inquiry. Returns the job's state.
        """
        state = await self._jobs.get(ANONYMISATION_JOB)
        policy = self._policy.describe()
        if state is not None and state.get("policy") == policy:
            return state
        await file_every_inquiry(
            self._inquiries,
            self._organisations,
            self._policy,
            now,
            note_organisations=state is None,
        )
        state = await self._jobs.begin(
            ANONYMISATION_JOB, {"next_day": day_before(day_of(now)), "policy": policy}
        )
        await self._jobs.set(ANONYMISATION_JOB, {"policy": policy})
        return {**state, "policy": policy}
