"""Notifications as a real process on the real Kafka and store, with a real SMTP server
(aiosmtpd) and a real HTTP receiver that verifies signatures the way the README says:
what each event makes it send, once, and the dead letter for one it cannot address.

What each test sends and receives is in its docstring.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from delivery_harness import (
    Notifications,
    accepted_by,
    at_least,
    changed,
    contact,
    html_of,
    one_mail,
    text_of,
    topic_for_name,
)

from indgang_contracts.examples import (
    CASE_ROUTED,
    FIRST_CONTACT_OVERDUE,
    GUIDE_ENTRIES_SHARED,
    INQUIRY_RECEIVED,
    REFERRAL_MADE,
)

from harness import KAFKA_BOOTSTRAP, EventLog, eventually


@pytest.mark.parametrize("language", ["da", "en"])
async def test_every_message_arrives_once_with_the_right_content(
    notifications: Notifications, language: str
) -> None:
    """Sends, per language, inquiry-received, case-routed, referral-made (to the job
    centre without consent, and to business service with consent), first-contact-overdue
    and guide-entries-shared for one inquirer who prefers `language`. Receives: the
    receipt, the introduction of the consultant, two referral notices and the guide
    entries for the inquirer (in `language`); the new-case and overdue mails for the
    consultant and the overdue mail for the team lead (Danish, the staff language); the
    referral at the job centre (Danish) and at business service (English, its setting);
    the referral CloudEvent at the job centre's webhook with a valid signature; and
    notification-delivered for each."""
    n, mail = notifications, notifications.mail
    tag = f"{language}-{uuid.uuid4().hex[:6]}"
    inquirer = f"inquirer-{tag}@example.dk"
    consultant = {**CASE_ROUTED.model_dump()["consultant"], "email": f"ane-{tag}@kommune.example"}
    case_id = f"case-{tag}"
    reference = f"H-{tag.upper()}"
    lead = f"lead-{tag}@kommune.example"
    async with EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as log:
        inquiry = await n.send(
            changed(
                INQUIRY_RECEIVED,
                inquiry_id=f"inq-{tag}",
                reference=reference,
                contact=contact(inquirer, language),
            )
        )
        routed = await n.send(
            changed(
                CASE_ROUTED,
                case_id=case_id,
                inquiry_id=f"inq-{tag}",
                reference=reference,
                consultant=consultant,
                contact=contact(inquirer, language),
            )
        )
        words = {
            "da": ("Vi har modtaget", "Jeres kontakt", "Vejledning fra", "Vi har inddraget"),
            "en": ("We have received", "Your contact", "Guidance from", "We have involved"),
        }[language]
        receipt = await one_mail(mail, inquirer, words[0])
        intro = await one_mail(mail, inquirer, words[1])
        # The referral without consent: its notice must use the contact from case-routed.
        job_centre = await n.send(
            changed(
                REFERRAL_MADE,
                case_id=case_id,
                referral_id=f"ref-jc-{tag}",
                reference=reference,
                consultant=consultant,
                consent_to_share_contact=False,
                contact=None,
            )
        )
        await n.send(
            changed(
                REFERRAL_MADE,
                case_id=case_id,
                referral_id=f"ref-bs-{tag}",
                reference=reference,
                consultant=consultant,
                target={"department": "business_service"},
                contact=contact(inquirer, language),
            )
        )
        await n.send(
            changed(
                FIRST_CONTACT_OVERDUE,
                case_id=case_id,
                reference=reference,
                consultant=consultant,
                team_lead_email=lead,
            )
        )
        await n.send(
            changed(
                GUIDE_ENTRIES_SHARED,
                case_id=case_id,
                reference=reference,
                consultant=consultant,
                contact=contact(inquirer, language),
            )
        )

        guide = await one_mail(mail, inquirer, words[2])
        notices = await eventually(lambda: at_least(mail, inquirer, words[3], 2))
        assigned = await one_mail(mail, consultant["email"], "Ny sag til dig")
        overdue = await one_mail(mail, consultant["email"], "Første kontakt er overskredet")
        lead_mail = await one_mail(mail, lead, "Overskredet første kontakt")
        jc_mail = await one_mail(mail, "jobcenter@kommune.example", reference)
        bs_mail = await one_mail(mail, "erhverv@kommune.example", reference)
        (hook,) = await eventually(lambda: accepted_by(n.receiver, job_centre.headers["ce_id"]))

        # Each arrives once, with a stable Message-ID, in the right language and content.
        await asyncio.sleep(1.5)
        assert len(mail.to(inquirer)) == 5
        assert reference in receipt["Subject"]
        if language == "da":
            assert "kan ikke give direkte økonomisk støtte" in text_of(receipt)
            # The form's words (issue 13, point 10-11): § 14, the Erhvervshus, the days.
            assert "inden for 3 arbejdsdage" in text_of(receipt)
            assert "erhvervsfremmeloven § 14" in text_of(receipt)
            assert "forretningsplan" in text_of(receipt).split("Erhvervshuset gratis")[0]
            assert "Jobcentret" in text_of(receipt)
            assert "Ane Kjær er jeres ene kontakt" in text_of(intro)
            assert all("Jeres kontakt er stadig Ane Kjær" in text_of(m) for m in notices)
            assert "Læs hele vejledningen: https://erhvervsstyrelsen.dk/" in text_of(guide)
        else:
            assert "cannot give direct financial support" in text_of(receipt)
            assert "within 3 working days" in text_of(receipt)
            assert "Business Promotion Act § 14" in text_of(receipt)
            assert "Ane Kjær is your one contact" in text_of(intro)
            assert all("Your contact stays Ane Kjær" in text_of(m) for m in notices)
            assert "Read the whole guide: https://erhvervsstyrelsen.dk/" in text_of(guide)
        assert f'lang="{language}"' in html_of(intro)
        assert intro["Content-Language"] == language
        assert "+45 96 60 10 01" in text_of(intro)
        assert "faglig match" in text_of(assigned)
        assert case_id in text_of(overdue)
        assert "Ane Kjær" in text_of(lead_mail)
        assert "ikke givet samtykke" in text_of(jc_mail)
        assert inquirer not in text_of(jc_mail)
        assert "/api/v1/referrals/ref-jc-" in text_of(jc_mail)
        assert "Referral from One entrance" in bs_mail["Subject"]
        assert f"Contact person (shared with consent): Åse Ødegård, {inquirer}" in text_of(bs_mail)
        message_ids = [m["Message-ID"] for m in mail.received if reference in str(m["Subject"])]
        assert len(message_ids) == len(set(message_ids))

        assert hook.valid
        assert hook.headers["content-type"].startswith("application/cloudevents+json")
        assert hook.event["type"] == "dk.indgang.referral-made.v1"
        assert hook.event["data"]["referral_id"] == f"ref-jc-{tag}"
        assert hook.event["data"]["contact"] is None

        # The outcomes are published, so a case timeline can say "receipt sent 10:02".
        delivered = await log.wait_for(
            lambda e: (
                e.data.event_id == inquiry.headers["ce_id"] and e.data.message_kind == "receipt"
            )
        )
        assert delivered.data.recipient_role == "inquirer"
        assert delivered.data.inquiry_id == f"inq-{tag}"
        await log.wait_for(
            lambda e: (
                e.data.event_id == routed.headers["ce_id"] and e.data.message_kind == "introduction"
            )
        )
        await log.wait_for(
            lambda e: e.data.event_id == job_centre.headers["ce_id"] and e.data.channel == "webhook"
        )


async def test_redelivered_event_sends_nothing_new(notifications: Notifications) -> None:
    """Sends the same inquiry-received record three times (as Kafka redelivers it).
    Receives one receipt, and the delivery log has one delivery for the inquiry."""
    inquirer = f"again-{uuid.uuid4().hex[:6]}@example.dk"
    inquiry = changed(
        INQUIRY_RECEIVED, inquiry_id=f"inq-{inquirer}", contact=contact(inquirer, "da")
    )
    await notifications.send(inquiry, times=3)
    await one_mail(notifications.mail, inquirer, "Vi har modtaget")
    await asyncio.sleep(2)  # room for a duplicate, if there were one
    assert len(notifications.mail.to(inquirer)) == 1
    (delivery,) = await notifications.deliveries(inquiry.inquiry_id)
    assert delivery["status"] == "sent"
    assert delivery["attempts"] == 1


async def test_unrenderable_event_goes_to_dead_letter_with_reason(
    notifications: Notifications,
) -> None:
    """Sends a referral-made to an outside provider, for which this deployment has no
    mailbox, then a valid inquiry-received. Receives the referral on the dead-letter
    topic with the reason and this consumer group; the inquiry's receipt still arrives."""
    n = notifications
    orphan = changed(
        REFERRAL_MADE, referral_id="ref-orphan", target={"department": "outside_provider"}
    )
    inquirer = f"after-dlt-{uuid.uuid4().hex[:6]}@example.dk"
    async with EventLog(KAFKA_BOOTSTRAP, n.topic("indgang.dead-letter.v1")) as dead:
        record = await n.send(orphan)
        await n.send(
            changed(INQUIRY_RECEIVED, inquiry_id=f"inq-{inquirer}", contact=contact(inquirer, "en"))
        )

        async def dead_lettered() -> dict[str, str] | None:
            for r in dead.records:
                headers = {k: v.decode() for k, v in r.headers}
                if headers.get("ce_id") == record.headers["ce_id"]:
                    return headers
            return None

        headers = await eventually(dead_lettered)
    assert "no mailbox configured for outside_provider" in headers["dlt_reason"]
    # The subscription's own group (it may carry the run's topic prefix).
    assert headers["dlt_consumer_group"].endswith("indgang-notifications.indgang.referral-made.v1")
    assert headers["dlt_original_topic"] == n.topic("indgang.referral-made.v1")
    await one_mail(n.mail, inquirer, "We have received")
