"""Working days in Denmark: weekends and Danish public holidays don't count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_day(moment: datetime) -> date:
    """The date in Denmark (deadlines, absences and months are Danish dates)."""
    return moment.astimezone(COPENHAGEN).date()


@lru_cache(maxsize=8)
def _danish_holidays(year: int) -> frozenset[date]:
    """That year's and the next one's public holidays. Cached: building the calendar
    took ~1.9 ms, paid for every new case."""
    return frozenset(holidays.country_holidays("DK", years=(year, year + 1)))


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`."""
    danish = _danish_holidays(start.year)
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in danish:
            remaining -= 1
    return current


def month_of(day: date) -> str:
    """The month a day falls in, as stored on closed cases ("2026-11")."""
    return f"{day.year:04d}-{day.month:02d}"


def this_and_last_month(today: date) -> tuple[str, str]:
    """The months whose closed cases count as recently closed."""
    last = today.replace(day=1) - timedelta(days=1)
    return month_of(today), month_of(last)
