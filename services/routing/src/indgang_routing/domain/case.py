"""Cases: one per inquiry for now, always with exactly one owning consultant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from indgang_contracts.events import (
    CaseRouted,
    ContactPerson,
    InquiryReceived,
    Need,
    ReferralMade,
    ReferralTarget,
)
from indgang_contracts.events import (
    Consultant as ConsultantRef,
)
from indgang_routing.domain.policy import Assignment

# Case ids derive from the inquiry id, so a redelivered inquiry maps onto the
# case it already opened instead of opening a second one.
_CASE_NAMESPACE = uuid.UUID("8f4f5d3e-6f0b-4c43-9a54-2f6c1d1a7e10")


def case_id_for(inquiry_id: str) -> str:
    return str(uuid.uuid5(_CASE_NAMESPACE, inquiry_id))


def case_routed(
    inquiry: InquiryReceived,
    case_id: str,
    assignment: Assignment,
    first_contact_due: date,
    now: datetime,
    previous_consultant_id: str | None = None,
) -> CaseRouted:
    return CaseRouted(
        municipality_code=inquiry.municipality_code,
        case_id=case_id,
        inquiry_id=inquiry.inquiry_id,
        reference=inquiry.reference,
        organisation_key=inquiry.organisation_key,
        organisation_name=inquiry.organisation.name,
        organisation_stage=inquiry.organisation.stage,
        needs=inquiry.needs,
        consultant=assignment.consultant.reference(),
        contact=inquiry.contact,
        previous_consultant_id=previous_consultant_id,
        reason=assignment.reason,
        explanation=assignment.explanation,
        first_contact_due=first_contact_due,
        routed_at=now,
    )


@dataclass(frozen=True)
class ReferralRequest:
    target: ReferralTarget
    purpose: str
    needs: list[Need]
    response_due: date | None
    consent_to_share_contact: bool


def referral_made(
    case: dict[str, object],
    request: ReferralRequest,
    consultant: ConsultantRef,
    referral_id: str,
    now: datetime,
) -> ReferralMade:
    contact = (
        ContactPerson.model_validate(case["contact"]) if request.consent_to_share_contact else None
    )
    return ReferralMade.model_validate(
        {
            "municipality_code": case["municipality_code"],
            "referral_id": referral_id,
            "case_id": case["_id"],
            "reference": case["reference"],
            "target": request.target,
            "purpose": request.purpose,
            "needs": request.needs,
            "response_due": request.response_due,
            "organisation": case["organisation"],
            "consent_to_share_contact": request.consent_to_share_contact,
            "contact": contact,
            "consultant": consultant,
            "made_at": now,
        }
    )
