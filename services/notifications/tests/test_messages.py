"""Every template renders with every event example in both languages; the right people get them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event
from indgang_contracts.examples import (
    CASE_CONTACT_CHANGED,
    CASE_ROUTED,
    CASE_STATUS_CHANGED,
    EXAMPLES,
    FIRST_CONTACT_OVERDUE,
    GUIDE_ENTRIES_SHARED,
    INQUIRY_RECEIVED,
    MESSAGE_TO_ENTERPRISE,
    REFERRAL_MADE,
    REFERRAL_OVERDUE,
    REFERRAL_UPDATED,
)
from indgang_notifications.adapters.departments import load_departments
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.domain.messages import Audience, CaseParties, plan
from indgang_notifications.domain.subscriptions import Subscription
from indgang_notifications.settings import NotificationSettings

SETTINGS = NotificationSettings()
DEPARTMENTS = load_departments(SETTINGS.departments_file)
AUDIENCE = Audience(DEPARTMENTS)
TEMPLATES = MessageTemplates(
    SETTINGS.templates_dir,
    {
        "municipality_name": "Ikast-Brande Kommune",
        "routing_url": "http://routing.example",
        "first_contact_working_days": SETTINGS.first_contact_working_days,
    },
)
PARTIES = CaseParties(CASE_ROUTED.case_id, CASE_ROUTED.consultant, CASE_ROUTED.contact)
LANGUAGES = ("da", "en")
E = TypeVar("E", bound=Event)


def changed(event: E, **updates: Any) -> E:
    """A validated copy (model_copy would skip validation)."""
    return type(event).model_validate({**event.model_dump(), **updates})


def envelope(event: Event, event_id: str = "evt-1") -> Envelope[Event]:
    return Envelope(
        id=event_id,
        type=event.ce_type(),
        source="/test",
        time=datetime.now(UTC),
        subject=event.subject(),
        data=event,
    )


def texts(event: Event, kind: str, language: str, parties: CaseParties | None = PARTIES) -> Any:
    (message,) = [m for m in plan(envelope(event), AUDIENCE, parties).messages if m.kind == kind]
    return TEMPLATES.render(kind, language, message.context)


def test_every_kind_exists_in_danish_and_english() -> None:
    kinds = TEMPLATES.kinds()
    assert set(kinds) == {
        "receipt",
        "introduction",
        "case_assigned",
        "case_reassigned",
        "referral",
        "referral_notice",
        "first_contact_overdue",
        "overdue_team_lead",
        "guide_entries",
        "case_follow_up",
        "follow_up_received",
        "referral_answered",
        "referral_answer_notice",
        "referral_overdue",
        "message_to_enterprise",
        "case_closed",
    }
    assert all(sorted(languages) == ["da", "en"] for languages in kinds.values())


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.EVENT_NAME)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_example_renders_in_both_languages(event: Event, language: str) -> None:
    for message in plan(envelope(event), AUDIENCE, PARTIES).messages:
        rendered = TEMPLATES.render(message.kind, language, message.context)
        assert rendered.subject
        assert "{{" not in rendered.text
        assert "{%" not in rendered.text
        assert f'<html lang="{language}">' in rendered.html
        assert "<p>" in rendered.html


def test_who_gets_what() -> None:
    def recipients(event: Event, parties: CaseParties | None = PARTIES) -> set[tuple[str, str]]:
        return {(m.kind, m.recipient) for m in plan(envelope(event), AUDIENCE, parties).messages}

    inquirer = "aase@kaffeogomsorg.example"
    assert recipients(INQUIRY_RECEIVED) == {("receipt", inquirer)}
    assert recipients(CASE_ROUTED, None) == {
        ("introduction", inquirer),
        ("case_assigned", "ane.kjaer@kommune.example"),
    }
    assert recipients(REFERRAL_MADE) == {
        ("referral", "jobcenter@kommune.example"),
        ("referral_notice", inquirer),
    }
    assert recipients(FIRST_CONTACT_OVERDUE) == {
        ("first_contact_overdue", "ane.kjaer@kommune.example"),
        ("overdue_team_lead", "teamleder@kommune.example"),
    }
    assert recipients(GUIDE_ENTRIES_SHARED) == {("guide_entries", inquirer)}


def test_introduction_names_the_one_contact_in_the_inquirers_language() -> None:
    english = changed(
        CASE_ROUTED, contact={**CASE_ROUTED.model_dump()["contact"], "preferred_language": "en"}
    )
    (intro,) = [
        m for m in plan(envelope(english), AUDIENCE, None).messages if m.kind == "introduction"
    ]
    assert intro.language == "en"
    text = TEMPLATES.render("introduction", "en", intro.context).text
    assert "Ane Kjær is your one contact" in text
    assert "+45 96 60 10 01" in text
    assert "ane.kjaer@kommune.example" in text
    assert "3 December 2026" in text
    da = texts(CASE_ROUTED, "introduction", "da").text
    assert "Ane Kjær er jeres ene kontakt" in da
    assert "3. december 2026" in da


def test_consultant_hears_why_and_team_lead_hears_overdue() -> None:
    assigned = texts(CASE_ROUTED, "case_assigned", "da")
    assert "faglig match" in assigned.text
    assert "Ane Kjær dækker flest af behovene" in assigned.text
    assert "ansættelse af ledige med støtte" in assigned.text
    lead = texts(FIRST_CONTACT_OVERDUE, "overdue_team_lead", "da")
    assert "H-7K3M9Q2P" in lead.subject
    assert "3. december 2026" in lead.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_mails_link_to_the_case_page_in_the_console_not_the_api(language: str) -> None:
    new = {"id": "bjarne-holm", "name": "Bjarne Holm", "email": "bjarne.holm@kommune.example"}
    moved = changed(
        CASE_ROUTED, consultant=new, previous_consultant_id="ane-kjaer", reason="manual"
    )
    for event, kind in (
        (CASE_ROUTED, "case_assigned"),
        (moved, "case_reassigned"),
        (FIRST_CONTACT_OVERDUE, "first_contact_overdue"),
        (FIRST_CONTACT_OVERDUE, "overdue_team_lead"),
    ):
        text = texts(event, kind, language).text
        assert f"http://routing.example/sager/{event.case_id}" in text, kind
        assert "/api/" not in text, kind


def test_reassignment_tells_the_former_consultant_and_introduces_the_new_one() -> None:
    new = {"id": "bjarne-holm", "name": "Bjarne Holm", "email": "bjarne.holm@kommune.example"}
    moved = changed(
        CASE_ROUTED, consultant=new, previous_consultant_id="ane-kjaer", reason="manual"
    )
    messages = plan(envelope(moved), AUDIENCE, PARTIES).messages
    assert {(m.kind, m.recipient) for m in messages} == {
        ("introduction", "aase@kaffeogomsorg.example"),
        ("case_assigned", "bjarne.holm@kommune.example"),
        ("case_reassigned", "ane.kjaer@kommune.example"),
    }
    intro = texts(moved, "introduction", "da")
    assert intro.subject.startswith("I har fået en ny kontakt: Bjarne Holm")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_follow_up_is_a_new_message_on_the_case_not_a_new_case(language: str) -> None:
    follow_up = changed(
        CASE_ROUTED,
        reference="H-2026-FOLLOWUP",
        case_reference=CASE_ROUTED.reference,
        follow_up=True,
        reason="continuity",
    )
    messages = plan(envelope(follow_up), AUDIENCE, PARTIES).messages
    assert {(m.kind, m.recipient) for m in messages} == {
        ("follow_up_received", "aase@kaffeogomsorg.example"),
        ("case_follow_up", "ane.kjaer@kommune.example"),
    }
    staff = texts(follow_up, "case_follow_up", language)
    person = texts(follow_up, "follow_up_received", language)
    new_message = {"da": "Ny besked på din sag", "en": "New message on your case"}[language]
    assert staff.subject.startswith(new_message)
    assert CASE_ROUTED.reference in staff.subject
    assert "H-2026-FOLLOWUP" in staff.text
    # One reference for the enterprise: the case's, and no new first-contact promise.
    assert CASE_ROUTED.reference in person.subject
    assert "H-2026-FOLLOWUP" not in person.text
    assert "Ane Kjær" in person.subject
    for text in (staff.text, person.text):
        assert "Ny sag" not in text
        assert "New case" not in text
        assert "senest" not in text
        assert " by " not in text


def test_receipt_says_what_the_municipality_cannot_do() -> None:
    text = texts(INQUIRY_RECEIVED, "receipt", "da").text
    assert "H-7K3M9Q2P" in text
    assert "kan ikke give direkte økonomisk støtte" in text
    assert "cannot give direct financial support" in texts(INQUIRY_RECEIVED, "receipt", "en").text


def test_referral_without_consent_has_no_contact_details_and_notice_uses_stored_contact() -> None:
    no_consent = changed(REFERRAL_MADE, consent_to_share_contact=False, contact=None)
    department = texts(no_consent, "referral", "da").text
    assert "aase@kaffeogomsorg.example" not in department
    assert "ikke givet samtykke" in department
    assert "/api/v1/referrals/a3c9e1f4-2b7d-4e8a-9f10-6c5b4a3d2e19/answer" in department
    notice = texts(no_consent, "referral_notice", "da")
    assert "Jeres kontakt er stadig Ane Kjær" in notice.text
    with_consent = texts(REFERRAL_MADE, "referral", "en").text
    assert "aase@kaffeogomsorg.example" in with_consent
    assert "14 December 2026" in with_consent


def test_referral_waits_for_the_case_when_the_inquirer_is_unknown() -> None:
    no_consent = changed(REFERRAL_MADE, consent_to_share_contact=False, contact=None)
    planned = plan(envelope(no_consent), AUDIENCE, None)
    assert [m.kind for m in planned.messages] == ["referral"]
    assert planned.waiting_for


def test_guide_entries_list_each_entry_with_its_link() -> None:
    text = texts(GUIDE_ENTRIES_SHARED, "guide_entries", "en").text
    assert "Registrering som registreret socialøkonomisk virksomhed (RSV)" in text
    assert "Read the whole guide: https://erhvervsstyrelsen.dk/" in text
    assert "Her er det, vi talte om." in text
    html = texts(GUIDE_ENTRIES_SHARED, "guide_entries", "da").html
    # The link says what it leads to, not the bare address.
    url = GUIDE_ENTRIES_SHARED.entries[0].url
    title = GUIDE_ENTRIES_SHARED.entries[0].title
    assert f'<a href="{url}">Læs hele vejledningen om {title}</a>' in html


def test_subscriptions_add_webhooks_and_mailboxes_by_filter() -> None:
    subscriptions = [
        Subscription.model_validate(
            {
                "id": "jobcenter",
                "name": "Jobcentrets fagsystem",
                "event_types": ["referral-made"],
                "channel": "webhook",
                "url": "https://jc.example/hook",
                "secret": "s" * 32,
                "filters": [{"field": "target.department", "values": ["job_centre"]}],
            }
        ),
        Subscription.model_validate(
            {
                "id": "indkoeb",
                "name": "Indkøb",
                "event_types": ["referral-made"],
                "channel": "email",
                "email": "udbud@kommune.example",
                "filters": [{"field": "target.department", "values": ["procurement"]}],
            }
        ),
    ]
    audience = Audience(DEPARTMENTS, subscriptions)
    to_job_centre = plan(envelope(REFERRAL_MADE), audience, PARTIES).messages
    assert ("cloudevent", "jobcenter") in {(m.kind, m.recipient) for m in to_job_centre}
    assert "udbud@kommune.example" not in {m.recipient for m in to_job_centre}
    procurement = changed(REFERRAL_MADE, target={"department": "procurement"})
    to_procurement = {m.recipient for m in plan(envelope(procurement), audience, PARTIES).messages}
    assert "udbud@kommune.example" in to_procurement
    assert "jobcenter" not in to_procurement


def test_keys_are_stable_and_distinct() -> None:
    first = plan(envelope(CASE_ROUTED), AUDIENCE, None).messages
    again = plan(envelope(CASE_ROUTED), AUDIENCE, None).messages
    assert [m.key for m in first] == [m.key for m in again]
    assert [m.message_id for m in first] == [m.message_id for m in again]
    assert len({m.key for m in first}) == len(first)
    other_event = plan(envelope(CASE_ROUTED, "evt-2"), AUDIENCE, None).messages
    assert not {m.message_id for m in first} & {m.message_id for m in other_event}


def test_html_part_escapes_user_text() -> None:
    hostile = changed(
        INQUIRY_RECEIVED,
        organisation={
            **INQUIRY_RECEIVED.model_dump()["organisation"],
            "name": "<script>x</script>",
        },
    )
    rendered = texts(hostile, "receipt", "da")
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    from email import message_from_bytes

    from indgang_notifications.adapters.smtp import SmtpSender
    from indgang_notifications.settings import NotificationSettings

    sender = SmtpSender(NotificationSettings(mongodb_database="n", environment="development"))
    mail = sender.mail(
        sender.compose(
            "a@b.dk\r\nBcc: evil@example.com",
            "<x@indgang>",
            "Ny sag: Kaffe\r\nBcc: evil@example.com",
            "tekst",
            "<p>tekst</p>",
            "da",
        )
    )
    parsed = message_from_bytes(mail.data)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
    assert str(parsed["Subject"]).startswith("Ny sag: Kaffe")


def test_mails_to_the_enterprise_reply_to_its_consultant_and_staff_mails_do_not() -> None:
    from email import message_from_bytes

    from indgang_notifications.adapters.smtp import SmtpSender

    consultant = "ane.kjaer@kommune.example"
    follow_up = changed(CASE_ROUTED, follow_up=True, case_reference=CASE_ROUTED.reference)
    closed = changed(CASE_STATUS_CHANGED, status="closed", message_to_enterprise="Tak.")
    for event in (
        CASE_ROUTED,
        follow_up,
        REFERRAL_MADE,
        GUIDE_ENTRIES_SHARED,
        REFERRAL_UPDATED,
        REFERRAL_OVERDUE,
        MESSAGE_TO_ENTERPRISE,
        closed,
    ):
        for message in plan(envelope(event), AUDIENCE, PARTIES).messages:
            expected = consultant if message.recipient_role == "inquirer" else None
            assert message.reply_to == expected, (event.EVENT_NAME, message.kind)
    sender = SmtpSender(NotificationSettings(mongodb_database="n", environment="development"))
    mail = sender.mail(
        sender.compose("a@b.dk", "<x@indgang>", "Emne", "tekst", "<p>t</p>", "da", consultant)
    )
    assert message_from_bytes(mail.data)["Reply-To"] == consultant
    plain = sender.mail(sender.compose("a@b.dk", "<x@indgang>", "Emne", "tekst", "<p>t</p>", "da"))
    assert message_from_bytes(plain.data)["Reply-To"] is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_purpose_written_for_the_department_stays_with_the_department(language: str) -> None:
    purpose = "Intern note til jobcentret: vurdér løntilskud efter LAB § 51"
    referral = changed(REFERRAL_MADE, purpose=purpose)
    assert purpose in texts(referral, "referral", "da").text
    notice = texts(referral, "referral_notice", language)
    assert purpose not in notice.text
    assert {"da": "Hvad sker der nu", "en": "What happens next"}[language] in notice.text


# --- issue 13: every party told when a referral is answered (3), replies and closing (5),
# text for the department stays there (6), guide links (7) --------------------------------

CONSULTANT = "ane.kjaer@kommune.example"
INQUIRER = "aase@kaffeogomsorg.example"
DECLINED = changed(
    REFERRAL_UPDATED,
    status="declined",
    reason="Intern vurdering: virksomheden opfylder ikke kravene i LAB § 51",
    outcome=None,
)
ACCEPTED = changed(REFERRAL_UPDATED, status="accepted", outcome=None)


def recipients(event: Event, parties: CaseParties | None = PARTIES) -> set[tuple[str, str]]:
    return {(m.kind, m.recipient) for m in plan(envelope(event), AUDIENCE, parties).messages}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_answered_referral_tells_the_consultant_and_the_enterprise_what_happens_next(
    language: str,
) -> None:
    for event in (REFERRAL_UPDATED, DECLINED, ACCEPTED):
        messages = plan(envelope(event), AUDIENCE, PARTIES).messages
        assert {(m.kind, m.recipient, m.reply_to) for m in messages} == {
            ("referral_answered", CONSULTANT, None),
            ("referral_answer_notice", INQUIRER, CONSULTANT),
        }
    staff = texts(DECLINED, "referral_answered", language)
    assert {"da": "Svar fra Jobcentret", "en": "Answer from the job centre"}[language] in (
        staff.subject
    )
    assert "LAB § 51" in staff.text  # the department's reason is for staff
    assert f"http://routing.example/sager/{DECLINED.case_id}" in staff.text
    declined = texts(DECLINED, "referral_answer_notice", language).text
    assert "LAB § 51" not in declined
    assert "Intern vurdering" not in declined
    next_step = {
        "da": ("kan ikke hjælpe jer", "Ane Kjær, jeres konsulent, kontakter jer om andre"),
        "en": ("cannot help you", "Ane Kjær, your consultant, will contact you about other"),
    }[language]
    assert all(words in declined for words in next_step)
    accepted = texts(ACCEPTED, "referral_answer_notice", language).text
    assert {"da": "vil gerne hjælpe jer", "en": "would like to help you"}[language] in accepted
    completed = texts(REFERRAL_UPDATED, "referral_answer_notice", language)
    assert {"da": "afsluttet sin del", "en": "completed its part"}[language] in completed.text
    assert REFERRAL_UPDATED.reference in completed.subject
    # A referral accepted and later completed sends the enterprise two mails: the
    # subject says which answer each one is, so they do not look the same in the inbox.
    subjects = {
        event.status.value: texts(event, "referral_answer_notice", language).subject
        for event in (DECLINED, ACCEPTED, REFERRAL_UPDATED)
    }
    who = {"da": "Jobcentret", "en": "the job centre"}[language]
    expected = {
        "da": {
            "declined": f"Nyt i jeres sag: svar fra {who}",
            "accepted": f"Nyt i jeres sag: {who} vil gerne hjælpe jer",
            "completed": f"Nyt i jeres sag: {who} har afsluttet sin del",
        },
        "en": {
            "declined": f"News on your case: answer from {who}",
            "accepted": f"News on your case: {who} would like to help you",
            "completed": f"News on your case: {who} has completed its part",
        },
    }[language]
    references = {e.status.value: e.reference for e in (DECLINED, ACCEPTED, REFERRAL_UPDATED)}
    assert subjects == {k: f"{v} ({references[k]})" for k, v in expected.items()}
    outcome = texts(REFERRAL_UPDATED, "referral_answered", language).text
    assert REFERRAL_UPDATED.outcome is not None
    assert REFERRAL_UPDATED.outcome.summary in outcome


def test_every_mail_to_the_enterprise_says_i_and_jer_and_phone_numbers_the_danish_way() -> None:
    closed = changed(CASE_STATUS_CHANGED, status="closed", message_to_enterprise="Tak.")
    follow_up = changed(CASE_ROUTED, follow_up=True, case_reference=CASE_ROUTED.reference)
    moved = changed(
        CASE_ROUTED,
        previous_consultant_id="bjarne-holm",
        contact={**CASE_ROUTED.model_dump()["contact"], "preferred_language": "da"},
    )
    kinds = set()
    for event in (*EXAMPLES, DECLINED, ACCEPTED, closed, follow_up, moved):
        for message in plan(envelope(event), AUDIENCE, PARTIES).messages:
            if message.recipient_role != "inquirer":
                continue
            kinds.add(message.kind)
            mail = TEMPLATES.render(message.kind, "da", message.context)
            words = f" {mail.subject} {mail.text} ".replace("\n", " ").lower()
            assert " jer" in words, message.kind
            for word in (" du ", " dig ", " din ", " dit ", " dine "):
                assert word not in words, (message.kind, word)
            if "telefon" in words or "ring på" in words:
                assert "+45 96 60 10 01" in mail.text, message.kind
    assert kinds == {
        "receipt",
        "introduction",
        "follow_up_received",
        "referral_notice",
        "referral_answer_notice",
        "guide_entries",
        "message_to_enterprise",
        "case_closed",
    }


def test_an_answer_the_consultant_recorded_is_not_mailed_back_to_them() -> None:
    recorded = changed(REFERRAL_UPDATED, recorded_by="ane-kjaer")
    assert recipients(recorded) == {("referral_answer_notice", INQUIRER)}


def test_an_answer_from_before_the_consultant_was_in_the_event_uses_the_remembered_one() -> None:
    old = changed(REFERRAL_UPDATED, consultant=None, reference=None)
    assert recipients(old) == {
        ("referral_answered", CONSULTANT),
        ("referral_answer_notice", INQUIRER),
    }
    assert "Svar fra Jobcentret" in texts(old, "referral_answered", "da").subject


def test_an_answer_waits_for_the_case_when_the_enterprise_is_not_known_yet() -> None:
    planned = plan(envelope(REFERRAL_UPDATED), AUDIENCE, None)
    assert [m.kind for m in planned.messages] == ["referral_answered"]
    assert planned.waiting_for
    # A case routed without the contact: nobody to tell, nothing to wait for.
    no_contact = CaseParties(CASE_ROUTED.case_id, CASE_ROUTED.consultant, None)
    planned = plan(envelope(REFERRAL_UPDATED), AUDIENCE, no_contact)
    assert [m.kind for m in planned.messages] == ["referral_answered"]
    assert not planned.waiting_for


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_overdue_referral_reminds_the_consultant_with_a_link_to_the_case(
    language: str,
) -> None:
    assert recipients(REFERRAL_OVERDUE, None) == {("referral_overdue", CONSULTANT)}
    reminder = texts(REFERRAL_OVERDUE, "referral_overdue", language)
    assert REFERRAL_OVERDUE.reference in reminder.subject
    assert "Jobcentret" in reminder.text
    assert {"da": "14. december 2026", "en": "14 December 2026"}[language] in reminder.text
    assert f"http://routing.example/sager/{REFERRAL_OVERDUE.case_id}" in reminder.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_message_to_the_enterprise_is_sent_as_written_signed_and_replies_reach_the_consultant(
    language: str,
) -> None:
    to = changed(
        MESSAGE_TO_ENTERPRISE,
        contact={**MESSAGE_TO_ENTERPRISE.model_dump()["contact"], "preferred_language": language},
    )
    (message,) = plan(envelope(to), AUDIENCE, None).messages
    assert (message.kind, message.recipient, message.reply_to, message.language) == (
        "message_to_enterprise",
        INQUIRER,
        CONSULTANT,
        language,
    )
    mail = texts(to, "message_to_enterprise", language, None)
    case = {"da": "sag", "en": "case"}[language]
    assert mail.subject == f"Mødet om løntilskud ({case} {MESSAGE_TO_ENTERPRISE.reference})"
    assert mail.text.startswith(MESSAGE_TO_ENTERPRISE.body)
    for signature in ("Ane Kjær", CONSULTANT, "+45 96 60 10 01"):
        assert signature in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_enterprise_hears_when_its_case_is_closed_and_why(language: str) -> None:
    why = "I har fået hjælp til løntilskud, og vi har ikke hørt fra jer siden."
    closed = changed(CASE_STATUS_CHANGED, status="closed", message_to_enterprise=why)
    messages = plan(envelope(closed), AUDIENCE, PARTIES).messages
    assert {(m.kind, m.recipient, m.reply_to) for m in messages} == {
        ("case_closed", INQUIRER, CONSULTANT)
    }
    mail = texts(closed, "case_closed", language)
    assert CASE_STATUS_CHANGED.reference in mail.subject
    assert why in mail.text
    assert {"da": "altid velkomne til at skrive igen", "en": "always welcome to write again"}[
        language
    ] in mail.text
    # Not told: no line for the enterprise, not closed, or nobody to address.
    silent = changed(CASE_STATUS_CHANGED, status="closed", message_to_enterprise=None)
    assert recipients(silent) == set()
    assert recipients(changed(closed, status="waiting")) == set()
    assert recipients(closed, None) == set()


def test_a_corrected_contact_sends_nothing() -> None:
    assert recipients(CASE_CONTACT_CHANGED) == set()


def test_later_mails_go_to_the_corrected_contact() -> None:
    corrected = CaseParties(
        CASE_ROUTED.case_id, CASE_ROUTED.consultant, CASE_CONTACT_CHANGED.contact
    )
    new = CASE_CONTACT_CHANGED.contact.email
    assert ("referral_answer_notice", new) in recipients(REFERRAL_UPDATED, corrected)
    no_consent = changed(REFERRAL_MADE, consent_to_share_contact=False, contact=None)
    assert ("referral_notice", new) in recipients(no_consent, corrected)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_referral_notice_uses_the_line_for_the_enterprise_or_a_standard_line(
    language: str,
) -> None:
    assert REFERRAL_MADE.message_to_enterprise is not None
    notice = texts(REFERRAL_MADE, "referral_notice", language).text
    assert REFERRAL_MADE.message_to_enterprise in notice
    assert REFERRAL_MADE.purpose not in notice
    plain = texts(changed(REFERRAL_MADE, message_to_enterprise=None), "referral_notice", language)
    standard = {
        "da": "Ane Kjær hører fra Jobcentret og fortæller jer, hvad de kan gøre for jer.",
        "en": "Ane Kjær will hear from the job centre and tell you what they can do for you.",
    }[language]
    assert standard in plain.text
    assert REFERRAL_MADE.purpose not in plain.text


def test_messages_to_the_enterprise_and_contact_changes_are_not_offered_to_subscribers() -> None:
    for event_type in ("message-to-enterprise", "case-contact-changed"):
        with pytest.raises(ValueError, match="unknown event types"):
            Subscription.model_validate(
                {
                    "id": "fagsystem",
                    "name": "Fagsystem",
                    "event_types": [event_type],
                    "channel": "webhook",
                    "url": "https://fag.example/hook",
                    "secret": "s" * 32,
                }
            )
    Subscription.model_validate(
        {
            "id": "fagsystem",
            "name": "Fagsystem",
            "event_types": ["referral-updated", "referral-overdue"],
            "channel": "webhook",
            "url": "https://fag.example/hook",
            "secret": "s" * 32,
        }
    )


def test_a_department_named_first_in_a_sentence_keeps_its_own_capitals() -> None:
    by_csr = changed(REFERRAL_UPDATED, answered_by="csr")
    assert texts(by_csr, "referral_answer_notice", "en").text.count("The CSR function") == 1
    by_provider = changed(REFERRAL_UPDATED, answered_by="outside_provider")
    notice = texts(by_provider, "referral_answer_notice", "da").text
    assert "En ekstern samarbejdspartner har afsluttet" in notice
