"""Use case: delete or anonymise what has passed its deletion deadline (slettefrist).

The store has no TTL indexes (FerretDB v1), so a periodic job does it, asking
the store by equality for what falls due on each day (inquiries) or was made
in each hour (idempotency records) since its last round. The deadlines are the
inquiry repository's policy, the one the privacy notice states. The clock is an
argument of `run_once`, so tests can move time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.retention import RetentionPolicy
from indgang_runtime.service import repeat

log = structlog.get_logger(__name__)

ANONYMISED = Counter(
    "indgang_intake_inquiries_anonymised_total", "Inquiries anonymised by the retention job"
)
PURGED = Counter("indgang_intake_idempotency_records_deleted_total", "Idempotency records deleted")


@dataclass(frozen=True)
class RetentionRun:
    anonymised: int
    idempotency_deleted: int


class RetentionJob:
    def __init__(
        self,
        inquiries: InquiryRepository,
        idempotency: IdempotencyStore,
        *,
        interval_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._inquiries = inquiries
        self._idempotency = idempotency
        self._policy: RetentionPolicy = inquiries.policy
        self._interval = interval_seconds
        self._clock = clock

    async def run_once(self, now: datetime | None = None) -> RetentionRun:
        now = now or self._clock()
        anonymised = await self._inquiries.schedule.anonymise_due(now)
        deleted = await self._idempotency.purge_before(self._policy.idempotency_before(now))
        ANONYMISED.inc(anonymised)
        PURGED.inc(deleted)
        if anonymised or deleted:
            log.info("retention_applied", anonymised=anonymised, idempotency_deleted=deleted)
        return RetentionRun(anonymised, deleted)

    async def prepare(self) -> None:
        """The first round's one-time work: file every inquiry under its deadline when
        the schedule is missing or the policy changed (it reads every inquiry, so it
        runs in the background, not among the start-up hooks; intake serves meanwhile)."""
        await self._inquiries.schedule.reschedule(self._inquiries.clock())

    async def run(self) -> None:
        """Forever: apply the deadlines now and then every `interval_seconds`."""
        await repeat(self.run_once, self._interval, "retention", prepare=self.prepare)
