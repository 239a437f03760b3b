"""Issue 14 on the case, the pure rules (`domain/social_value.py`, the forms' parsing):
social-value outcomes (recorded, corrected by id, withdrawn; what a read model sees) and
the RSV readiness checklist (the five criteria of lov nr. 711/2014 § 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from indgang_contracts.events import CaseOutcomeRecorded, RsvCriterion, RsvCriterionStatus
from indgang_routing.domain import timeline
from indgang_routing.domain.errors import Conflict, InvalidInput, NotFound
from indgang_routing.domain.retention import ANONYMISED, anonymised_fields
from indgang_routing.domain.social_value import (
    CRITERIA,
    FieldErrors,
    Outcome,
    OutcomeRecord,
    changed_readiness,
    check_outcome,
    decide_outcome,
    is_ready,
    met_count,
    outcome_record,
    outcome_recorded,
    outcome_summary,
    recorded_at,
    replaced,
    rsv_readiness_changed,
    totals,
)
from indgang_routing.web import forms

TODAY = date(2026, 12, 2)
OPENED = date(2026, 11, 1)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CASE: dict[str, Any] = {
    "_id": "c-1",
    "municipality_code": "756",
    "reference": "H-0000001",
    "consultant": {"id": "ane-kjaer"},
    "organisation_key": "cvr:35954716",
}
ALL = {c.code for c in CRITERIA}


def record(
    outcome_id: str, outcome: Outcome | None, at: datetime = NOW, **kw: Any
) -> OutcomeRecord:
    event = outcome_recorded(CASE, outcome_id, outcome, kw.get("day"), "ane-kjaer", at)
    return outcome_record(event, f"e-{outcome_id}-{at.isoformat()}", "Ane Kjær")


# --- outcomes ------------------------------------------------------------------------------


def test_a_recording_needs_something_and_a_day_within_the_case() -> None:
    with pytest.raises(FieldErrors) as empty:
        check_outcome(Outcome(occurred_on=TODAY), TODAY, OPENED)
    assert "mindst ét antal" in empty.value.errors["wage_subsidy_hires"]
    check_outcome(Outcome(occurred_on=TODAY, rsv_registration_helped=True), TODAY, OPENED)
    with pytest.raises(FieldErrors) as future:
        check_outcome(Outcome(occurred_on=TODAY + timedelta(days=1), flex_jobs=1), TODAY, OPENED)
    assert set(future.value.errors) == {"occurred_on"}
    assert "fremtiden" in future.value.message
    with pytest.raises(FieldErrors, match="før sagen blev oprettet"):
        check_outcome(Outcome(occurred_on=date(2026, 10, 31), flex_jobs=1), TODAY, OPENED)
    with pytest.raises(FieldErrors) as both:
        check_outcome(
            Outcome(occurred_on=TODAY + timedelta(days=3), social_clauses=-1), TODAY, OPENED
        )
    assert set(both.value.errors) == {"social_clauses", "occurred_on"}


def test_the_same_id_again_is_unchanged_a_change_is_a_correction_and_withdrawn_is_final() -> None:
    two = Outcome(occurred_on=TODAY, wage_subsidy_hires=2)
    assert decide_outcome([], "o-1", two) == "recorded"
    with pytest.raises(NotFound):
        decide_outcome([], "o-1", None)
    stored = [record("o-1", two)]
    assert decide_outcome(stored, "o-1", two) == "unchanged"
    assert decide_outcome(stored, "o-1", Outcome(occurred_on=TODAY, wage_subsidy_hires=3)) == (
        "corrected"
    )
    assert decide_outcome(stored, "o-2", two) == "recorded"
    assert decide_outcome(stored, "o-1", None) == "withdrawn"
    withdrawn = replaced(stored, record("o-1", None, NOW + timedelta(minutes=1), day=TODAY))
    assert decide_outcome(withdrawn, "o-1", None) == "unchanged"
    with pytest.raises(Conflict):
        decide_outcome(withdrawn, "o-1", two)


def test_a_replacement_is_strictly_later_even_if_the_clock_is_not() -> None:
    stored = [record("o-1", Outcome(occurred_on=TODAY, flex_jobs=1))]
    assert recorded_at(stored, "o-2", NOW) == NOW
    assert recorded_at(stored, "o-1", NOW + timedelta(seconds=5)) == NOW + timedelta(seconds=5)
    assert recorded_at(stored, "o-1", NOW - timedelta(seconds=5)) > NOW
    assert recorded_at(stored, "o-1", NOW) > NOW


def test_the_events_a_read_model_keeps_by_latest_recorded_at_give_the_case_totals() -> None:
    """What the contract promises a read model: per outcome_id the latest recording counts
    unless withdrawn; any order, any duplicates."""
    first = Outcome(occurred_on=TODAY, wage_subsidy_hires=2, supplier_agreements=1)
    corrected = Outcome(occurred_on=TODAY, wage_subsidy_hires=1, ordinary_hires=1)
    other = Outcome(occurred_on=date(2026, 11, 20), flex_jobs=1, rsv_registration_helped=True)
    events = [
        outcome_recorded(CASE, "o-1", first, None, "ane", NOW),
        outcome_recorded(CASE, "o-1", corrected, None, "ane", NOW + timedelta(minutes=1)),
        outcome_recorded(CASE, "o-2", other, None, "ane", NOW),
        outcome_recorded(CASE, "o-3", first, None, "ane", NOW),
        outcome_recorded(CASE, "o-3", None, TODAY, "ane", NOW + timedelta(minutes=2)),
    ]
    expected = {"people_employed": 3, "supplier_agreements": 0, "rsv": True}
    for ordering in (events, list(reversed(events)), events[::2] + events[1::2] + events):
        latest: dict[str, CaseOutcomeRecorded] = {}
        for event in ordering:
            if (
                event.outcome_id not in latest
                or event.recorded_at > latest[event.outcome_id].recorded_at
            ):
                latest[event.outcome_id] = event
        counting = [e for e in latest.values() if not e.withdrawn]
        assert {
            "people_employed": sum(e.people_employed() for e in counting),
            "supplier_agreements": sum(e.supplier_agreements for e in counting),
            "rsv": any(e.rsv_registration_helped for e in counting),
        } == expected
    # The case page's totals say the same from the stored versions.
    stored: list[OutcomeRecord] = []
    for n, event in enumerate(events):
        stored = replaced(stored, outcome_record(event, f"e{n}", "Ane"))
    sums = totals(stored)
    assert (sums["people_employed"], sums["supplier_agreements"]) == (3, 0)
    assert sums["rsv_registration_helped"] == 1
    withdrawal = events[-1]
    assert withdrawal.withdrawn
    assert withdrawal.occurred_on == TODAY
    assert withdrawal.people_employed() == 0
    assert not withdrawal.rsv_registration_helped


def test_the_timeline_says_what_was_recorded_corrected_and_withdrawn() -> None:
    outcome = Outcome(occurred_on=TODAY, wage_subsidy_hires=2, flex_jobs=1, social_clauses=1)
    event = outcome_recorded(CASE, "o-1", outcome, None, "ane-kjaer", NOW)
    assert timeline.outcome_recorded(event, "e", "recorded", "Ane Kjær")["text"] == (
        "Ane Kjær har registreret social værdi for 2. december 2026: 2 ansat med løntilskud, "
        "1 ansat i fleksjob, 1 kontrakt med sociale klausuler vundet."
    )
    assert (
        "rettet registreringen af"
        in timeline.outcome_recorded(event, "e", "corrected", "A")["text"]
    )
    gone = outcome_recorded(CASE, "o-1", None, TODAY, "ane-kjaer", NOW)
    assert timeline.outcome_recorded(gone, "e", "withdrawn", "Ane")["text"] == (
        "Ane har trukket registreringen af social værdi for 2. december 2026 tilbage."
    )
    assert outcome_summary({"rsv_registration_helped": True}) == "hjulpet til RSV-registrering"


def test_the_outcome_form_reads_counts_and_names_every_wrong_field() -> None:
    outcome = forms.parse_outcome(
        {"wage_subsidy_hires": " 2 ", "flex_jobs": "", "rsv_registration_helped": "1"}, TODAY
    )
    assert outcome == Outcome(occurred_on=TODAY, wage_subsidy_hires=2, rsv_registration_helped=True)
    with pytest.raises(FieldErrors) as wrong:
        forms.parse_outcome(
            {"flex_jobs": "to", "social_clauses": "-1", "occurred_on": "2. dec"}, TODAY
        )
    assert set(wrong.value.errors) == {"flex_jobs", "social_clauses", "occurred_on"}
    assert isinstance(wrong.value, InvalidInput)  # the console shows it as any refusal


# --- RSV readiness ---------------------------------------------------------------------------


def test_the_five_criteria_of_paragraph_5_in_plain_danish() -> None:
    assert [c.code for c in CRITERIA] == list(RsvCriterion)
    assert [c.title for c in CRITERIA] == [
        "Socialt formål",
        "Væsentlig erhvervsvirksomhed",
        "Uafhængig af det offentlige",
        "Inddragende og ansvarlig i sit virke",
        "Social håndtering af overskud",
    ]
    assert all(c.explanation.endswith(".") for c in CRITERIA)


def test_a_change_says_what_changed_and_the_event_carries_the_whole_checklist() -> None:
    met = {c: RsvCriterionStatus.MET for c in ALL}
    readiness, changes = changed_readiness(
        None,
        {RsvCriterion.SOCIAL_PURPOSE: RsvCriterionStatus.MET},
        {RsvCriterion.INDEPENDENCE: "Kommunen ejer 10 %; tjek vedtægterne."},
        None,
        today=TODAY,
        by="ane-kjaer",
        now=NOW,
    )
    assert changes == [
        "Socialt formål: opfyldt (før: ved ikke)",
        "note til »Uafhængig af det offentlige« rettet",
    ]
    event = rsv_readiness_changed(CASE, readiness)
    assert set(event.criteria) == ALL
    assert event.criteria[RsvCriterion.SOCIAL_PURPOSE] is RsvCriterionStatus.MET
    assert event.criteria[RsvCriterion.INDEPENDENCE] is RsvCriterionStatus.UNKNOWN
    assert not event.ready
    assert not event.registered
    assert event.registered_on is None
    assert met_count(readiness) == 1

    # The same again: nothing changed, nothing to publish.
    _, again = changed_readiness(
        readiness,
        {RsvCriterion.SOCIAL_PURPOSE: RsvCriterionStatus.MET},
        {},
        None,
        today=TODAY,
        by="ane-kjaer",
        now=NOW,
    )
    assert again == []

    ready, changes = changed_readiness(
        readiness, met, {}, TODAY, today=TODAY, by="ane-kjaer", now=NOW + timedelta(hours=1)
    )
    assert is_ready(ready["criteria"])
    assert changes[-1] == "registreret som RSV 2. december 2026"
    event = rsv_readiness_changed(CASE, ready)
    assert event.ready
    assert event.registered
    assert event.registered_on == TODAY
    entry = timeline.rsv_changed(event, "e", changes, "Ane Kjær")
    assert entry["text"].startswith("Ane Kjær har ændret RSV-tjeklisten: Væsentlig")
    assert entry["text"].endswith("virksomheden er klar til at søge registrering.")
    # Criteria not named keep theirs (the API's partial change).
    kept, _ = changed_readiness(
        ready, {}, {RsvCriterion.INDEPENDENCE: ""}, TODAY, today=TODAY, by="a", now=NOW
    )
    assert kept["criteria"] == ready["criteria"]
    assert kept["notes"]["independence"] == ""


def test_a_registration_in_the_future_or_a_long_note_is_refused_by_field() -> None:
    with pytest.raises(FieldErrors) as wrong:
        changed_readiness(
            None,
            {},
            {RsvCriterion.SOCIAL_PROFIT_HANDLING: "x" * 2001},
            TODAY + timedelta(days=1),
            today=TODAY,
            by="a",
            now=NOW,
        )
    assert set(wrong.value.errors) == {"note_social_profit_handling", "registered_on"}


def test_the_rsv_form_needs_a_status_for_every_criterion_and_a_date_when_registered() -> None:
    fields = {f"status_{c.code.value}": "met" for c in CRITERIA}
    statuses, notes, registered_on = forms.parse_rsv_readiness(
        {**fields, "note_independence": " Ingen kommunal ejer. ", "registered_on": "2026-12-01"}
    )
    assert set(statuses) == ALL
    assert registered_on is None
    assert notes[RsvCriterion.INDEPENDENCE] == " Ingen kommunal ejer. "
    _, _, registered_on = forms.parse_rsv_readiness(
        {**fields, "registered": "1", "registered_on": "2026-12-01"}
    )
    assert registered_on == date(2026, 12, 1)
    with pytest.raises(FieldErrors) as wrong:
        forms.parse_rsv_readiness(
            {**fields, "status_independence": "maybe", "registered": "1", "registered_on": ""}
        )
    assert set(wrong.value.errors) == {"status_independence", "registered_on"}


def test_the_checklists_notes_go_with_the_personal_data_and_its_statuses_stay() -> None:
    readiness, _ = changed_readiness(
        None,
        {RsvCriterion.INDEPENDENCE: RsvCriterionStatus.NOT_YET},
        {RsvCriterion.INDEPENDENCE: "Jens Hansen fra kommunen sidder i bestyrelsen."},
        None,
        today=TODAY,
        by="ane-kjaer",
        now=NOW,
    )
    fields = anonymised_fields({**CASE, "organisation_key": "cvr:35954716", "rsv": readiness})
    assert fields["rsv"]["notes"]["independence"] == ANONYMISED
    assert fields["rsv"]["notes"]["social_purpose"] == ""
    assert fields["rsv"]["criteria"] == readiness["criteria"]
    assert "outcomes" not in fields  # counts only: kept for the reports
