"""What the delivery log calls each code it shows, in Danish and English. Pure.

The log shows people what was sent, to whom and why, never a template key or a code
(`case_assigned`, `inquirer`, `dk.indgang.case-routed.v1`; issue 13, point 11). The
names of things every service shows (departments, statuses, channels) are in
`indgang_contracts.labels`; these are notifications' own: its message kinds, the roles
of recipients and the events that caused a delivery. A test checks that every kind
with a template, every role the planner uses and every event type has both labels.
"""

from __future__ import annotations

from typing import Literal

from indgang_contracts.events import DeliveryChannel
from indgang_contracts.labels import label

Language = Literal["da", "en"]

KINDS: dict[str, dict[Language, str]] = {
    "receipt": {"da": "Kvittering for henvendelsen", "en": "Receipt for the inquiry"},
    "introduction": {"da": "Præsentation af konsulenten", "en": "Introduction of the consultant"},
    "case_assigned": {"da": "Ny sag til konsulenten", "en": "New case for the consultant"},
    "case_reassigned": {"da": "Sagen er flyttet", "en": "The case was moved"},
    "case_follow_up": {"da": "Ny besked på sagen", "en": "New message on the case"},
    "follow_up_received": {
        "da": "Besked modtaget (opfølgning)",
        "en": "Message received (follow-up)",
    },
    "referral": {"da": "Henvisning til afdelingen", "en": "Referral to the department"},
    "referral_notice": {
        "da": "Besked om henvisning",
        "en": "Notice of the referral",
    },
    "referral_answered": {
        "da": "Svar på henvisning (til konsulenten)",
        "en": "Answer to a referral (to the consultant)",
    },
    "referral_answer_notice": {
        "da": "Svar på henvisning: hvad sker der nu",
        "en": "Answer to a referral: what happens next",
    },
    "referral_overdue": {"da": "Henvisning uden svar", "en": "Referral without an answer"},
    "first_contact_overdue": {
        "da": "Første kontakt overskredet",
        "en": "First contact overdue",
    },
    "overdue_team_lead": {
        "da": "Overskredet frist (til teamlederen)",
        "en": "Deadline passed (to the team lead)",
    },
    "guide_entries": {"da": "Vejledning fra konsulenten", "en": "Guidance from the consultant"},
    "message_to_enterprise": {
        "da": "Besked fra konsulenten",
        "en": "Message from the consultant",
    },
    "case_closed": {"da": "Sagen er lukket", "en": "The case is closed"},
    "cloudevent": {"da": "Hændelse til fagsystem", "en": "Event to a department system"},
}

ROLES: dict[str, dict[Language, str]] = {
    "inquirer": {"da": "Virksomheden", "en": "The enterprise"},
    "consultant": {"da": "Konsulent", "en": "Consultant"},
    "team_lead": {"da": "Teamleder", "en": "Team lead"},
    "department": {"da": "Afdeling", "en": "Department"},
    "subscriber": {"da": "Abonnent (fagsystem)", "en": "Subscriber (department system)"},
}

EVENTS: dict[str, dict[Language, str]] = {
    "inquiry-received": {"da": "Henvendelse modtaget", "en": "Inquiry received"},
    "case-routed": {"da": "Sag fordelt", "en": "Case routed"},
    "referral-made": {"da": "Henvisning lavet", "en": "Referral made"},
    "case-status-changed": {"da": "Sagens status ændret", "en": "Case status changed"},
    "first-contact-overdue": {
        "da": "Frist for første kontakt overskredet",
        "en": "First contact overdue",
    },
    "referral-updated": {"da": "Henvisning besvaret", "en": "Referral answered"},
    "referral-overdue": {"da": "Henvisning ikke besvaret", "en": "Referral not answered"},
    "message-to-enterprise": {
        "da": "Besked til virksomheden",
        "en": "Message to the enterprise",
    },
    "case-contact-changed": {"da": "Kontaktperson rettet", "en": "Contact person corrected"},
    "case-outcome-recorded": {"da": "Social værdi registreret", "en": "Social value recorded"},
    "rsv-readiness-changed": {"da": "RSV-tjekliste ændret", "en": "RSV checklist changed"},
    "guide-entries-shared": {"da": "Vejledning delt", "en": "Guidance shared"},
    "guide-entry-published": {"da": "Vejledning udgivet", "en": "Guide entry published"},
    "notification-delivered": {"da": "Besked leveret", "en": "Message delivered"},
    "notification-failed": {"da": "Besked opgivet", "en": "Message given up"},
}

LANGUAGES: dict[str, dict[Language, str]] = {
    "da": {"da": "dansk", "en": "Danish"},
    "en": {"da": "engelsk", "en": "English"},
}

UNKNOWN: dict[Language, str] = {"da": "anden besked", "en": "other message"}


def event_name(event_type: str | None) -> str:
    """'dk.indgang.case-routed.v1' -> 'case-routed'."""
    parts = (event_type or "").split(".")
    return parts[2] if len(parts) == 4 else ""


def _from(table: dict[str, dict[Language, str]], code: str | None, lang: Language) -> str:
    # A code missing here (a kind added without a label) shows as "other", never raw;
    # the completeness test keeps that from happening.
    return table.get(code or "", UNKNOWN)[lang]


def kind_label(kind: str | None, lang: Language) -> str:
    return _from(KINDS, kind, lang)


def role_label(role: str | None, lang: Language) -> str:
    return _from(ROLES, role, lang)


def event_label(event_type: str | None, lang: Language) -> str:
    return _from(EVENTS, event_name(event_type), lang)


def language_label(language: str | None, lang: Language) -> str:
    return _from(LANGUAGES, language, lang)


def channel_label(channel: str | None, lang: Language) -> str:
    try:
        return label(DeliveryChannel(channel or ""), lang)
    except ValueError:
        return UNKNOWN[lang]
