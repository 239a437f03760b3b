"""Referrals: the consultant draws in a department or an outside provider and stays the owner.

Rules:
- a referral needs a purpose; an outside provider must be on the provider list,
  and only outside providers carry a provider id;
- contact details go with it only with the inquirer's consent; without consent
  the referral says so and carries none;
- the target answers: sent → accepted | declined (with a reason) | completed
  (with an outcome); accepted → declined | completed; declined and completed are
  final. Only the target may read and answer it: the department it was sent to, or,
  for an outside provider, that provider alone (another provider's referral is, to
  it, one that does not exist). The consultant may record an answer the target gave
  by phone or mail, on its behalf (same rules; the answer says who recorded it and
  when the target gave it: not in the future, not before the referral was made);
- a referral still `sent` after its answer deadline is late ("Forsinket svar");
  the deadline is today or later when the referral is made;
- the purpose is for the target alone; the enterprise is told a separate,
  plain-language line (`message_to_enterprise`), or a standard one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from indgang_contracts.events import Consultant as ConsultantRef
from indgang_contracts.events import (
    ContactPerson,
    Department,
    Need,
    ReferralMade,
    ReferralOutcome,
    ReferralStatus,
    ReferralTarget,
    ReferralUpdated,
)
from indgang_routing.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    ReferralNotFound,
)
from indgang_routing.domain.labels import DEPARTMENTS, REFERRAL_STATUSES
from indgang_routing.domain.providers import Provider

NO_CONSENT_NOTE = (
    "Henvenderen har ikke givet samtykke til, at kontaktoplysninger deles; "
    "kontakt sagens konsulent."
)

_NEXT: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.COMPLETED}
    ),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.DECLINED, ReferralStatus.COMPLETED}),
    ReferralStatus.DECLINED: frozenset(),
    ReferralStatus.COMPLETED: frozenset(),
}


@dataclass(frozen=True)
class ReferralRequest:
    target: ReferralTarget
    purpose: str
    needs: list[Need]
    response_due: date | None
    consent_to_share_contact: bool
    message_to_enterprise: str | None = None


MAX_MESSAGE_TO_ENTERPRISE = 1000


def check_request(request: ReferralRequest, providers: Mapping[str, Provider]) -> Provider | None:
    """The request is complete; returns the outside provider it names, if any."""
    if not request.purpose.strip():
        raise InvalidInput("Skriv formålet med henvisningen.")
    message = request.message_to_enterprise
    if message and len(message.strip()) > MAX_MESSAGE_TO_ENTERPRISE:
        raise InvalidInput(
            f"Det, virksomheden får at vide, må højst være {MAX_MESSAGE_TO_ENTERPRISE} tegn."
        )
    target = request.target
    if target.department is Department.OUTSIDE_PROVIDER:
        if not target.provider_id:
            raise InvalidInput("Vælg hvilken ekstern udbyder der henvises til.")
        provider = providers.get(target.provider_id)
        if provider is None:
            raise InvalidInput(f"Udbyderen {target.provider_id!r} er ikke på udbyderlisten.")
        return provider
    if target.provider_id:
        raise InvalidInput("Kun henvisninger til eksterne udbydere har en udbyder.")
    return None


def target_name(target: Mapping[str, Any], provider_name: str | None = None) -> str:
    department = Department(target["department"])
    if department is Department.OUTSIDE_PROVIDER and provider_name:
        return provider_name
    return DEPARTMENTS[department]


def referral_made(
    case: Mapping[str, Any],
    request: ReferralRequest,
    consultant: ConsultantRef,
    referral_id: str,
    now: datetime,
) -> ReferralMade:
    # Past the deletion deadline the case has no contact left to share (e-mail gone).
    held = case["contact"] if (case.get("contact") or {}).get("email") else None
    contact = (
        ContactPerson.model_validate(held) if request.consent_to_share_contact and held else None
    )
    purpose = request.purpose.strip()
    if not request.consent_to_share_contact:
        purpose = f"{purpose}\n\n{NO_CONSENT_NOTE}"[:2000]
    return ReferralMade.model_validate(
        {
            "municipality_code": case["municipality_code"],
            "referral_id": referral_id,
            "case_id": case["_id"],
            "reference": case["reference"],
            "target": request.target,
            "purpose": purpose,
            "needs": request.needs,
            "response_due": request.response_due,
            "organisation": case["organisation"],
            "consent_to_share_contact": request.consent_to_share_contact,
            "contact": contact,
            "consultant": consultant,
            "made_at": now,
            "message_to_enterprise": (request.message_to_enterprise or "").strip() or None,
        }
    )


def check_response_due(due: date | None, today: date) -> None:
    """An answer deadline is today or later (the overdue job has finished the days before)."""
    if due is not None and due < today:
        raise InvalidInput("Svarfristen kan ikke ligge i fortiden.")


def is_late(referral: Mapping[str, Any], today: date) -> bool:
    """No answer yet (still sent) and its answer deadline has passed: "Forsinket svar"."""
    due = referral.get("response_due")
    return (
        referral.get("status") == ReferralStatus.SENT.value
        and bool(due)
        and str(due) < today.isoformat()
    )


def late_referrals(case: Mapping[str, Any], today: date) -> list[Mapping[str, Any]]:
    """The case's referrals whose answer is late."""
    return [r for r in case.get("referrals") or [] if is_late(r, today)]


def watched_day(referral: Mapping[str, Any]) -> str | None:
    """The day the overdue-referral job must look at this referral (its answer deadline),
    while it waits for an answer; None when it is answered or has no deadline."""
    due = referral.get("response_due")
    return str(due) if due and referral.get("status") == ReferralStatus.SENT.value else None


def due_on(case: Mapping[str, Any], day: str) -> list[tuple[int, Mapping[str, Any]]]:
    """The referrals (with their index on the case) still unanswered whose deadline is `day`."""
    return [(i, r) for i, r in enumerate(case.get("referrals") or []) if watched_day(r) == day]


def check_answered_on(on: date, today: date, made_on: date) -> None:
    """The day a department gave the answer a consultant records on its behalf."""
    if on > today:
        raise InvalidInput("Datoen for svaret kan ikke ligge i fremtiden.")
    if on < made_on:
        raise InvalidInput("Datoen for svaret ligger før henvisningen blev sendt.")


def referral_updated(
    case: Mapping[str, Any],
    referral: Mapping[str, Any],
    *,
    status: ReferralStatus,
    reason: str | None,
    outcome: ReferralOutcome | None,
    answered_at: datetime,
    recorded_by: str | None = None,
) -> ReferralUpdated:
    """The target's answer to `referral`, as published: answered by the target (through the
    API, or recorded on its behalf by `recorded_by`), with the case's reference and
    consultant, who is told."""
    target = referral["target"]
    try:
        return ReferralUpdated(
            municipality_code=case["municipality_code"],
            referral_id=referral["id"],
            case_id=case["_id"],
            status=status,
            reason=(reason or "").strip() or None,
            outcome=outcome,
            answered_by=Department(target["department"]),
            answered_by_provider_id=target.get("provider_id"),
            answered_at=answered_at,
            reference=case["reference"],
            consultant=ConsultantRef.model_validate(case["consultant"]),
            recorded_by=recorded_by,
        )
    except ValueError as exc:  # pydantic: an incomplete answer
        if status is ReferralStatus.DECLINED:
            raise InvalidInput("Skriv begrundelsen for afvisningen.") from None
        if status is ReferralStatus.COMPLETED:
            raise InvalidInput("Skriv hvad der kom ud af henvisningen.") from None
        raise InvalidInput("Vælg svaret: accepteret, afvist eller afsluttet.") from exc


def unknown(referral_id: str) -> ReferralNotFound:
    """The answer to a referral id that does not exist, for whom it does not exist."""
    return ReferralNotFound(f"Henvisningen {referral_id} findes ikke.")


def check_sent_to(
    referral: Mapping[str, Any], department: Department, provider_id: str | None = None
) -> None:
    """The referral was sent to this department system, which may read and answer it.

    An outside provider's system (`provider_id` names it) sees only the referrals sent
    to that provider: any other referral — another provider's, a department's — does not
    exist for it (`ReferralNotFound`, the same answer as an unknown id), so it learns
    nothing of them. A provider's system that names no provider sees none. A department
    answering another department's referral is refused (`NotAllowed`).
    """
    target = referral["target"]
    if department is Department.OUTSIDE_PROVIDER:
        if (
            Department(target["department"]) is not Department.OUTSIDE_PROVIDER
            or provider_id is None
            or target.get("provider_id") != provider_id
        ):
            raise unknown(referral["id"])
        return
    if Department(target["department"]) is not department:
        raise NotAllowed(
            "Du svarer på en anden afdelings henvisning (answering someone else's referral)."
        )


def check_answer(current: ReferralStatus, answer: ReferralStatus) -> None:
    if answer in _NEXT[current]:
        return
    if not _NEXT[current]:
        raise InvalidTransition(
            f"Henvisningen er allerede {REFERRAL_STATUSES[current].lower()}; "
            "den kan ikke besvares igen."
        )
    raise InvalidTransition(
        f"En henvisning, der er {REFERRAL_STATUSES[current].lower()}, kan ikke blive "
        f"{REFERRAL_STATUSES[answer].lower()}."
    )


def same_answer(stored: Mapping[str, Any], update: ReferralUpdated) -> bool:
    """The stored answer is this update (a department that sent it again through the API,
    which makes a new event id)."""
    outcome = update.outcome.model_dump(mode="json") if update.outcome else None
    return (
        stored.get("status") == update.status.value
        and stored.get("reason") == update.reason
        and stored.get("outcome") == outcome
        and stored.get("answered_by") == update.answered_by.value
    )
