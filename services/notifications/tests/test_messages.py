"""Every template renders with every event example, in every language it exists in."""

from __future__ import annotations

import pytest

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event
from indgang_contracts.examples import CASE_ROUTED, INQUIRY_RECEIVED, REFERRAL_MADE
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.domain.messages import messages_for
from indgang_notifications.handlers.notify import load_departments
from indgang_notifications.settings import NotificationSettings

MESSAGED = (INQUIRY_RECEIVED, CASE_ROUTED, REFERRAL_MADE)
SETTINGS = NotificationSettings()
DEPARTMENTS = load_departments(SETTINGS.departments_file)
TEMPLATES = MessageTemplates(
    SETTINGS.templates_dir, {"municipality_name": "Ikast-Brande Kommune", "routing_url": "http://x"}
)


def envelope(event: Event) -> Envelope[Event]:
    from datetime import UTC, datetime

    return Envelope(
        id="evt-1",
        type=event.ce_type(),
        source="/test",
        time=datetime.now(UTC),
        subject=event.subject(),
        data=event,
    )


@pytest.mark.parametrize("event", MESSAGED, ids=lambda e: e.EVENT_NAME)
def test_every_example_renders(event: Event) -> None:
    messages = messages_for(envelope(event), DEPARTMENTS)
    assert messages
    for message in messages:
        languages = sorted(
            p.name.split(".")[1] for p in SETTINGS.templates_dir.glob(f"{message.kind}.*.txt")
        )
        assert "da" in languages
        for language in languages:
            rendered = TEMPLATES.render(message.kind, language, message.context)
            assert rendered.subject
            assert "{{" not in rendered.text
            assert "<p>" in rendered.html


def test_receipt_says_what_the_municipality_cannot_do() -> None:
    (message,) = messages_for(envelope(INQUIRY_RECEIVED), DEPARTMENTS)
    text = TEMPLATES.render("receipt", "da", message.context).text
    assert "H-7K3M9Q2P" in text
    assert "kan ikke give direkte økonomisk støtte" in text


def test_referral_without_consent_has_no_contact_details() -> None:
    no_consent = REFERRAL_MADE.model_copy(
        update={"consent_to_share_contact": False, "contact": None}
    )
    (message,) = messages_for(envelope(no_consent), DEPARTMENTS)
    assert message.recipient == "jobcenter@kommune.example"
    text = TEMPLATES.render("referral", "da", message.context).text
    assert "aase@kaffeogomsorg.example" not in text
    assert "ikke givet samtykke" in text
    with_consent = TEMPLATES.render(
        "referral", "da", messages_for(envelope(REFERRAL_MADE), DEPARTMENTS)[0].context
    ).text
    assert "aase@kaffeogomsorg.example" in with_consent


def test_html_part_escapes_user_text() -> None:
    hostile = INQUIRY_RECEIVED.model_copy(
        update={
            "organisation": INQUIRY_RECEIVED.organisation.model_copy(
                update={"name": "<script>x</script>"}
            )
        }  # type: ignore[attr-defined]
    )
    (message,) = messages_for(envelope(hostile), DEPARTMENTS)
    rendered = TEMPLATES.render("receipt", "da", message.context)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
