"""When a closed case's contacts are deleted and its deliveries anonymised, found by day
instead of by a range. Pure.

A closed case's contacts get a deadline (`delete_after`: closure + retention)
and a deletion day (`delete_on`, the UTC date of the deadline). The purge job
visits each day from the first one it has not finished up to today and deletes
that day's contacts whose deadline has passed: an indexed equality on the day,
the deadline checked only among that day's few. Deliveries work the same way
(`anonymise_after`/`anonymise_on`), on the privacy notice's deadlines: 365 days
after the case closes, and at most three years after the inquiry was received.
A day is finished when it ended more than `MARGIN` ago, so a writer whose clock
is a little behind still writes into a day the job will visit again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from indgang_runtime.deadline_days import DEFAULT_DAYS_AFTER_CLOSE, DEFAULT_DAYS_MAX

# Longer than any clock difference between instances.
MARGIN = timedelta(hours=1)
# The privacy notice's deadlines for what was sent: after the case closed, and at most.
DELIVERY_RETENTION_DAYS = DEFAULT_DAYS_AFTER_CLOSE
DELIVERY_MAX_RETENTION_DAYS = DEFAULT_DAYS_MAX


def anonymise_after(
    created_at: datetime, closed_at: datetime | None, retention: timedelta, longest: timedelta
) -> datetime:
    """When a delivery's recipient, subject and body go: `retention` after its case
    closed, but never later than `longest` after it was made (an open case, or a
    delivery about no case)."""
    latest = created_at + longest
    return latest if closed_at is None else min(latest, closed_at + retention)


def days_to_visit(done_through: date | None, now: datetime) -> list[str]:
    """Days the purge visits: after the last finished one, up to today."""
    today = now.astimezone(UTC).date()
    day = done_through + timedelta(days=1) if done_through else today - timedelta(days=1)
    days = []
    while day <= today:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def finished_through(now: datetime) -> date:
    """The last day that ended more than `MARGIN` ago: nothing more is filed under it."""
    return (now - MARGIN).astimezone(UTC).date() - timedelta(days=1)
