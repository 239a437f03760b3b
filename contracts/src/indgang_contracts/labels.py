"""One label table for every code the services show (issue 13, point 11).

Each code has a Danish and an English label here; a service overrides only wording
meant for one audience (e.g. the inquirer's form asks "Hvad har I brug for?"), never the
name of a thing, so "Jobcentret" is "Jobcentret" on every page and in every mail.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, TypeVar

from indgang_contracts.events import (
    DEPARTMENT_NAMES,
    CaseStatus,
    ContactChannel,
    DeliveryChannel,
    Department,
    InquiryChannel,
    Need,
    OrganisationStage,
    ReferralStatus,
    RoutingReason,
    RsvCriterion,
    RsvCriterionStatus,
)

Language = Literal["da", "en"]
Code = TypeVar("Code", bound=StrEnum)

LABELS: dict[type[StrEnum], dict[StrEnum, dict[Language, str]]] = {
    Need: {
        Need.BUSINESS_DEVELOPMENT: {
            "da": "Forretningsudvikling og forretningsplan",
            "en": "Business development and business plan",
        },
        Need.HIRING_VULNERABLE_UNEMPLOYED: {
            "da": "Ansættelse af udsatte ledige",
            "en": "Hiring vulnerable unemployed people",
        },
        Need.FUNDING_AND_SUPPORT: {
            "da": "Finansiering og støtteordninger",
            "en": "Funding and support schemes",
        },
        Need.SELLING_TO_MUNICIPALITY: {
            "da": "Salg til kommunen (udbud, sociale klausuler)",
            "en": "Selling to the municipality (tenders, social clauses)",
        },
        Need.RSV_REGISTRATION: {
            "da": "Registrering som socialøkonomisk virksomhed (RSV)",
            "en": "Registration as a social-economy enterprise (RSV)",
        },
        Need.COURSES_AND_MENTOR_TRAINING: {
            "da": "Kurser og mentoruddannelse",
            "en": "Courses and mentor training",
        },
        Need.LEGISLATION: {"da": "Lovgivning", "en": "Legislation"},
        Need.OTHER: {"da": "Andet", "en": "Other"},
    },
    OrganisationStage: {
        OrganisationStage.IDEA: {"da": "Idé", "en": "Idea"},
        OrganisationStage.START_UP: {"da": "Opstart", "en": "Start-up"},
        OrganisationStage.ESTABLISHED_SOCIAL_ECONOMY: {
            "da": "Etableret socialøkonomisk virksomhed",
            "en": "Established social-economy enterprise",
        },
        OrganisationStage.ORDINARY_COMPANY: {
            "da": "Almindelig virksomhed",
            "en": "Ordinary company",
        },
    },
    InquiryChannel: {
        InquiryChannel.WEB: {"da": "Webformular", "en": "Web form"},
        InquiryChannel.PHONE: {"da": "Telefon", "en": "Phone"},
        InquiryChannel.EMAIL: {"da": "E-mail", "en": "E-mail"},
        InquiryChannel.WALK_IN: {"da": "Personligt fremmøde", "en": "In person"},
        InquiryChannel.FORWARDED: {
            "da": "Videresendt af en afdeling",
            "en": "Forwarded by a department",
        },
    },
    CaseStatus: {
        CaseStatus.NEW: {"da": "Ny", "en": "New"},
        CaseStatus.ASSIGNED: {"da": "Tildelt", "en": "Assigned"},
        CaseStatus.IN_PROGRESS: {"da": "I gang", "en": "In progress"},
        CaseStatus.WAITING: {"da": "Afventer", "en": "Waiting"},
        CaseStatus.CLOSED: {"da": "Lukket", "en": "Closed"},
    },
    ReferralStatus: {
        ReferralStatus.SENT: {"da": "Sendt", "en": "Sent"},
        ReferralStatus.ACCEPTED: {"da": "Accepteret", "en": "Accepted"},
        ReferralStatus.DECLINED: {"da": "Afvist", "en": "Declined"},
        ReferralStatus.COMPLETED: {"da": "Afsluttet", "en": "Completed"},
    },
    ContactChannel: {
        ContactChannel.PHONE: {"da": "telefon", "en": "phone"},
        ContactChannel.EMAIL: {"da": "e-mail", "en": "e-mail"},
        ContactChannel.MEETING: {"da": "møde", "en": "meeting"},
        ContactChannel.VIDEO: {"da": "videomøde", "en": "video meeting"},
    },
    RoutingReason: {
        RoutingReason.CONTINUITY: {"da": "Kontinuitet", "en": "Continuity"},
        RoutingReason.EXPERTISE: {"da": "Ekspertise", "en": "Expertise"},
        RoutingReason.CAPACITY: {"da": "Kapacitet", "en": "Capacity"},
        RoutingReason.LEAST_LOADED: {"da": "Færrest sager", "en": "Fewest cases"},
        RoutingReason.DEPUTY: {"da": "Stedfortræder", "en": "Deputy"},
        RoutingReason.MANUAL: {"da": "Manuel omfordeling", "en": "Reassigned by hand"},
    },
    DeliveryChannel: {
        DeliveryChannel.EMAIL: {"da": "E-mail", "en": "E-mail"},
        DeliveryChannel.WEBHOOK: {"da": "Webhook", "en": "Webhook"},
    },
    RsvCriterion: {
        RsvCriterion.SOCIAL_PURPOSE: {"da": "Socialt formål", "en": "Social purpose"},
        RsvCriterion.COMMERCIAL_ACTIVITY: {
            "da": "Væsentlig erhvervsvirksomhed",
            "en": "Substantial commercial activity",
        },
        RsvCriterion.INDEPENDENCE: {
            "da": "Uafhængig af det offentlige",
            "en": "Independent of the public sector",
        },
        RsvCriterion.INCLUSIVE_GOVERNANCE: {
            "da": "Inddragende og ansvarlig i sit virke",
            "en": "Inclusive and responsible governance",
        },
        RsvCriterion.SOCIAL_PROFIT_HANDLING: {
            "da": "Social håndtering af overskud",
            "en": "Social handling of profit",
        },
    },
    RsvCriterionStatus: {
        RsvCriterionStatus.MET: {"da": "Opfyldt", "en": "Met"},
        RsvCriterionStatus.NOT_YET: {"da": "Ikke endnu", "en": "Not yet"},
        RsvCriterionStatus.UNKNOWN: {"da": "Ved ikke", "en": "Unknown"},
    },
}
# Departments keep their names (and in-sentence forms) in events.DEPARTMENT_NAMES.
LABELS[Department] = {
    department: {"da": names["da"], "en": names["en"]}
    for department, names in DEPARTMENT_NAMES.items()
}


def label(code: StrEnum, lang: Language = "da") -> str:
    """The label of `code` in `lang`; a KeyError for a code without one (a test checks
    there is none), so a raw code never reaches a page."""
    return LABELS[type(code)][code][lang]


def labels_of(kind: type[Code], lang: Language = "da") -> dict[Code, str]:
    """Every code of `kind` with its label in `lang`, in the enum's order."""
    return {code: label(code, lang) for code in kind}
