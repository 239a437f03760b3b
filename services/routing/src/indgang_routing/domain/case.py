"""Cases: exactly one owning consultant at every moment, one open case per organisation.

`Case` is the case as stored: one document per case (MongoDB hands it over as
a dict, so a TypedDict: the document *is* the model, nothing to convert), built
by `new_case` when an inquiry opens it and changed afterwards only through
`CaseRepository.change`. Its parts that routing builds (an inquiry's summary,
the routing decision, first contact, referrals and their answers, notes) have
their own types and builders here; what comes from the contracts (organisation,
contact) is their JSON form. Reading a key that is not in the model is a type
error, in handlers, adapters and views alike.

The events a case publishes are built here from the stored case, so every state
change and the event that tells the world about it come from the same values.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NotRequired, TypedDict, cast

from pydantic import ValidationError

from indgang_contracts.events import (
    CaseContactChanged,
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    ContactChannel,
    ContactPerson,
    FirstContactOverdue,
    GuideEntriesShared,
    InquiryReceived,
    MessageToEnterprise,
    Need,
    ReferralOverdue,
    ReferralStatus,
    ReferralTarget,
    ReferralUpdated,
    RoutingReason,
    SharedEntry,
)
from indgang_contracts.events import Consultant as ConsultantRef
from indgang_routing.domain.errors import InvalidInput
from indgang_routing.domain.policy import Assignment
from indgang_routing.domain.referrals import ReferralRequest, target_name
from indgang_routing.domain.retention import Schedule
from indgang_routing.domain.social_value import OutcomeRecord, RsvReadiness


class ConsultantDoc(TypedDict):
    """The owner, as on the events (`Consultant` of the contracts, in JSON)."""

    id: str
    name: str
    email: str
    phone: str | None


class InquirySummary(TypedDict):
    """One inquiry on the case (the first, and each one that joined it)."""

    id: str
    reference: str
    received_at: datetime
    channel: str
    forwarded_by: str | None
    needs: list[str]
    description: str
    contact: dict[str, Any]
    follow_up_of: str | None


class RoutingInfo(TypedDict):
    """Why the case has its consultant (the latest assignment)."""

    reason: str
    explanation: str
    previous_consultant_id: str | None


class FirstContact(TypedDict):
    channel: str
    at: datetime
    by: str


class ReferralAnswer(TypedDict):
    event_id: str  # the referral-updated event that carried it (applied once)
    status: str
    reason: str | None
    outcome: dict[str, Any] | None
    answered_by: str
    answered_by_provider_id: str | None
    answered_at: datetime
    # Staff id of the consultant who recorded it on the target's behalf (phone, mail).
    recorded_by: NotRequired[str | None]
    recorded_by_name: NotRequired[str | None]


class Referral(TypedDict):
    id: str
    target: dict[str, Any]  # `ReferralTarget` of the contracts, in JSON
    target_name: str
    purpose: str
    needs: list[str]
    response_due: str | None  # ISO date
    consent_to_share_contact: bool
    status: str
    made_at: datetime
    made_by: str
    answers: list[ReferralAnswer]
    # What the enterprise was told (the purpose is the target's alone); None: a standard line.
    message_to_enterprise: NotRequired[str | None]
    # When the overdue-referral job reported that no answer came by the deadline.
    overdue_reported_at: NotRequired[datetime | None]


class Note(TypedDict):
    """An internal note: shown to staff, never published."""

    id: str
    at: datetime
    by: str
    by_name: str
    text: str


class Case(TypedDict):
    """A case document, as stored (the runtime's outbox fields aside)."""

    _id: str
    open_slot: str  # the organisation key while open, `closed:<id>` when closed
    inquiry_ids: list[str]
    inquiries: list[InquirySummary]
    reference: str  # of the inquiry that opened it
    municipality_code: str
    organisation_key: str
    organisation: dict[str, Any]  # `Organisation` of the contracts, in JSON
    contact: dict[str, Any]  # `ContactPerson` of the contracts, in JSON
    channel: str
    forwarded_by: str | None
    needs: list[str]
    description: str
    consultant: ConsultantDoc
    status: str  # a `CaseStatus` value
    routing: RoutingInfo
    first_contact_due: str  # ISO date
    first_contact: FirstContact | None
    overdue_reported_at: datetime | None
    overdue_watch: str | bool  # the due day while watched, else False
    outcome: str | None
    closed_at: datetime | None
    closed_month: str | None  # "2026-11", while closed
    referrals: list[Referral]
    notes: list[Note]
    applied_event_ids: list[str]  # answers applied from referral-updated events
    timeline: list[dict[str, Any]]  # `domain/timeline.py`
    created_at: datetime
    updated_at: datetime
    # Deletion deadline (`domain/retention.py`): the receipt of the earliest inquiry whose
    # personal data the case holds, the deadline, the day it is filed under (None once
    # anonymised) and when the personal data was removed.
    personal_since: datetime | None
    anonymise_at: datetime | None
    anonymise_on: str | None
    anonymised_at: datetime | None
    # Top-level copies for the hot paths' equality lookups (kept by the adapter).
    consultant_id: str
    referral_ids: list[str]
    # The answer deadlines of the referrals still unanswered and not reported late: the
    # overdue-referral job finds one day's cases by equality (`handlers/overdue.py`).
    referral_watch: list[str]
    # Social value (`domain/social_value.py`): the outcomes recorded (the latest version of
    # each), and the RSV readiness checklist; absent on a case that has none yet.
    outcomes: NotRequired[list[OutcomeRecord]]
    rsv: NotRequired[RsvReadiness | None]


def contact_of(case: Case) -> dict[str, Any] | None:
    """The case's contact person, or None once anonymised (its e-mail is gone)."""
    contact = case.get("contact")
    return contact if contact and contact.get("email") else None


def consultant_doc(consultant: ConsultantRef) -> ConsultantDoc:
    return cast(ConsultantDoc, consultant.model_dump(mode="json"))


def inquiry_summary(inquiry: InquiryReceived) -> InquirySummary:
    return {
        "id": inquiry.inquiry_id,
        "reference": inquiry.reference,
        "received_at": inquiry.received_at,
        "channel": inquiry.channel.value,
        "forwarded_by": inquiry.forwarded_by.value if inquiry.forwarded_by else None,
        "needs": [n.value for n in inquiry.needs],
        "description": inquiry.description,
        "contact": inquiry.contact.model_dump(mode="json"),
        "follow_up_of": inquiry.follow_up_of,
    }


def routing_info(assignment: Assignment, previous_consultant_id: str | None = None) -> RoutingInfo:
    return {
        "reason": assignment.reason.value,
        "explanation": assignment.explanation,
        "previous_consultant_id": previous_consultant_id,
    }


def new_case(
    inquiry: InquiryReceived,
    case_id: str,
    assignment: Assignment,
    first_contact_due: date,
    routed: dict[str, Any],
    now: datetime,
    schedule: Schedule,
) -> Case:
    """The case `inquiry` opens, assigned to the assignment's consultant; `routed` is its
    first timeline entry (the case-routed event's); `schedule` its deletion deadline."""
    consultant = consultant_doc(assignment.consultant.reference())
    return {
        "_id": case_id,
        "open_slot": inquiry.organisation_key,
        "inquiry_ids": [inquiry.inquiry_id],
        "inquiries": [inquiry_summary(inquiry)],
        "reference": inquiry.reference,
        "municipality_code": inquiry.municipality_code,
        "organisation_key": inquiry.organisation_key,
        "organisation": inquiry.organisation.model_dump(mode="json"),
        "contact": inquiry.contact.model_dump(mode="json"),
        "channel": inquiry.channel.value,
        "forwarded_by": inquiry.forwarded_by.value if inquiry.forwarded_by else None,
        "needs": [n.value for n in inquiry.needs],
        "description": inquiry.description,
        "consultant": consultant,
        "status": CaseStatus.ASSIGNED.value,
        "routing": routing_info(assignment),
        "first_contact_due": first_contact_due.isoformat(),
        "first_contact": None,
        "overdue_reported_at": None,
        "overdue_watch": first_contact_due.isoformat(),
        "outcome": None,
        "closed_at": None,
        "closed_month": None,
        "referrals": [],
        "notes": [],
        "applied_event_ids": [],
        "timeline": [routed],
        "created_at": now,
        "updated_at": now,
        "personal_since": inquiry.received_at,
        "anonymise_at": schedule.deadline,
        "anonymise_on": schedule.day,
        "anonymised_at": None,
        "consultant_id": consultant["id"],
        "referral_ids": [],
        "referral_watch": [],
    }


def new_referral(
    referral_id: str,
    request: ReferralRequest,
    target_name: str,
    made_by: str,
    now: datetime,
) -> Referral:
    return {
        "id": referral_id,
        "target": request.target.model_dump(mode="json"),
        "target_name": target_name,
        "purpose": request.purpose.strip(),
        "needs": [n.value for n in request.needs],
        "response_due": request.response_due.isoformat() if request.response_due else None,
        "consent_to_share_contact": request.consent_to_share_contact,
        "status": ReferralStatus.SENT.value,
        "made_at": now,
        "made_by": made_by,
        "answers": [],
        "message_to_enterprise": (request.message_to_enterprise or "").strip() or None,
        "overdue_reported_at": None,
    }


def referral_answer(
    update: ReferralUpdated, event_id: str, recorded_by_name: str | None = None
) -> ReferralAnswer:
    return {
        "event_id": event_id,
        "status": update.status.value,
        "reason": update.reason,
        "outcome": update.outcome.model_dump(mode="json") if update.outcome else None,
        "answered_by": update.answered_by.value,
        "answered_by_provider_id": update.answered_by_provider_id,
        "answered_at": update.answered_at,
        "recorded_by": update.recorded_by,
        "recorded_by_name": recorded_by_name if update.recorded_by else None,
    }


def new_note(note_id: str, by: str, by_name: str, text: str, now: datetime) -> Note:
    return {"id": note_id, "at": now, "by": by, "by_name": by_name, "text": text}


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


def inquiry_attached(case: Case, inquiry: InquiryReceived, now: datetime) -> CaseRouted:
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
        # A follow-up, not a new case: notifications send "new message on your case",
        # not "Ny sag til dig" with a new first-contact promise.
        follow_up=True,
        case_reference=case["reference"],
    )


def case_reassigned(case: Case, assignment: Assignment, now: datetime) -> CaseRouted:
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
        contact=contact_of(case),  # none once past the deletion deadline
        previous_consultant_id=case["consultant"]["id"],
        reason=assignment.reason,
        explanation=assignment.explanation,
        first_contact_due=date.fromisoformat(case["first_contact_due"]),
        routed_at=now,
    )


def status_changed(
    case: Case,
    status: CaseStatus,
    changed_by: str,
    now: datetime,
    *,
    first_contact: tuple[ContactChannel, datetime] | None = None,
    outcome: str | None = None,
    message_to_enterprise: str | None = None,
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
        message_to_enterprise=message_to_enterprise,
    )


MAX_CLOSING_MESSAGE = 1000


def closing_choice(text: str, tell: bool) -> str | None:
    """What the consultant chose to tell the enterprise when closing its case: why, in plain
    language — required unless they chose not to tell it (`tell` False: e.g. it asked for
    the closing itself); None: it is not told."""
    text = text.strip()
    if not tell:
        if text:
            raise InvalidInput(
                "Du har skrevet en besked til virksomheden og samtidig valgt »Send ikke "
                "besked«. Fjern beskeden eller fjern krydset."
            )
        return None
    if not text:
        raise InvalidInput(
            "Skriv en besked til virksomheden om, hvorfor sagen lukkes, eller vælg "
            "»Send ikke besked«."
        )
    return text


def closing_message(case: Case, text: str | None) -> str | None:
    """The closing message as published: none, or one the case's contact can be sent."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_CLOSING_MESSAGE:
        raise InvalidInput(f"Beskeden til virksomheden må højst være {MAX_CLOSING_MESSAGE} tegn.")
    if contact_of(case) is None:
        raise InvalidInput(
            "Sagen har ingen e-mailadresse på kontaktpersonen længere, så virksomheden kan "
            "ikke få besked. Vælg »Send ikke besked«."
        )
    return text


def referral_overdue(case: Case, referral: Referral, now: datetime) -> ReferralOverdue:
    """No answer to `referral` by its deadline: the consultant is reminded."""
    due = referral.get("response_due")
    assert due is not None  # only referrals with a deadline are watched
    return ReferralOverdue(
        municipality_code=case["municipality_code"],
        referral_id=referral["id"],
        case_id=case["_id"],
        reference=case["reference"],
        organisation_name=case["organisation"]["name"],
        target=ReferralTarget.model_validate(referral["target"]),
        target_name=referral.get("target_name") or target_name(referral["target"]),
        consultant=ConsultantRef.model_validate(case["consultant"]),
        response_due=date.fromisoformat(due),
        detected_at=now,
    )


MAX_SUBJECT = 200
MAX_BODY = 5000
NO_CONTACT = (
    "Sagen har ingen e-mailadresse på kontaktpersonen længere (personoplysningerne er "
    "slettet), så der er ingen at skrive til. Ret kontaktoplysningerne først, hvis "
    "virksomheden har givet nye."
)


def message_to_enterprise(
    case: Case, message_id: str, subject_line: str, body: str, now: datetime
) -> MessageToEnterprise:
    """The consultant writes to the case's contact person (replies come back to them)."""
    subject_line, body = subject_line.strip(), body.strip()
    if not subject_line:
        raise InvalidInput("Skriv et emne til beskeden.")
    if len(subject_line) > MAX_SUBJECT:
        raise InvalidInput(f"Emnet må højst være {MAX_SUBJECT} tegn.")
    if not body:
        raise InvalidInput("Skriv beskeden, før du sender den.")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"Beskeden må højst være {MAX_BODY} tegn.")
    contact = contact_of(case)
    if contact is None:
        raise InvalidInput(NO_CONTACT)
    return MessageToEnterprise(
        municipality_code=case["municipality_code"],
        message_id=message_id,
        case_id=case["_id"],
        reference=case["reference"],
        contact=ContactPerson.model_validate(contact),
        consultant=ConsultantRef.model_validate(case["consultant"]),
        subject_line=subject_line,
        body=body,
        written_at=now,
    )


# The contact person's fields a consultant may correct, with their Danish names.
CONTACT_FIELDS = {
    "name": "navn",
    "email": "e-mail",
    "phone": "telefon",
    "preferred_language": "sprog",
}
_PHONE_SEPARATORS = str.maketrans("", "", " -./()")


def normalised_phone(value: str) -> str | None:
    """A phone number as stored (E.164, as intake stores it): a Danish number without
    country code gets +45; empty is none."""
    digits = value.strip().translate(_PHONE_SEPARATORS)
    if not digits:
        return None
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.isdigit() and len(digits) == 8:
        return "+45" + digits
    if digits.startswith("+") and digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15:
        return digits
    raise InvalidInput(
        "Telefonnummeret kan ikke læses. Skriv et dansk nummer med 8 cifre, eller et "
        "udenlandsk med landekode (fx +46 …)."
    )


def corrected_contact(
    current: dict[str, Any], *, name: str, email: str, phone: str, language: str
) -> tuple[ContactPerson, list[str]]:
    """The contact person as corrected, and which fields changed (their Danish names, in
    form order); refused with what is wrong in the consultant's words."""
    if not name.strip():
        raise InvalidInput("Skriv kontaktpersonens navn.")
    if not email.strip():
        raise InvalidInput("Skriv kontaktpersonens e-mailadresse.")
    if language not in ("da", "en"):
        raise InvalidInput("Vælg sproget: dansk eller engelsk.")
    try:
        contact = ContactPerson(
            name=name.strip(),
            email=email.strip(),
            phone=normalised_phone(phone),
            preferred_language=language,
        )
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if "email" in fields:
            raise InvalidInput("E-mailadressen er ikke gyldig.") from None
        if "name" in fields:
            raise InvalidInput("Navnet er for langt eller indeholder ugyldige tegn.") from None
        raise InvalidInput("Kontaktoplysningerne er ikke gyldige.") from None
    new = contact.model_dump(mode="json")
    old = {**{"phone": None, "preferred_language": "da"}, **(current or {})}
    changed = [label for key, label in CONTACT_FIELDS.items() if new.get(key) != old.get(key)]
    if not changed:
        raise InvalidInput("Kontaktoplysningerne er de samme som før; intet er ændret.")
    return contact, changed


def contact_changed(
    case: Case, contact: ContactPerson, changed_by: str, now: datetime
) -> CaseContactChanged:
    return CaseContactChanged(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        contact=contact,
        changed_by=changed_by,
        changed_at=now,
    )


def first_contact_overdue(
    case: Case, team_lead_email: str | None, now: datetime
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
    case: Case, entries: Sequence[SharedEntry], message: str | None, now: datetime
) -> GuideEntriesShared:
    contact = contact_of(case)
    if contact is None:
        raise InvalidInput(
            "Sagens kontaktoplysninger er slettet efter slettefristen; der er ingen at sende til."
        )
    return GuideEntriesShared(
        municipality_code=case["municipality_code"],
        case_id=case["_id"],
        reference=case["reference"],
        contact=contact,
        consultant=ConsultantRef.model_validate(case["consultant"]),
        entries=list(entries),
        message=message or None,
        shared_at=now,
    )
