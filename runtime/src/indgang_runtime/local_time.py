"""Times shown to people are Danish local time (issue 13, point 11).

Stored and logged as UTC; on a staff page or a log shown to a person, Europe/Copenhagen,
so "10:02" means what the reader's clock said, summer or winter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def danish_time(moment: datetime, *, seconds: bool = False, day: bool = True) -> str:
    """'02.12.2026 kl. 10.02' (Danish local time; a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(COPENHAGEN)
    clock = local.strftime("%H.%M.%S" if seconds else "%H.%M")
    return f"{local:%d.%m.%Y} kl. {clock}" if day else f"kl. {clock}"


def danish_today(now: datetime | None = None) -> date:
    """The municipality's date (now, or at `now`): from 23:00 UTC (22:00 in summer) a
    server's `date.today()` on UTC is still yesterday in Denmark."""
    moment = now or datetime.now(UTC)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(COPENHAGEN).date()
