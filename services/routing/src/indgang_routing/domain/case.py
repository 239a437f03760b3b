"""Cases: exactly one owning consultant at every moment, one open case per organisation.

The events a case publishes are built here from the stored case (a plain
document: `_id`, `municipality_code`, `reference`, `organisation_key`,
`organisation`, `contact`, `needs`, `consultant`, `status`, `first_contact_due`,
...), so every state change and the event that tells the world about it come
from the same values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from indgang_contracts.events import (
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    ContactChannel,
    FirstContactOverdue,
    GuideEntriesShared,
    InquiryReceived,
    Need,
    RoutingReason,
    SharedEntry,
)
from indgang_contracts.events import Consultant as ConsultantRef
from indgang_routing.domain.policy import Assignment

CaseDoc = Mapping[str, Any]

# Case ids derive from the inquiry that opened the case, so a redelivered
# inquiry maps onto the case it already opened instead of opening a second one.
_CASE_NAMESPACE = uuid.UUID("8f4f5d3e-6f0b-4c43-9a54-2f6c1d1a7e10")


def case_id_for(inquiry_id: str) -> str:
    return str(uuid.uuid5(_CASE_NAMESPACE, inquiry_id))


def merged_needs(current: Sequence[str | Need], added: Sequence[Need]) -> list[Need]:
    """The case's needs after another inquiry: the old ones first, then the new ones."""
    merged = [Need(n) for n in current]
    return merged + [n for n in added if n not in merged]


def case_routed(
    inquiry: InquiryReceived,
    case_id: str,
    assignment: Assignment,
    first_contact_due: date,
    now: datetime,
    previous_consultant_id: str | None = None,
) -> CaseRouted:
    """A new case for `inquiry` got its consultant."""
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


def inquiry_attached(case: CaseDoc, inquiry: InquiryReceived, now: datetime) -> CaseRouted:
    """Another inquiry of an organisation with an open case joins that case.

    Published again as case-routed (reason continuity, same consultant, no
    previous consultant): the consultant hears of the new inquiry, the person
    behind it is introduced to their one consultant (it may be a new contact),
    and the guide sees the case's needs grow. `inquiry_id` and `reference` are
    the new inquiry's, so messages match the receipt that person got.
    """
    consultant = ConsultantRef.model_validate(case["consultant"])
    return CaseRouted(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        inquiry_id=inquiry.inquiry_id,
        reference=inquiry.reference,
        organisation_key=case["organisation_key"],
        organisation_name=case["organisation"]["name"],
        organisation_stage=inquiry.organisation.stage,
        needs=merged_needs(case["needs"], inquiry.needs),
        consultant=consultant,
        contact=inquiry.contact,
        previous_consultant_id=None,
        reason=RoutingReason.CONTINUITY,
        explanation=(
            f"Organisationen har allerede en åben sag hos {consultant.name}; "
            f"henvendelsen {inquiry.reference} er lagt på den sag."
        ),
        first_contact_due=date.fromisoformat(case["first_contact_due"]),
        routed_at=now,
    )


def case_reassigned(case: CaseDoc, assignment: Assignment, now: datetime) -> CaseRouted:
    """The team lead moved the case to another consultant (reason manual)."""
    return CaseRouted(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        inquiry_id=case["inquiry_ids"][-1],
        reference=case["reference"],
        organisation_key=case["organisation_key"],
        organisation_name=case["organisation"]["name"],
        organisation_stage=case["organisation"].get("stage"),
        needs=case["needs"],
        consultant=assignment.consultant.reference(),
        contact=case["contact"],
        previous_consultant_id=case["consultant"]["id"],
        reason=assignment.reason,
        explanation=assignment.explanation,
        first_contact_due=date.fromisoformat(case["first_contact_due"]),
        routed_at=now,
    )


def status_changed(
    case: CaseDoc,
    status: CaseStatus,
    changed_by: str,
    now: datetime,
    *,
    first_contact: tuple[ContactChannel, datetime] | None = None,
    outcome: str | None = None,
) -> CaseStatusChanged:
    previous = CaseStatus(case["status"])
    return CaseStatusChanged(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        organisation_key=case["organisation_key"],
        status=status,
        previous_status=previous,
        reopened=previous is CaseStatus.CLOSED,
        consultant_id=case["consultant"]["id"],
        changed_by=changed_by,
        changed_at=now,
        first_contact_channel=first_contact[0] if first_contact else None,
        first_contact_at=first_contact[1] if first_contact else None,
        outcome=outcome,
    )


def first_contact_overdue(
    case: CaseDoc, team_lead_email: str | None, now: datetime
) -> FirstContactOverdue:
    return FirstContactOverdue(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        organisation_name=case["organisation"]["name"],
        consultant=ConsultantRef.model_validate(case["consultant"]),
        team_lead_email=team_lead_email,
        first_contact_due=date.fromisoformat(case["first_contact_due"]),
        detected_at=now,
    )


def guide_entries_shared(
    case: CaseDoc, entries: Sequence[SharedEntry], message: str | None, now: datetime
) -> GuideEntriesShared:
    return GuideEntriesShared(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        contact=case["contact"],
        consultant=ConsultantRef.model_validate(case["consultant"]),
        entries=list(entries),
        message=message or None,
        shared_at=now,
    )
