"""Deletion deadlines (slettefrister) for intake's data. Pure: the clock is an argument.

- Contact person (name, e-mail, phone), the free-text description, an
  organisation key made from an e-mail, an organisation name without CVR and
  the outbox copy of the event: anonymised `after_close` after the inquiry's
  case was closed, and at the latest `maximum` after receipt.
- Organisation with CVR (name, CVR, stage), needs, door and dates: kept without
  personal data, for statistics.
- Idempotency records (a retried request's first answer): deleted
  `idempotency` after they were made.
- Rate-limit counters (client IP): in memory for the window only, never stored.
- Honeypot submissions: never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetentionPolicy:
    after_close: timedelta
    maximum: timedelta
    idempotency: timedelta

    @classmethod
    def of(cls, *, days_after_close: int, days_max: int, idempotency_hours: int) -> RetentionPolicy:
        return cls(
            after_close=timedelta(days=days_after_close),
            maximum=timedelta(days=days_max),
            idempotency=timedelta(hours=idempotency_hours),
        )

    def closed_before(self, now: datetime) -> datetime:
        """Inquiries whose case closed before this moment are anonymised."""
        return now - self.after_close

    def received_before(self, now: datetime) -> datetime:
        """Inquiries received before this moment are anonymised, closed or not."""
        return now - self.maximum

    def idempotency_before(self, now: datetime) -> datetime:
        """Idempotency records made before this moment are deleted."""
        return now - self.idempotency


ANONYMISED = "[anonymiseret]"


def anonymised_fields(
    organisation_has_cvr: bool, organisation_key: str | None
) -> dict[str, object]:
    """The `$set` that removes personal data from a stored inquiry.

    Without a CVR number the organisation's name may name a person (an idea,
    a sole trader) and its key is the contact's e-mail, so both go too.
    """
    fields: dict[str, object] = {
        "contact.name": ANONYMISED,
        "contact.email": None,
        "contact.phone": None,
        "description": ANONYMISED,
        "outbox": [],
    }
    if not organisation_has_cvr:
        fields["organisation.name"] = ANONYMISED
    if organisation_key is not None and not organisation_key.startswith("cvr:"):
        fields["organisation_key"] = None
    return fields
