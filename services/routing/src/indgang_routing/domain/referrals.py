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
  it, one that does not exist).
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


def check_request(request: ReferralRequest, providers: Mapping[str, Provider]) -> Provider | None:
    """The request is complete; returns the outside provider it names, if any."""
    if not request.purpose.strip():
        raise InvalidInput("Skriv formålet med henvisningen.")
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
        }
    )


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
