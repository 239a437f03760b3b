"""The case timeline, built from the events the case publishes or receives.

Every entry is made from an event (routing, a new inquiry, reassignment, a
status change, the overdue reminder, a referral and its answers, guide entries
sent), in the same write that stores the change, so the timeline always tells
what the world was told. Entries: `at`, `kind`, `text`, `event_id`, `by`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from indgang_contracts.events import (
    CaseContactChanged,
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    FirstContactOverdue,
    GuideEntriesShared,
    MessageToEnterprise,
    ReferralMade,
    ReferralOverdue,
    ReferralStatus,
    ReferralUpdated,
    RsvReadinessChanged,
)
from indgang_routing.domain.labels import CONTACT_CHANNELS, NEEDS, danish_date
from indgang_routing.domain.social_value import outcome_summary

Entry = dict[str, Any]


def _entry(at: datetime, kind: str, text: str, event_id: str, by: str | None) -> Entry:
    return {"at": at, "kind": kind, "text": text, "event_id": event_id, "by": by}


def routed(event: CaseRouted, event_id: str) -> Entry:
    return _entry(
        event.routed_at,
        "routed",
        f"Sagen er tildelt {event.consultant.name}. {event.explanation}",
        event_id,
        None,
    )


def inquiry_added(event: CaseRouted, event_id: str) -> Entry:
    needs = ", ".join(NEEDS[n].lower() for n in event.needs)
    return _entry(
        event.routed_at,
        "inquiry_added",
        f"Ny henvendelse {event.reference} fra samme organisation er lagt på sagen "
        f"(sagens behov nu: {needs}).",
        event_id,
        None,
    )


def reassigned(event: CaseRouted, event_id: str, previous_name: str, by: str) -> Entry:
    return _entry(
        event.routed_at,
        "reassigned",
        f"Sagen er flyttet fra {previous_name} til {event.consultant.name}. {event.explanation}",
        event_id,
        by,
    )


def status_changed(event: CaseStatusChanged, event_id: str) -> Entry:
    if event.first_contact_channel is not None and event.first_contact_at is not None:
        text = (
            f"Første kontakt er registreret: {CONTACT_CHANNELS[event.first_contact_channel]}, "
            f"{danish_date(event.first_contact_at.date())}."
        )
    elif event.status is CaseStatus.CLOSED:
        told = (
            f" Virksomheden får besked: »{event.message_to_enterprise}«"
            if event.message_to_enterprise
            else " Virksomheden får ikke besked om lukningen."
        )
        text = f"Sagen er lukket. Udfald: {event.outcome}{told}"
    elif event.reopened:
        text = "Sagen er genåbnet."
    elif event.status is CaseStatus.WAITING:
        text = "Sagen afventer."
    else:
        text = "Sagen er genoptaget."
    return _entry(event.changed_at, "status", text, event_id, event.changed_by)


def overdue(event: FirstContactOverdue, event_id: str) -> Entry:
    return _entry(
        event.detected_at,
        "overdue",
        f"Fristen for første kontakt ({danish_date(event.first_contact_due)}) er overskredet; "
        "konsulenten og teamlederen får besked.",
        event_id,
        None,
    )


def referral_made(event: ReferralMade, event_id: str, target: str, by: str) -> Entry:
    consent = (
        "med henvenderens kontaktoplysninger"
        if event.consent_to_share_contact
        else "uden kontaktoplysninger (intet samtykke)"
    )
    due = f", svar ønskes senest {danish_date(event.response_due)}" if event.response_due else ""
    return _entry(
        event.made_at,
        "referral",
        f"Henvist til {target} {consent}{due}.",
        event_id,
        by,
    )


def referral_answered(
    event: ReferralUpdated, event_id: str, target: str, recorded_by_name: str | None = None
) -> Entry:
    """The target's answer; one a consultant recorded on its behalf says so."""
    if event.status is ReferralStatus.ACCEPTED:
        text = f"{target} har accepteret henvisningen."
    elif event.status is ReferralStatus.DECLINED:
        text = f"{target} har afvist henvisningen. Begrundelse: {event.reason}"
    else:
        assert event.outcome is not None  # the contract requires it for completed
        o = event.outcome
        counts = [
            (o.wage_subsidy_hires, "ansat med løntilskud"),
            (o.work_placements, "i virksomhedspraktik"),
            (o.flex_jobs, "ansat i fleksjob"),
            (o.other_hires, "ansat på anden vis"),
        ]
        numbers = "; ".join(f"{n} {what}" for n, what in counts if n)
        text = f"{target} har afsluttet henvisningen: {o.summary}" + (
            f" ({numbers})" if numbers else ""
        )
    if event.recorded_by:
        text += (
            f" Registreret af {recorded_by_name or event.recorded_by} på vegne af {target}"
            f" (svaret givet {danish_date(event.answered_at.date())})."
        )
        return _entry(event.answered_at, "referral_answer", text, event_id, event.recorded_by)
    return _entry(event.answered_at, "referral_answer", text, event_id, event.answered_by.value)


def referral_overdue(event: ReferralOverdue, event_id: str) -> Entry:
    return _entry(
        event.detected_at,
        "referral_overdue",
        f"Forsinket svar: {event.target_name} har ikke svaret på henvisningen inden "
        f"svarfristen ({danish_date(event.response_due)}); konsulenten får besked.",
        event_id,
        None,
    )


def message_to_enterprise(event: MessageToEnterprise, event_id: str, by: str) -> Entry:
    return _entry(
        event.written_at,
        "message_to_enterprise",
        f"Besked sendt til {event.contact.name} ({event.contact.email}): "
        f"»{event.subject_line}«\n{event.body}",
        event_id,
        by,
    )


def contact_changed(
    event: CaseContactChanged, event_id: str, changed: list[str], by_name: str
) -> Entry:
    return _entry(
        event.changed_at,
        "contact_changed",
        f"Kontaktoplysningerne er rettet af {by_name}: {', '.join(changed)}.",
        event_id,
        event.changed_by,
    )


def guide_shared(event: GuideEntriesShared, event_id: str, by: str) -> Entry:
    titles = "; ".join(e.title for e in event.entries)
    return _entry(
        event.shared_at,
        "guide_shared",
        f"Vejledning sendt til {event.contact.name}: {titles}.",
        event_id,
        by,
    )


def outcome_recorded(event: CaseOutcomeRecorded, event_id: str, change: str, by_name: str) -> Entry:
    """Social value recorded, corrected or withdrawn (`domain/social_value.py`)."""
    day = danish_date(event.occurred_on)
    if event.withdrawn:
        text = f"{by_name} har trukket registreringen af social værdi for {day} tilbage."
    else:
        summary = outcome_summary(event.model_dump())
        verb = "rettet registreringen af" if change == "corrected" else "registreret"
        text = f"{by_name} har {verb} social værdi for {day}: {summary}."
    return _entry(event.recorded_at, "outcome", text, event_id, event.recorded_by)


def rsv_changed(
    event: RsvReadinessChanged, event_id: str, changes: list[str], by_name: str
) -> Entry:
    ready = (
        " Alle fem kriterier er opfyldt: virksomheden er klar til at søge registrering."
        if event.ready
        else ""
    )
    text = f"{by_name} har ændret RSV-tjeklisten: {'; '.join(changes)}.{ready}"
    return _entry(event.changed_at, "rsv", text, event_id, event.changed_by)
