"""What every routing use case needs: the stores, the outbox relay, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import Event
from indgang_routing.adapters.cases import CaseDoc, CaseRepository
from indgang_routing.adapters.team import ProviderStore, TeamStore
from indgang_routing.domain.errors import CaseNotFound
from indgang_routing.settings import RoutingSettings
from indgang_runtime.outbox import OutboxRelay

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    cases: CaseRepository
    team: TeamStore
    providers: ProviderStore
    relay: OutboxRelay
    settings: RoutingSettings
    clock: Callable[[], datetime] = field(default=utc_now)

    def now(self) -> datetime:
        return self.clock()

    @staticmethod
    def local_day(moment: datetime) -> date:
        """The date in Denmark (deadlines and absences are Danish dates)."""
        return moment.astimezone(COPENHAGEN).date()

    def record(self, event: Event) -> Record:
        return encode(event, source=self.settings.event_source)

    async def case(self, case_id: str) -> CaseDoc:
        case = await self.cases.get(case_id)
        if case is None:
            raise CaseNotFound(f"Sagen {case_id} findes ikke.")
        return case


def event_id(record: Record) -> str:
    return record.headers["ce_id"]
