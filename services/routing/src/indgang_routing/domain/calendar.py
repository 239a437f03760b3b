"""Working days in Denmark: weekends and Danish public holidays don't count."""

from __future__ import annotations

from datetime import date, timedelta

import holidays


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`."""
    danish = holidays.country_holidays("DK", years=range(start.year, start.year + 2))
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in danish:
            remaining -= 1
    return current
