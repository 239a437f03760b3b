"""What every routing use case needs: the stores, the clock, and the bookkeeping that
follows a case write."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import Event
from indgang_routing.adapters.cases import CaseRepository
from indgang_routing.adapters.jobs import JobState
from indgang_routing.adapters.organisations import OrganisationStore, Owner
from indgang_routing.adapters.team import ProviderStore, TeamStore
from indgang_routing.domain import calendar
from indgang_routing.domain.calendar import COPENHAGEN
from indgang_routing.domain.case import Case
from indgang_routing.domain.errors import CaseNotFound
from indgang_routing.domain.retention import RetentionPolicy
from indgang_routing.settings import RoutingSettings

__all__ = ["COPENHAGEN", "Bookkeeping", "Context", "event_id"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Bookkeeping:
    """What follows from case writes outside the case documents: each consultant's
    number of open cases (their load) and each organisation's latest consultant.

    Collected while cases are written, applied afterwards with bulk writes
    (`Context.settle`): one `$inc` per consultant with the net change, one
    "latest = X" per organisation. Only the writer of a case change records its load
    change (a counter is not idempotent); the organisation's document is idempotent
    and may be recorded again (`owner_again`) after a redelivery.
    """

    loads: Counter[str] = field(default_factory=Counter)
    owners: dict[str, Owner] = field(default_factory=dict)

    def opened(self, case_id: str, organisation_key: str, consultant_id: str) -> None:
        """This write opened (or reopened) a case with this consultant."""
        self.loads[consultant_id] += 1
        self.owner_again(case_id, organisation_key, consultant_id)

    def owner_again(self, case_id: str, organisation_key: str, consultant_id: str) -> None:
        """An open case has this consultant (its load was counted by whoever wrote it)."""
        self.owners[organisation_key] = Owner(consultant_id, case_id)

    def moved(self, case_id: str, organisation_key: str, from_id: str, to_id: str) -> None:
        self.loads[from_id] -= 1
        self.opened(case_id, organisation_key, to_id)

    def closed(self, consultant_id: str) -> None:
        self.loads[consultant_id] -= 1

    def load_changes(self) -> dict[str, int]:
        return {consultant_id: n for consultant_id, n in self.loads.items() if n}

    def __bool__(self) -> bool:
        return bool(self.load_changes() or self.owners)


@dataclass
class Context:
    cases: CaseRepository
    team: TeamStore
    providers: ProviderStore
    organisations: OrganisationStore
    jobs: JobState
    settings: RoutingSettings
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()

    @property
    def retention(self) -> RetentionPolicy:
        """The deletion deadlines the privacy notice promises (settings)."""
        return RetentionPolicy.of(
            days_after_close=self.settings.retention_days_after_close,
            days_max=self.settings.retention_days_max,
        )

    @staticmethod
    def local_day(moment: datetime) -> date:
        """The date in Denmark (deadlines and absences are Danish dates)."""
        return calendar.local_day(moment)

    def record(self, event: Event) -> Record:
        return encode(event, source=self.settings.event_source)

    async def case(self, case_id: str) -> Case:
        case = await self.cases.get(case_id)
        if case is None:
            raise CaseNotFound(f"Sagen {case_id} findes ikke.")
        return case

    async def settle(self, books: Bookkeeping) -> None:
        """Apply what the case writes imply (after them: the case is the truth); the two
        collections at once (one wait for the store)."""
        writes = []
        if changes := books.load_changes():
            writes.append(self.team.change_loads(changes))
        if books.owners:
            writes.append(self.organisations.record(books.owners, self.now()))
        await asyncio.gather(*writes)


def event_id(record: Record) -> str:
    return record.headers["ce_id"]
