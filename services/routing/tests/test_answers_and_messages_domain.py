"""Issue 13 (points 3, 5, 6) on the pure domain: late referrals, answers recorded on a
department's behalf, what the enterprise is told when a case closes, writing to it and
correcting its contact person's details. No store, no clock but the one given."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from indgang_contracts.events import (
    Department,
    ReferralOutcome,
    ReferralStatus,
)
from indgang_routing.domain import timeline
from indgang_routing.domain.case import (
    closing_choice,
    closing_message,
    corrected_contact,
    message_to_enterprise,
    normalised_phone,
    referral_overdue,
)
from indgang_routing.domain.errors import InvalidInput
from indgang_routing.domain.referrals import (
    check_answered_on,
    check_response_due,
    due_on,
    is_late,
    late_referrals,
    referral_updated,
    watched_day,
)
from indgang_routing.domain.search import CaseFilters, has_late_answer, matches
from indgang_routing.web.forms import parse_recorded_answer

TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
CONTACT = {
    "name": "Aase Holm",
    "email": "aase@kaffeogomsorg.example",
    "phone": "+4512345678",
    "preferred_language": "da",
}


def referral(status: str = "sent", due: str | None = "2026-12-02", **more: Any) -> dict[str, Any]:
    return {
        "id": f"r-{status}-{due}",
        "target": {"department": "job_centre", "provider_id": None},
        "target_name": "Jobcentret",
        "status": status,
        "response_due": due,
        "made_at": datetime(2026, 11, 20, 10, tzinfo=UTC),
        **more,
    }


def case(*referrals: dict[str, Any], status: str = "in_progress", **more: Any) -> dict[str, Any]:
    return {
        "_id": "c-1",
        "municipality_code": "756",
        "reference": "H-ABCDEFGH",
        "organisation": {"name": "Kaffe & Omsorg ApS", "cvr": "35954716", "stage": "operating"},
        "consultant": {
            "id": "ane-kjaer",
            "name": "Ane Kjær",
            "email": "ane.kjaer@ikast-brande.example",
            "phone": None,
        },
        "contact": dict(CONTACT),
        "status": status,
        "referrals": list(referrals),
        "first_contact": {"channel": "phone", "at": NOW, "by": "ane-kjaer"},
        **more,
    }


# --- late referrals ("Forsinket svar") ---------------------------------------------------


def test_a_referral_is_late_only_while_unanswered_after_its_deadline() -> None:
    assert is_late(referral("sent", "2026-12-02"), TODAY)
    assert not is_late(referral("sent", "2026-12-03"), TODAY)  # due today: not yet
    assert not is_late(referral("sent", None), TODAY)  # no deadline
    assert not is_late(referral("accepted", "2026-12-01"), TODAY)  # answered: cleared
    assert not is_late(referral("completed", "2026-12-01"), TODAY)
    late = referral("sent", "2026-12-01")
    assert late_referrals(case(late, referral("accepted", "2026-12-01")), TODAY) == [late]


def test_the_watch_holds_the_deadline_of_each_unanswered_referral() -> None:
    assert watched_day(referral("sent", "2026-12-05")) == "2026-12-05"
    assert watched_day(referral("accepted", "2026-12-05")) is None
    assert watched_day(referral("sent", None)) is None
    two = case(referral("sent", "2026-12-02"), referral("declined", "2026-12-02"))
    assert [i for i, _ in due_on(two, "2026-12-02")] == [0]


def test_a_deadline_is_today_or_later_when_the_referral_is_made() -> None:
    check_response_due(TODAY, TODAY)
    check_response_due(None, TODAY)
    with pytest.raises(InvalidInput, match="fortiden"):
        check_response_due(date(2026, 12, 2), TODAY)


def test_late_answers_in_the_search_filter_only_on_open_cases() -> None:
    late = case(referral("sent", "2026-12-01"))
    assert has_late_answer(late, TODAY)
    assert matches(late, CaseFilters(late_answer=True), TODAY)
    assert not has_late_answer({**late, "status": "closed"}, TODAY)
    assert not matches(case(referral("sent", "2026-12-09")), CaseFilters(late_answer=True), TODAY)


def test_the_overdue_event_names_the_target_and_the_consultant() -> None:
    late = referral("sent", "2026-12-01")
    event = referral_overdue(case(late), late, NOW)  # type: ignore[arg-type]
    assert (event.referral_id, event.target_name, event.response_due) == (
        late["id"],
        "Jobcentret",
        date(2026, 12, 1),
    )
    assert event.target.department is Department.JOB_CENTRE
    assert event.consultant.id == "ane-kjaer"
    assert "Forsinket svar: Jobcentret" in timeline.referral_overdue(event, "e-1")["text"]


# --- an answer recorded on the department's behalf ---------------------------------------


def test_a_recorded_answer_is_the_targets_with_who_recorded_it() -> None:
    sent = referral("sent", "2026-12-10")
    update = referral_updated(
        case(sent),
        sent,
        status=ReferralStatus.ACCEPTED,
        reason=None,
        outcome=None,
        answered_at=NOW,
        recorded_by="ane-kjaer",
    )
    assert update.answered_by is Department.JOB_CENTRE
    assert update.answered_by_provider_id is None
    assert update.recorded_by == "ane-kjaer"
    assert update.reference == "H-ABCDEFGH"
    assert update.consultant is not None
    assert update.consultant.id == "ane-kjaer"
    entry = timeline.referral_answered(update, "e-1", "Jobcentret", "Ane Kjær")
    assert entry["text"] == (
        "Jobcentret har accepteret henvisningen. Registreret af Ane Kjær på vegne af "
        "Jobcentret (svaret givet 3. december 2026)."
    )
    assert entry["by"] == "ane-kjaer"


def test_an_outside_providers_answer_names_the_provider() -> None:
    sent = referral(
        "sent", None, target={"department": "outside_provider", "provider_id": "mentorhuset"}
    )
    update = referral_updated(
        case(sent),
        sent,
        status=ReferralStatus.DECLINED,
        reason=" Ingen plads før marts. ",
        outcome=None,
        answered_at=NOW,
    )
    assert update.answered_by is Department.OUTSIDE_PROVIDER
    assert update.answered_by_provider_id == "mentorhuset"
    assert update.reason == "Ingen plads før marts."
    assert update.recorded_by is None


def test_an_incomplete_answer_is_refused_in_danish() -> None:
    sent = referral()
    with pytest.raises(InvalidInput, match="begrundelsen"):
        referral_updated(
            case(sent), sent, status=ReferralStatus.DECLINED, reason=" ", outcome=None,
            answered_at=NOW,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="kom ud af"):
        referral_updated(
            case(sent), sent, status=ReferralStatus.COMPLETED, reason=None, outcome=None,
            answered_at=NOW,
        )  # fmt: skip


def test_the_day_of_a_recorded_answer() -> None:
    made = date(2026, 11, 20)
    check_answered_on(TODAY, TODAY, made)
    check_answered_on(made, TODAY, made)
    with pytest.raises(InvalidInput, match="fremtiden"):
        check_answered_on(date(2026, 12, 4), TODAY, made)
    with pytest.raises(InvalidInput, match="før henvisningen"):
        check_answered_on(date(2026, 11, 19), TODAY, made)


def test_the_recorded_answer_form() -> None:
    empty = dict(
        reason="", summary="", wage_subsidy_hires="", work_placements="", flex_jobs="",
        other_hires="",
    )  # fmt: skip
    assert parse_recorded_answer(status="accepted", **empty) == (
        ReferralStatus.ACCEPTED,
        None,
        None,
    )
    with pytest.raises(InvalidInput, match="Vælg svaret"):
        parse_recorded_answer(status="", **empty)
    with pytest.raises(InvalidInput, match="Vælg svaret"):
        parse_recorded_answer(status="sent", **empty)
    with pytest.raises(InvalidInput, match="begrundelsen"):
        parse_recorded_answer(status="declined", **empty)
    completed = {**empty, "summary": "To ansat.", "wage_subsidy_hires": "2"}
    assert parse_recorded_answer(status="completed", **completed) == (
        ReferralStatus.COMPLETED,
        None,
        ReferralOutcome(summary="To ansat.", wage_subsidy_hires=2),
    )
    with pytest.raises(InvalidInput, match="helt tal"):
        parse_recorded_answer(status="completed", **{**completed, "flex_jobs": "to"})
    with pytest.raises(InvalidInput, match="negativt"):
        parse_recorded_answer(status="completed", **{**completed, "flex_jobs": "-1"})


# --- closing, writing to the enterprise, its contact person -------------------------------


def test_closing_tells_the_enterprise_why_unless_the_consultant_chooses_not_to() -> None:
    assert closing_choice("  I har fået svar. ", tell=True) == "I har fået svar."
    assert closing_choice("", tell=False) is None
    with pytest.raises(InvalidInput, match="Send ikke besked"):
        closing_choice(" ", tell=True)
    with pytest.raises(InvalidInput, match="samtidig"):
        closing_choice("Hej", tell=False)
    assert closing_message(case(), None) is None  # type: ignore[arg-type]
    assert closing_message(case(), "Hej") == "Hej"  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ingen e-mailadresse"):
        closing_message(case(contact={"name": "[anonymiseret]", "email": None}), "Hej")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="1000"):
        closing_message(case(), "x" * 1001)  # type: ignore[arg-type]


def test_a_message_goes_to_the_contact_person_and_needs_an_e_mail() -> None:
    event = message_to_enterprise(case(), "m-1", " Jeres ansøgning ", " Hej Aase. ", NOW)  # type: ignore[arg-type]
    assert (event.subject_line, event.body) == ("Jeres ansøgning", "Hej Aase.")
    assert event.contact.email == CONTACT["email"]
    assert event.consultant.id == "ane-kjaer"
    entry = timeline.message_to_enterprise(event, "e-1", "ane-kjaer")
    assert entry["text"].startswith("Besked sendt til Aase Holm (aase@kaffeogomsorg.example)")
    with pytest.raises(InvalidInput, match="emne"):
        message_to_enterprise(case(), "m-1", " ", "Hej", NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="Skriv beskeden"):
        message_to_enterprise(case(), "m-1", "Emne", "", NOW)  # type: ignore[arg-type]
    gone = case(contact={"name": "[anonymiseret]", "email": None})
    with pytest.raises(InvalidInput, match="ingen e-mailadresse"):
        message_to_enterprise(gone, "m-1", "Emne", "Hej", NOW)  # type: ignore[arg-type]


def test_correcting_the_contact_says_which_fields_changed() -> None:
    contact, changed = corrected_contact(
        CONTACT, name="Aase Holm", email="aase@nyt.example", phone="12 34 56 78", language="en"
    )
    assert changed == ["e-mail", "sprog"]
    assert contact.phone == "+4512345678"
    _, changed = corrected_contact(
        CONTACT, name="Åse Holm", email=CONTACT["email"], phone="", language="da"
    )
    assert changed == ["navn", "telefon"]
    with pytest.raises(InvalidInput, match="intet er ændret"):
        corrected_contact(
            CONTACT, name="Aase Holm", email=CONTACT["email"], phone="+45 12345678", language="da"
        )
    with pytest.raises(InvalidInput, match="E-mailadressen"):
        corrected_contact(CONTACT, name="Aase", email="ikke-en-mail", phone="", language="da")
    with pytest.raises(InvalidInput, match="navn"):
        corrected_contact(CONTACT, name=" ", email=CONTACT["email"], phone="", language="da")
    with pytest.raises(InvalidInput, match="sproget"):
        corrected_contact(CONTACT, name="Aase", email=CONTACT["email"], phone="", language="de")


def test_phone_numbers_are_stored_as_intake_stores_them() -> None:
    assert normalised_phone("12 34 56 78") == "+4512345678"
    assert normalised_phone("0046 70 123 45 67") == "+46701234567"
    assert normalised_phone("+45 12-34-56-78") == "+4512345678"
    assert normalised_phone("  ") is None
    with pytest.raises(InvalidInput, match="Telefonnummeret"):
        normalised_phone("1234")
