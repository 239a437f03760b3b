"""Danish words for the contract's codes, for the console and the case timeline."""

from __future__ import annotations

from datetime import date

from indgang_contracts.events import (
    DEPARTMENT_NAMES,
    CaseStatus,
    ContactChannel,
    Department,
    InquiryChannel,
    Need,
    OrganisationStage,
    ReferralStatus,
    RoutingReason,
)

NEEDS: dict[Need, str] = {
    Need.BUSINESS_DEVELOPMENT: "Forretningsudvikling og forretningsplan",
    Need.HIRING_VULNERABLE_UNEMPLOYED: "Ansættelse af udsatte ledige",
    Need.FUNDING_AND_SUPPORT: "Finansiering og støtteordninger",
    Need.SELLING_TO_MUNICIPALITY: "Salg til kommunen (udbud, sociale klausuler)",
    Need.RSV_REGISTRATION: "Registrering som socialøkonomisk virksomhed (RSV)",
    Need.COURSES_AND_MENTOR_TRAINING: "Kurser og mentoruddannelse",
    Need.LEGISLATION: "Lovgivning",
    Need.OTHER: "Andet",
}

DEPARTMENTS: dict[Department, str] = {
    department: names["da"] for department, names in DEPARTMENT_NAMES.items()
}

STATUSES: dict[CaseStatus, str] = {
    CaseStatus.NEW: "Ny",
    CaseStatus.ASSIGNED: "Tildelt",
    CaseStatus.IN_PROGRESS: "I gang",
    CaseStatus.WAITING: "Afventer",
    CaseStatus.CLOSED: "Lukket",
}

REFERRAL_STATUSES: dict[ReferralStatus, str] = {
    ReferralStatus.SENT: "Sendt",
    ReferralStatus.ACCEPTED: "Accepteret",
    ReferralStatus.DECLINED: "Afvist",
    ReferralStatus.COMPLETED: "Afsluttet",
}

CONTACT_CHANNELS: dict[ContactChannel, str] = {
    ContactChannel.PHONE: "telefon",
    ContactChannel.EMAIL: "e-mail",
    ContactChannel.MEETING: "møde",
    ContactChannel.VIDEO: "videomøde",
}

INQUIRY_CHANNELS: dict[InquiryChannel, str] = {
    InquiryChannel.WEB: "Webformular",
    InquiryChannel.PHONE: "Telefon",
    InquiryChannel.EMAIL: "E-mail",
    InquiryChannel.WALK_IN: "Personligt fremmøde",
    InquiryChannel.FORWARDED: "Videresendt af en afdeling",
}

STAGES: dict[OrganisationStage, str] = {
    OrganisationStage.IDEA: "Idé",
    OrganisationStage.START_UP: "Opstart",
    OrganisationStage.ESTABLISHED_SOCIAL_ECONOMY: "Etableret socialøkonomisk virksomhed",
    OrganisationStage.ORDINARY_COMPANY: "Almindelig virksomhed",
}

REASONS: dict[RoutingReason, str] = {
    RoutingReason.CONTINUITY: "Kontinuitet",
    RoutingReason.EXPERTISE: "Ekspertise",
    RoutingReason.CAPACITY: "Kapacitet",
    RoutingReason.LEAST_LOADED: "Færrest sager",
    RoutingReason.DEPUTY: "Stedfortræder",
    RoutingReason.MANUAL: "Manuel omfordeling",
}

# In place of a personal field (the contact's e-mail, phone) that the deletion job has
# removed from a case (`domain/retention.py`): the console never shows "None".
DELETED = "slettet"

_MONTHS = (
    *("januar", "februar", "marts", "april", "maj", "juni"),
    *("juli", "august", "september", "oktober", "november", "december"),
)


def danish_date(day: date) -> str:
    """'3. december 2026'."""
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"
