"""A known event history for the reporting tests (November–December 2026), and
builders for its events. The figures it must give are worked out by hand in
test_figures.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from indgang_contracts import examples as ex
from indgang_contracts.events import (
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatusChanged,
    Consultant,
    Event,
    FirstContactOverdue,
    InquiryReceived,
    NotificationDelivered,
    NotificationFailed,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
    RsvReadinessChanged,
)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NAMES = {"ane-kjaer": "Ane Kjær", "bjarne-holm": "Bjarne Holm", "camilla-dahl": "Camilla Dahl"}


def consultant(staff_id: str) -> Consultant:
    return ex.CASE_ROUTED.consultant.model_copy(update={"id": staff_id, "name": NAMES[staff_id]})


def inquiry(
    inquiry_id: str,
    when: datetime,
    channel: str,
    needs: list[str],
    stage: str = "start_up",
    **more: Any,
) -> InquiryReceived:
    return InquiryReceived.model_validate(
        {
            **ex.INQUIRY_RECEIVED.model_dump(),
            "inquiry_id": inquiry_id,
            "received_at": when,
            "channel": channel,
            "needs": needs,
            "organisation": {"name": "Kaffe & Omsorg ApS", "stage": stage},
            **more,
        }
    )


def routed(
    case_id: str, inquiry_id: str, staff: str, when: datetime, due: date, *, follow_up: bool = False
) -> CaseRouted:
    return ex.CASE_ROUTED.model_copy(
        update={
            "case_id": case_id,
            "inquiry_id": inquiry_id,
            "consultant": consultant(staff),
            "routed_at": when,
            "first_contact_due": due,
            "follow_up": follow_up,
        }
    )


def status(
    case_id: str,
    staff: str,
    when: datetime,
    new: str,
    previous: str,
    *,
    first_contact: bool = False,
    reopened: bool = False,
) -> CaseStatusChanged:
    return CaseStatusChanged.model_validate(
        {
            **ex.CASE_STATUS_CHANGED.model_dump(),
            "case_id": case_id,
            "consultant_id": staff,
            "changed_by": staff,
            "changed_at": when,
            "status": new,
            "previous_status": previous,
            "reopened": reopened,
            "first_contact_at": when if first_contact else None,
            "first_contact_channel": "phone" if first_contact else None,
        }
    )


def referral(
    referral_id: str,
    case_id: str,
    staff: str,
    when: datetime,
    department: str,
    provider: str | None = None,
) -> ReferralMade:
    return ReferralMade.model_validate(
        {
            **ex.REFERRAL_MADE.model_dump(),
            "referral_id": referral_id,
            "case_id": case_id,
            "consultant": consultant(staff).model_dump(),
            "made_at": when,
            "target": {"department": department, "provider_id": provider},
        }
    )


def answer(
    referral_id: str, case_id: str, when: datetime, new: str, department: str, **more: Any
) -> ReferralUpdated:
    base = ex.REFERRAL_UPDATED.model_dump()
    base.update(
        referral_id=referral_id,
        case_id=case_id,
        answered_at=when,
        status=new,
        answered_by=department,
        reason=None,
        outcome=None,
    )
    base.update(more)
    return ReferralUpdated.model_validate(base)


def overdue_case(case_id: str, when: datetime) -> FirstContactOverdue:
    return ex.FIRST_CONTACT_OVERDUE.model_copy(update={"case_id": case_id, "detected_at": when})


def overdue_referral(referral_id: str, case_id: str, when: datetime) -> ReferralOverdue:
    return ex.REFERRAL_OVERDUE.model_copy(
        update={"referral_id": referral_id, "case_id": case_id, "detected_at": when}
    )


def delivered(delivery_id: str, when: datetime, kind: str) -> NotificationDelivered:
    return ex.NOTIFICATION_DELIVERED.model_copy(
        update={"delivery_id": delivery_id, "delivered_at": when, "message_kind": kind}
    )


def failed(delivery_id: str, when: datetime, kind: str) -> NotificationFailed:
    return ex.NOTIFICATION_FAILED.model_copy(
        update={"delivery_id": delivery_id, "failed_at": when, "message_kind": kind}
    )


def outcome(
    outcome_id: str,
    case_id: str,
    staff: str,
    day: date,
    when: datetime,
    *,
    withdrawn: bool = False,
    **counts: Any,
) -> CaseOutcomeRecorded:
    zero = dict.fromkeys(
        (
            "wage_subsidy_hires",
            "flex_jobs",
            "work_placements",
            "ordinary_hires",
            "supplier_agreements",
            "social_clauses",
        ),
        0,
    )
    return CaseOutcomeRecorded.model_validate(
        {
            **ex.CASE_OUTCOME_RECORDED.model_dump(),
            **zero,
            "rsv_registration_helped": False,
            "outcome_id": outcome_id,
            "case_id": case_id,
            "consultant_id": staff,
            "recorded_by": staff,
            "occurred_on": day,
            "recorded_at": when,
            "withdrawn": withdrawn,
            **counts,
        }
    )


CRITERIA = (
    "social_purpose",
    "commercial_activity",
    "independence",
    "inclusive_governance",
    "social_profit_handling",
)


def checklist(
    case_id: str,
    staff: str,
    when: datetime,
    statuses: str,
    registered_on: date | None = None,
) -> RsvReadinessChanged:
    """`statuses`: one letter per criterion in CRITERIA's order (m met, n not yet, u unknown)."""
    names = {"m": "met", "n": "not_yet", "u": "unknown"}
    criteria = {c: names[s] for c, s in zip(CRITERIA, statuses, strict=True)}
    return RsvReadinessChanged.model_validate(
        {
            **ex.RSV_READINESS_CHANGED.model_dump(),
            "case_id": case_id,
            "consultant_id": staff,
            "changed_by": staff,
            "changed_at": when,
            "criteria": criteria,
            "ready": statuses == "mmmmm",
            "registered": registered_on is not None,
            "registered_on": registered_on,
        }
    )


HIRES = {
    "summary": "To ansat i løntilskud, én i fleksjob, én ordinært.",
    "wage_subsidy_hires": 2,
    "flex_jobs": 1,
    "work_placements": 0,
    "other_hires": 1,
}

HISTORY: list[Event] = [
    # I1: web form, case C1 (Ane), contacted within the deadline.
    inquiry("i1", at(11, 2), "web", ["hiring_vulnerable_unemployed", "rsv_registration"]),
    routed("c1", "i1", "ane-kjaer", at(11, 2, 10, 0), date(2026, 11, 5)),
    status("c1", "ane-kjaer", at(11, 4, 9), "in_progress", "assigned", first_contact=True),
    # I2: phone, case C2 (Bjarne), contacted a day late; closed, reopened, closed again.
    inquiry("i2", at(11, 9), "phone", ["business_development"], "idea"),
    routed("c2", "i2", "bjarne-holm", at(11, 9, 10, 0), date(2026, 11, 12)),
    status("c2", "bjarne-holm", at(11, 13, 10), "in_progress", "assigned", first_contact=True),
    status("c2", "bjarne-holm", at(11, 16), "closed", "in_progress"),
    status("c2", "bjarne-holm", at(11, 18), "in_progress", "closed", reopened=True),
    status("c2", "bjarne-holm", at(11, 19), "closed", "in_progress"),
    # I3: forwarded by the job centre, case C3 (Ane), never contacted: overdue now.
    inquiry(
        "i3",
        at(11, 20, 12),
        "forwarded",
        ["funding_and_support"],
        "established_social_economy",
        forwarded_by="job_centre",
        received_by="job_centre",
    ),
    routed("c3", "i3", "ane-kjaer", at(11, 20, 12), date(2026, 11, 25)),
    overdue_case("c3", at(11, 26, 6)),
    # I4: a follow-up on C1 through the web form.
    inquiry("i4", at(11, 25), "web", ["other"], follow_up_of="i1"),
    routed("c1", "i4", "ane-kjaer", at(11, 25, 10, 0), date(2026, 11, 28), follow_up=True),
    # I5: e-mail in December, case C5 (Camilla), still within its deadline.
    inquiry("i5", at(12, 1), "email", ["selling_to_municipality"]),
    routed("c5", "i5", "camilla-dahl", at(12, 1, 10, 0), date(2026, 12, 4)),
    # C1 closed in December.
    status("c1", "ane-kjaer", at(12, 1, 15), "closed", "in_progress"),
    # Referrals: R1 accepted after 2 days and completed with hires; R2 declined after
    # 0.75 days; R3 never answered.
    referral("r1", "c1", "ane-kjaer", at(11, 4, 12), "job_centre"),
    answer("r1", "c1", at(11, 6, 12), "accepted", "job_centre"),
    answer("r1", "c1", at(11, 20, 12), "completed", "job_centre", outcome=HIRES),
    referral("r2", "c2", "bjarne-holm", at(11, 14, 12), "outside_provider", "mentorhuset"),
    answer(
        "r2",
        "c2",
        at(11, 15, 6),
        "declined",
        "outside_provider",
        answered_by_provider_id="mentorhuset",
        reason="Ingen kapacitet før januar",
    ),
    referral("r3", "c3", "ane-kjaer", at(11, 21, 12), "business_service"),
    overdue_referral("r3", "c3", at(11, 28, 6)),
    # Messages: one delivered, one given up then resent and delivered, one given up.
    delivered("d1", at(11, 2, 10, 1), "receipt"),
    failed("d2", at(11, 9, 11), "introduction"),
    delivered("d2", at(11, 10, 9), "introduction"),
    failed("d3", at(11, 20, 13), "referral"),
    # Social value recorded by the consultants. O1 on C1, corrected (day and counts);
    # O2 on C2 before its last closing (RSV helped, a social clause); O3 on C2 withdrawn;
    # O6 on C2 after its closing day; O4 on C1 in December, entered just after C1's
    # closing with the closing day; O5 on C5 (open).
    outcome("o1", "c1", "ane-kjaer", date(2026, 11, 20), at(11, 20, 14), wage_subsidy_hires=1),
    outcome(
        "o1",
        "c1",
        "ane-kjaer",
        date(2026, 11, 24),
        at(11, 25, 9),
        wage_subsidy_hires=2,
        flex_jobs=1,
        supplier_agreements=1,
    ),
    outcome(
        "o2",
        "c2",
        "bjarne-holm",
        date(2026, 11, 18),
        at(11, 18, 12),
        rsv_registration_helped=True,
        social_clauses=1,
    ),
    outcome("o3", "c2", "bjarne-holm", date(2026, 11, 10), at(11, 12, 9), ordinary_hires=3),
    outcome("o3", "c2", "bjarne-holm", date(2026, 11, 10), at(11, 19, 13), withdrawn=True),
    outcome("o6", "c2", "bjarne-holm", date(2026, 11, 25), at(11, 25, 10), ordinary_hires=1),
    outcome("o4", "c1", "ane-kjaer", date(2026, 12, 1), at(12, 1, 16), ordinary_hires=1),
    outcome(
        "o5",
        "c5",
        "camilla-dahl",
        date(2026, 12, 2),
        at(12, 2, 8),
        work_placements=2,
        rsv_registration_helped=True,
    ),
    # RSV checklists: C1 ready in November, registered on 1 December (its latest state);
    # C2 partly met; C3 ready, not registered.
    checklist("c1", "ane-kjaer", at(11, 5, 9), "muuuu"),
    checklist("c1", "ane-kjaer", at(11, 28, 9), "mmmmm"),
    checklist("c1", "ane-kjaer", at(12, 1, 9), "mmmmm", registered_on=date(2026, 12, 1)),
    checklist("c2", "bjarne-holm", at(11, 15, 9), "mmnuu"),
    checklist("c3", "ane-kjaer", at(11, 22, 9), "mmmmm"),
]
