"""Deletion deadlines (slettefrister) of a case's personal data. Pure: the clock is an argument.

The privacy notice promises: the contact person's data and the free texts go
`after_close` (365 days) after the case is closed, and at the latest `maximum`
(three years) after the inquiry was received, even if the case is still open.
A case counts from `personal_since`, the receipt of the earliest inquiry whose
personal data it still holds. Reopening a case before its deadline cancels the
after-close deadline (only the maximum is left until it is closed again).

Anonymised (`anonymised_fields`): the contact (name, e-mail, phone) on the case
and on each inquiry, the inquiries' descriptions, the closing outcome, notes,
timeline texts, referral purposes and what the enterprise was told of them, the
free text of their answers (reason, outcome summary), the notes on the RSV checklist,
the outbox's copies of
published events, and, without a CVR number, the organisation's name and its key
(the key is the contact's e-mail).
Kept for statistics: ids, references, status, dates, consultant, needs,
channel, the organisation's CVR, name (with CVR) and stage, referral targets,
statuses and their counts of people hired, the social value recorded and the RSV
checklist's statuses.

The store cannot find "every case past its deadline" cheaply (no range query on
a hot path), so a deadline is also filed under the UTC day it falls on
(`anonymise_on`), and the job asks for one day at a time by equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from indgang_runtime.deadline_days import (
    DEFAULT_DAYS_AFTER_CLOSE,
    DEFAULT_DAYS_MAX,
    scheduled_day,
)

ANONYMISED = "[anonymiseret]"


@dataclass(frozen=True)
class Schedule:
    """When a case's personal data must go, and the day the job looks for it."""

    deadline: datetime
    day: str

    def fields(self) -> dict[str, Any]:
        """The case's schedule fields, as stored."""
        return {"anonymise_at": self.deadline, "anonymise_on": self.day}


@dataclass(frozen=True)
class RetentionPolicy:
    after_close: timedelta
    maximum: timedelta

    @classmethod
    def of(
        cls, *, days_after_close: int = DEFAULT_DAYS_AFTER_CLOSE, days_max: int = DEFAULT_DAYS_MAX
    ) -> RetentionPolicy:
        return cls(timedelta(days=days_after_close), timedelta(days=days_max))

    def deadline(self, personal_since: datetime, closed_at: datetime | None) -> datetime:
        """`after_close` after closing, and at the latest `maximum` after receipt."""
        latest = personal_since + self.maximum
        return latest if closed_at is None else min(latest, closed_at + self.after_close)

    def schedule(
        self, personal_since: datetime, closed_at: datetime | None, now: datetime
    ) -> Schedule:
        deadline = self.deadline(personal_since, closed_at)
        return Schedule(deadline, scheduled_day(deadline, now))

    def describe(self) -> str:
        """The policy as stored with the job, to notice when the settings change."""
        return f"{int(self.after_close.total_seconds())}/{int(self.maximum.total_seconds())}"


def is_anonymised(case: Mapping[str, Any]) -> bool:
    return case.get("anonymised_at") is not None


def anonymised_key(case_id: str) -> str:
    """The organisation key of an anonymised case without CVR (unique, names nobody)."""
    return f"anonymised:{case_id}"


def _contact(contact: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**(contact or {}), "name": ANONYMISED, "email": None, "phone": None}


def _text(value: str | None) -> str | None:
    return None if value is None else ANONYMISED


def _answer(answer: Mapping[str, Any]) -> dict[str, Any]:
    outcome = answer.get("outcome")
    return {
        **answer,
        "reason": _text(answer.get("reason")),
        "outcome": None if outcome is None else {**outcome, "summary": ANONYMISED},
    }


def anonymised_fields(case: Mapping[str, Any]) -> dict[str, Any]:
    """The `$set` that removes the personal data from a case as read (the job writes it
    only if the case is unchanged since)."""
    fields: dict[str, Any] = {
        "contact": _contact(case.get("contact")),
        "description": ANONYMISED,
        "inquiries": [
            {**i, "description": ANONYMISED, "contact": _contact(i.get("contact"))}
            for i in case.get("inquiries") or []
        ],
        "outcome": _text(case.get("outcome")),
        "notes": [{**n, "text": ANONYMISED} for n in case.get("notes") or []],
        "timeline": [{**e, "text": ANONYMISED} for e in case.get("timeline") or []],
        "referrals": [
            {
                **r,
                "purpose": ANONYMISED,
                "message_to_enterprise": _text(r.get("message_to_enterprise")),
                "answers": [_answer(a) for a in r.get("answers") or []],
            }
            for r in case.get("referrals") or []
        ],
    }
    rsv = case.get("rsv")
    if rsv:  # the consultant's notes on the RSV checklist are free text
        notes = rsv.get("notes") or {}
        fields["rsv"] = {**rsv, "notes": {k: ANONYMISED if v else "" for k, v in notes.items()}}
    organisation = case.get("organisation") or {}
    if not organisation.get("cvr"):
        # Without a CVR number the name may name a person (a sole trader, an idea) and
        # the key is the contact's e-mail (`email:…`).
        fields["organisation"] = {**organisation, "name": ANONYMISED}
    key = str(case.get("organisation_key") or "")
    if not key.startswith("cvr:"):
        fields["organisation_key"] = anonymised_key(str(case["_id"]))
        if case.get("open_slot") == key:  # still open: its slot is the key
            fields["open_slot"] = anonymised_key(str(case["_id"]))
    return fields
