"""Periods: the Danish calendar week or month an event belongs to, and a chosen span.

Every time is stored in UTC; which week or month it falls in is decided on the Danish
local date (Europe/Copenhagen), as a person in the municipality would count it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
Granularity = Literal["week", "month"]
# A report reads the facts of at most this many periods (the hot-path bound).
MAX_PERIODS = 60


def local_date(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(COPENHAGEN).date()


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def keys_of(moment: datetime) -> dict[str, str]:
    """The bucket fields of a fact anchored at `moment`: {"month": ..., "week": ...}."""
    day = local_date(moment)
    return {"month": month_key(day), "week": week_key(day)}


def day_keys(day: date) -> dict[str, str]:
    """The bucket fields of a fact that belongs to a (Danish) day."""
    return {"month": month_key(day), "week": week_key(day)}


def period_key(day: date, granularity: Granularity) -> str:
    return week_key(day) if granularity == "week" else month_key(day)


def _next_start(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday()) + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Span:
    """From one day to another (both included), counted in weeks or months."""

    start: date
    end: date
    granularity: Granularity = "month"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the end comes before the start")
        if len(self.keys()) > MAX_PERIODS:
            raise ValueError(f"at most {MAX_PERIODS} periods at a time")

    def keys(self) -> list[str]:
        """The periods the span touches, in order."""
        found: list[str] = []
        day = self.start
        while day <= self.end:
            found.append(period_key(day, self.granularity))
            day = _next_start(day, self.granularity)
            if len(found) > MAX_PERIODS:
                break
        return found

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= local_date(moment) <= self.end

    def key_of(self, moment: datetime) -> str:
        return period_key(local_date(moment), self.granularity)

    def holds_day(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def key_of_day(self, day: date) -> str:
        return period_key(day, self.granularity)

    @classmethod
    def default(cls, today: date, granularity: Granularity = "month") -> Span:
        """This month and the five before it (or the last twelve weeks)."""
        if granularity == "week":
            monday = today - timedelta(days=today.weekday())
            return cls(monday - timedelta(weeks=11), today, "week")
        month = today.month - 5
        year = today.year
        while month < 1:
            month += 12
            year -= 1
        return cls(date(year, month, 1), today, "month")
