"""One realistic example of every event, for docs, tests and integrators' fixtures."""

from __future__ import annotations

from datetime import UTC, date, datetime

from indgang_contracts.events import (
    CaseContactChanged,
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatusChanged,
    Event,
    FirstContactOverdue,
    GuideEntriesShared,
    GuideEntryPublished,
    InquiryReceived,
    MessageToEnterprise,
    NotificationDelivered,
    NotificationFailed,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
    RsvReadinessChanged,
)

_CONTACT = {
    "name": "Åse Ødegård",
    "email": "aase@kaffeogomsorg.example",
    "phone": "+4520304050",
    "preferred_language": "da",
}
_ORGANISATION = {"name": "Kaffe & Omsorg ApS", "cvr": "35954716", "stage": "start_up"}
_CONSULTANT = {
    "id": "ane-kjaer",
    "name": "Ane Kjær",
    "email": "ane.kjaer@kommune.example",
    "phone": "+4596601001",
}

INQUIRY_RECEIVED = InquiryReceived.model_validate(
    {
        "municipality_code": "756",
        "inquiry_id": "0f7c6a52-3d0e-4c55-9d7e-5b2d6f3f1a01",
        "reference": "H-7K3M9Q2P",
        "received_at": datetime(2026, 11, 30, 9, 2, tzinfo=UTC),
        "channel": "web",
        "organisation_key": "cvr:35954716",
        "organisation": _ORGANISATION,
        "contact": _CONTACT,
        "needs": ["hiring_vulnerable_unemployed", "rsv_registration"],
        "description": "Vi driver en café og vil ansætte to personer i løntilskud.",
        "privacy_notice_version": "2026-11",
    }
)

CASE_ROUTED = CaseRouted.model_validate(
    {
        "municipality_code": "756",
        "case_id": "5d1f3c2a-8f4e-5b6a-9c7d-2e1f0a9b8c71",
        "inquiry_id": INQUIRY_RECEIVED.inquiry_id,
        "reference": INQUIRY_RECEIVED.reference,
        "organisation_key": "cvr:35954716",
        "organisation_name": "Kaffe & Omsorg ApS",
        "organisation_stage": "start_up",
        "needs": ["hiring_vulnerable_unemployed", "rsv_registration"],
        "consultant": _CONSULTANT,
        "contact": _CONTACT,
        "reason": "expertise",
        "explanation": "Ane Kjær dækker flest af behovene (2 af 2).",
        "first_contact_due": date(2026, 12, 3),
        "routed_at": datetime(2026, 11, 30, 9, 2, 5, tzinfo=UTC),
    }
)

REFERRAL_MADE = ReferralMade.model_validate(
    {
        "municipality_code": "756",
        "referral_id": "a3c9e1f4-2b7d-4e8a-9f10-6c5b4a3d2e19",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "target": {"department": "job_centre"},
        "purpose": "Afklaring af løntilskud til to ledige i caféen.",
        "needs": ["hiring_vulnerable_unemployed"],
        "response_due": date(2026, 12, 14),
        "organisation": _ORGANISATION,
        "consent_to_share_contact": True,
        "contact": _CONTACT,
        "consultant": _CONSULTANT,
        "made_at": datetime(2026, 11, 30, 10, 15, tzinfo=UTC),
        "message_to_enterprise": "Jobcentret ser på, om I kan ansætte to personer med"
        " løntilskud. De ringer til jer inden for to uger.",
    }
)

CASE_STATUS_CHANGED = CaseStatusChanged.model_validate(
    {
        "municipality_code": "756",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "organisation_key": "cvr:35954716",
        "status": "in_progress",
        "previous_status": "assigned",
        "consultant_id": "ane-kjaer",
        "changed_by": "ane-kjaer",
        "changed_at": datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        "first_contact_channel": "phone",
        "first_contact_at": datetime(2026, 12, 1, 8, 15, tzinfo=UTC),
    }
)

FIRST_CONTACT_OVERDUE = FirstContactOverdue.model_validate(
    {
        "municipality_code": "756",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "organisation_name": "Kaffe & Omsorg ApS",
        "consultant": _CONSULTANT,
        "team_lead_email": "teamleder@kommune.example",
        "first_contact_due": date(2026, 12, 3),
        "detected_at": datetime(2026, 12, 4, 6, 0, tzinfo=UTC),
    }
)

REFERRAL_UPDATED = ReferralUpdated.model_validate(
    {
        "municipality_code": "756",
        "referral_id": REFERRAL_MADE.referral_id,
        "case_id": CASE_ROUTED.case_id,
        "status": "completed",
        "outcome": {
            "summary": "To ledige ansat i løntilskud i caféen fra januar.",
            "wage_subsidy_hires": 2,
        },
        "answered_by": "job_centre",
        "answered_at": datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
        "reference": INQUIRY_RECEIVED.reference,
        "consultant": _CONSULTANT,
    }
)

REFERRAL_OVERDUE = ReferralOverdue.model_validate(
    {
        "municipality_code": "756",
        "referral_id": REFERRAL_MADE.referral_id,
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "organisation_name": "Kaffe & Omsorg ApS",
        "target": {"department": "job_centre"},
        "target_name": "Jobcentret",
        "consultant": _CONSULTANT,
        "response_due": date(2026, 12, 14),
        "detected_at": datetime(2026, 12, 15, 6, 0, tzinfo=UTC),
    }
)

MESSAGE_TO_ENTERPRISE = MessageToEnterprise.model_validate(
    {
        "municipality_code": "756",
        "message_id": "7b0e4d1c-9a35-4f62-8e07-1d2c3b4a5f60",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "contact": _CONTACT,
        "consultant": _CONSULTANT,
        "subject_line": "Mødet om løntilskud",
        "body": "Kære Åse\n\nJobcentret kommer gerne ud til jer torsdag kl. 10."
        "\n\nVenlig hilsen\nAne",
        "written_at": datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    }
)

CASE_CONTACT_CHANGED = CaseContactChanged.model_validate(
    {
        "municipality_code": "756",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "contact": {**_CONTACT, "email": "aase.odegaard@kaffeogomsorg.example"},
        "changed_by": "ane-kjaer",
        "changed_at": datetime(2026, 12, 2, 10, 5, tzinfo=UTC),
    }
)

CASE_OUTCOME_RECORDED = CaseOutcomeRecorded.model_validate(
    {
        "municipality_code": "756",
        "outcome_id": "5b0d7c1e-8a5f-4e43-9d6a-2f1f3c9e7a10",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "consultant_id": "ane-kjaer",
        "organisation_key": INQUIRY_RECEIVED.organisation_key,
        "wage_subsidy_hires": 2,
        "flex_jobs": 1,
        "work_placements": 0,
        "ordinary_hires": 1,
        "rsv_registration_helped": False,
        "supplier_agreements": 1,
        "social_clauses": 0,
        "occurred_on": date(2026, 11, 30),
        "recorded_by": "ane-kjaer",
        "recorded_at": datetime(2026, 12, 2, 11, 0, tzinfo=UTC),
    }
)

RSV_READINESS_CHANGED = RsvReadinessChanged.model_validate(
    {
        "municipality_code": "756",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "consultant_id": "ane-kjaer",
        "organisation_key": INQUIRY_RECEIVED.organisation_key,
        "criteria": {
            "social_purpose": "met",
            "commercial_activity": "met",
            "independence": "met",
            "inclusive_governance": "not_yet",
            "social_profit_handling": "unknown",
        },
        "ready": False,
        "registered": False,
        "registered_on": None,
        "changed_by": "ane-kjaer",
        "changed_at": datetime(2026, 12, 2, 11, 5, tzinfo=UTC),
    }
)

GUIDE_ENTRIES_SHARED = GuideEntriesShared.model_validate(
    {
        "municipality_code": "756",
        "case_id": CASE_ROUTED.case_id,
        "reference": INQUIRY_RECEIVED.reference,
        "contact": _CONTACT,
        "consultant": _CONSULTANT,
        "entries": [
            {
                "id": "rsv-registrering",
                "title": "Registrering som registreret socialøkonomisk virksomhed (RSV)",
                "summary": "Hvad registreringen kræver, og hvordan man søger.",
                "url": "https://erhvervsstyrelsen.dk/vejledning-registrering-som-registreret-socialoekonomisk-virksomhed",
            }
        ],
        "message": "Her er det, vi talte om.",
        "shared_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    }
)

GUIDE_ENTRY_PUBLISHED = GuideEntryPublished.model_validate(
    {
        "municipality_code": "756",
        "entry_id": "rsv-registrering",
        "version": 2,
        "title": "Registrering som registreret socialøkonomisk virksomhed (RSV)",
        "section": "starting_and_running",
        "kind": "article",
        "audience": "external",
        "published_by": "guide-editor",
        "published_at": datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
    }
)

_DELIVERY = {
    "municipality_code": "756",
    "delivery_id": "d-0001",
    "event_id": "2be9c507-2af0-4435-adce-eb22393f4a2b",
    "event_type": "dk.indgang.inquiry-received.v1",
    "message_kind": "receipt",
    "channel": "email",
    "recipient_role": "inquirer",
    "inquiry_id": INQUIRY_RECEIVED.inquiry_id,
    "attempts": 1,
}
NOTIFICATION_DELIVERED = NotificationDelivered.model_validate(
    {**_DELIVERY, "delivered_at": datetime(2026, 11, 30, 9, 2, 3, tzinfo=UTC)}
)
NOTIFICATION_FAILED = NotificationFailed.model_validate(
    {
        **_DELIVERY,
        "attempts": 8,
        "error": "SMTPConnectError: connection refused",
        "failed_at": datetime(2026, 11, 30, 11, 0, tzinfo=UTC),
    }
)

EXAMPLES: tuple[Event, ...] = (
    INQUIRY_RECEIVED,
    CASE_ROUTED,
    REFERRAL_MADE,
    CASE_STATUS_CHANGED,
    FIRST_CONTACT_OVERDUE,
    REFERRAL_UPDATED,
    REFERRAL_OVERDUE,
    MESSAGE_TO_ENTERPRISE,
    CASE_CONTACT_CHANGED,
    CASE_OUTCOME_RECORDED,
    RSV_READINESS_CHANGED,
    GUIDE_ENTRIES_SHARED,
    GUIDE_ENTRY_PUBLISHED,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_FAILED,
)
