"""Deletion deadlines (slettefrister) for intake's data. Pure: the clock is an argument.

- Contact person (name, e-mail, phone), the free-text description, an
  organisation key made from an e-mail, an organisation name without CVR and
  the outbox copy of the event: anonymised `after_close` after the inquiry's
  case was closed, and at the latest `maximum` after receipt.
- The organisation's pointer to its latest inquiry (for repeat contact):
  deleted together with that inquiry's personal data.
- Organisation with CVR (name, CVR, stage), needs, door and dates: kept without
  personal data, for statistics.
- Idempotency records (a retried request's first answer): deleted
  `idempotency` after they were made.
- Rate-limit counters (client IP): in memory for the window only, never stored.
- Honeypot submissions: never stored.

The store cannot find "everything past its deadline" cheaply (no range queries
on the hot path), so each deadline is also filed under the day it falls on
(`day_of`) and idempotency records under the hour they were made (`hour_of`);
the job asks for one day or hour at a time by equality.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from indgang_runtime.deadline_days import (
    DEFAULT_DAYS_AFTER_CLOSE,
    DEFAULT_DAYS_MAX,
    scheduled_day,
)

DEFAULT_IDEMPOTENCY_HOURS = 24

_HOUR_FORMAT = "%Y-%m-%dT%H"


@dataclass(frozen=True)
class Schedule:
    """When an inquiry's personal data must go, and the day the job looks for it."""

    deadline: datetime
    day: str


@dataclass(frozen=True)
class RetentionPolicy:
    after_close: timedelta
    maximum: timedelta
    idempotency: timedelta

    @classmethod
    def of(
        cls,
        *,
        days_after_close: int = DEFAULT_DAYS_AFTER_CLOSE,
        days_max: int = DEFAULT_DAYS_MAX,
        idempotency_hours: int = DEFAULT_IDEMPOTENCY_HOURS,
    ) -> RetentionPolicy:
        return cls(
            after_close=timedelta(days=days_after_close),
            maximum=timedelta(days=days_max),
            idempotency=timedelta(hours=idempotency_hours),
        )

    def deadline(self, received_at: datetime, case_closed_at: datetime | None) -> datetime:
        """When an inquiry's personal data must go: `after_close` after its case closed,
        and at the latest `maximum` after receipt, closed or not."""
        latest = received_at + self.maximum
        if case_closed_at is None:
            return latest
        return min(latest, case_closed_at + self.after_close)

    def schedule(
        self, received_at: datetime, case_closed_at: datetime | None, now: datetime
    ) -> Schedule:
        """The inquiry's deadline and the day it is filed under, written at `now`."""
        deadline = self.deadline(received_at, case_closed_at)
        return Schedule(deadline, scheduled_day(deadline, now))

    def idempotency_before(self, now: datetime) -> datetime:
        """Idempotency records made before this moment are deleted."""
        return now - self.idempotency

    def describe(self) -> dict[str, int]:
        """The policy as stored beside the schedule, to notice when the settings change."""
        return {
            "after_close_seconds": int(self.after_close.total_seconds()),
            "maximum_seconds": int(self.maximum.total_seconds()),
        }


def hour_of(moment: datetime) -> str:
    """The UTC hour a moment falls in, as `YYYY-MM-DDTHH`."""
    return moment.astimezone(UTC).strftime(_HOUR_FORMAT)


def hours_from(first: str, last: str) -> list[str]:
    """Every hour from `first` to `last`, both included (none if `first` is later)."""
    start = datetime.strptime(first, _HOUR_FORMAT)
    end = datetime.strptime(last, _HOUR_FORMAT)
    count = int((end - start).total_seconds() // 3600) + 1
    return [(start + timedelta(hours=n)).strftime(_HOUR_FORMAT) for n in range(max(count, 0))]


ANONYMISED = "[anonymiseret]"


def anonymised_fields(
    organisation_has_cvr: bool, organisation_key: str | None
) -> dict[str, object]:
    """The `$set` that removes personal data from a stored inquiry's own fields
    (the store adapter also empties the outbox copy of its published event).

    Without a CVR number the organisation's name may name a person (an idea,
    a sole trader) and its key is the contact's e-mail, so both go too.
    """
    fields: dict[str, object] = {
        "contact.name": ANONYMISED,
        "contact.email": None,
        "contact.phone": None,
        "description": ANONYMISED,
    }
    if not organisation_has_cvr:
        fields["organisation.name"] = ANONYMISED
    if organisation_key is not None and not organisation_key.startswith("cvr:"):
        fields["organisation_key"] = None
    return fields
