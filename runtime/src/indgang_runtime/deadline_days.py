"""Deletion deadlines filed by day, shared by every service that keeps them. Pure.

The store cannot find "everything past its deadline" cheaply (no range query on
a hot path), so each deadline is also filed under the UTC day it falls on and a
periodic job asks for one day at a time by equality. The privacy notice's
figures (365 days after closing, at most three years after receipt) are the
defaults every service's settings start from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DEFAULT_DAYS_AFTER_CLOSE = 365
DEFAULT_DAYS_MAX = 3 * 365


def past(deadline: datetime, now: datetime) -> bool:
    """Whether the deadline has passed: the data is kept up to and including it."""
    return deadline < now


def day_of(moment: datetime) -> str:
    """The UTC day a moment falls on, as `YYYY-MM-DD`."""
    return moment.astimezone(UTC).date().isoformat()


def scheduled_day(deadline: datetime, now: datetime) -> str:
    """The day under which a deadline is filed when it is written at `now`.

    Never a day before today: the job finishes days behind it, so a deadline
    that has already passed (a very late event, a shortened policy) is filed
    under today and still found.
    """
    return max(day_of(deadline), day_of(now))


def days_from(first: str, last: str) -> list[str]:
    """Every day from `first` to `last`, both included (none if `first` is later)."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
