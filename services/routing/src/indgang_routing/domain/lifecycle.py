"""The case lifecycle as pure rules: which action moves a case from which status to which.

    new → assigned → in_progress → waiting ⇄ in_progress → closed → (reopened) …

`new` is transient: routing creates and assigns a case in one atomic write, so a
stored case starts as `assigned` (its case-routed event marks new → assigned).
First contact (channel and date) moves an assigned case to `in_progress`; a
case can wait (for the enterprise or a department) and resume; any open case
can be closed with an outcome; a closed case can be reopened, back to
`in_progress` if first contact was made before, else to `assigned`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from indgang_contracts.events import CaseStatus
from indgang_routing.domain.errors import InvalidInput, InvalidTransition

OPEN_STATUSES: frozenset[CaseStatus] = frozenset(
    {CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.WAITING}
)


class CaseAction(StrEnum):
    LOG_FIRST_CONTACT = "log_first_contact"
    WAIT = "wait"
    RESUME = "resume"
    CLOSE = "close"
    REOPEN = "reopen"


def is_open(status: CaseStatus) -> bool:
    return status in OPEN_STATUSES


def next_status(
    status: CaseStatus, action: CaseAction, *, first_contact_logged: bool
) -> CaseStatus:
    """The status after `action`, or `InvalidTransition` saying why not."""
    if action is CaseAction.REOPEN:
        if status is not CaseStatus.CLOSED:
            raise InvalidTransition("Sagen er ikke lukket, så den kan ikke genåbnes.")
        return CaseStatus.IN_PROGRESS if first_contact_logged else CaseStatus.ASSIGNED
    if status is CaseStatus.CLOSED:
        if action is CaseAction.CLOSE:
            raise InvalidTransition("Sagen er allerede lukket.")
        raise InvalidTransition("Sagen er lukket. Genåbn den først.")
    if status is CaseStatus.NEW:
        raise InvalidTransition("Sagen har endnu ingen konsulent.")
    if action is CaseAction.CLOSE:
        return CaseStatus.CLOSED
    if action is CaseAction.LOG_FIRST_CONTACT:
        if status is not CaseStatus.ASSIGNED or first_contact_logged:
            raise InvalidTransition("Første kontakt er allerede registreret.")
        return CaseStatus.IN_PROGRESS
    if action is CaseAction.WAIT:
        if status is CaseStatus.WAITING:
            raise InvalidTransition("Sagen afventer allerede.")
        if status is CaseStatus.ASSIGNED:
            raise InvalidTransition(
                "Registrér første kontakt, før sagen kan sættes til at afvente."
            )
        return CaseStatus.WAITING
    # RESUME
    if status is not CaseStatus.WAITING:
        raise InvalidTransition("Sagen afventer ikke, så den kan ikke genoptages.")
    return CaseStatus.IN_PROGRESS


def first_contact_late(status: CaseStatus, first_contact_due: date, today: date) -> bool:
    """First contact not made and its date passed (the overdue reminder's rule)."""
    return status is CaseStatus.ASSIGNED and first_contact_due < today


def overdue_watch(
    status: CaseStatus, overdue_reported: bool, first_contact_due: str
) -> str | Literal[False]:
    """When the overdue-first-contact job must look at a case: on its due day
    ("2026-11-30") while it awaits first contact and was not reported yet; never
    (False) otherwise. Stored on the case (`overdue_watch`) in every write that changes
    any of these, so the job finds one day's cases by equality on one field."""
    watched = status is CaseStatus.ASSIGNED and not overdue_reported
    return first_contact_due if watched else False


def require_outcome(outcome: str | None) -> str:
    """A case is closed with an outcome in words."""
    text = (outcome or "").strip()
    if not text:
        raise InvalidInput("Skriv sagens udfald, når du lukker den.")
    if len(text) > 2000:
        raise InvalidInput("Udfaldet må højst være 2000 tegn.")
    return text
