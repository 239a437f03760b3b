"""Notifications as a real process on the real Kafka and store with a real SMTP server:
a case's journey after routing (issue 13, points 3, 5, 6, 11).

What each test sends and receives is in its docstring.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from delivery_harness import Notifications, changed, contact, html_of, one_mail, text_of
from pymongo import AsyncMongoClient
from test_delivery_scope import signed_in

from indgang_contracts.events import EVENT_TYPES
from indgang_contracts.examples import (
    CASE_CONTACT_CHANGED,
    CASE_ROUTED,
    CASE_STATUS_CHANGED,
    MESSAGE_TO_ENTERPRISE,
    REFERRAL_MADE,
    REFERRAL_OVERDUE,
    REFERRAL_UPDATED,
)
from indgang_notifications.domain.delivery_log import created_hour, search_terms
from indgang_notifications.domain.log_labels import KINDS, ROLES

from harness import MONGODB_URI, eventually


async def test_every_party_hears_what_happens_on_the_case_once(
    notifications: Notifications,
) -> None:
    """Sends, for one case: case-routed; referral-made with a line for the enterprise;
    referral-updated declined through the API (twice: a redelivery); referral-updated
    accepted as recorded by the consultant; referral-overdue; case-contact-changed (a new
    address); message-to-enterprise; case-status-changed closed with a line for the
    enterprise. Receives: the referral notice with that line and not the purpose; the
    declined answer once for the consultant (with the department's reason) and once for
    the enterprise (without it, "your consultant will contact you"); for the recorded
    answer only the enterprise's notice; the overdue reminder with a link to the case;
    the message as written, "(sag <reference>)" in its subject, and the closing notice
    at the corrected address; every mail to the enterprise with Reply-To the consultant;
    and the delivery log finds every mail by the case's reference."""
    n, mail = notifications, notifications.mail
    tag = uuid.uuid4().hex[:6]
    inquirer, corrected = f"journey-{tag}@example.dk", f"journey-{tag}-ny@example.dk"
    consultant = {**CASE_ROUTED.model_dump()["consultant"], "email": f"ane-{tag}@kommune.example"}
    case_id, reference = f"case-{tag}", f"H-{tag.upper()}"
    on_case = {"case_id": case_id, "reference": reference}
    routed = changed(CASE_ROUTED, **on_case, consultant=consultant, contact=contact(inquirer, "da"))
    await n.send(routed)
    await one_mail(mail, inquirer, "Jeres kontakt")

    purpose = f"Intern note {tag}: vurdér løntilskud efter LAB § 51"
    await n.send(
        changed(
            REFERRAL_MADE,
            **on_case,
            purpose=purpose,
            contact=None,
            consent_to_share_contact=False,
            consultant=consultant,
        )
    )
    notice = await one_mail(mail, inquirer, "Vi har inddraget")
    assert REFERRAL_MADE.message_to_enterprise is not None
    assert REFERRAL_MADE.message_to_enterprise in text_of(notice)
    assert purpose not in text_of(notice)

    reason = f"Begrundelse {tag} til konsulenten"
    declined = changed(
        REFERRAL_UPDATED,
        **on_case,
        status="declined",
        reason=reason,
        outcome=None,
        consultant=consultant,
    )
    await n.send(declined, event_id=f"answer-{tag}", times=2)
    answered = await one_mail(mail, consultant["email"], "Svar fra Jobcentret")
    assert reason in text_of(answered)
    assert f"/sager/{case_id}" in text_of(answered)
    told = await one_mail(mail, inquirer, "Nyt i jeres sag")
    assert reason not in text_of(told)
    assert "kontakter jer om andre muligheder" in text_of(told)

    recorded = changed(
        REFERRAL_UPDATED,
        **on_case,
        status="accepted",
        outcome=None,
        consultant=consultant,
        recorded_by="ane-kjaer",
        answered_at=REFERRAL_UPDATED.answered_at + timedelta(hours=1),
    )
    await n.send(recorded)

    async def accepted_notice() -> list[Message]:
        return [m for m in mail.to(inquirer, "Nyt i jeres sag") if "vil gerne" in text_of(m)]

    await eventually(accepted_notice)

    await n.send(changed(REFERRAL_OVERDUE, **on_case, consultant=consultant))
    overdue = await one_mail(mail, consultant["email"], "Henvisning uden svar")
    assert f"/sager/{case_id}" in text_of(overdue)

    await n.send(
        changed(
            CASE_CONTACT_CHANGED,
            **on_case,
            contact=contact(corrected, "da"),
            changed_at=datetime.now(UTC),
        )
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    try:
        contacts = client[n.process.env["MONGODB_DATABASE"]]["case_contacts"]

        async def remembered() -> bool:
            doc = await contacts.find_one({"_id": case_id})
            return doc is not None and doc["contact"]["email"] == corrected

        await eventually(remembered)
    finally:
        await client.close()

    await n.send(
        changed(
            MESSAGE_TO_ENTERPRISE,
            **on_case,
            consultant=consultant,
            contact=contact(corrected, "da"),
            body=f"Hej Åse\n\nVi ses torsdag ({tag}).",
        )
    )
    written = await one_mail(mail, corrected, f"(sag {reference})")
    assert str(written["Subject"]) == f"{MESSAGE_TO_ENTERPRISE.subject_line} (sag {reference})"
    body = text_of(written).replace("\r\n", "\n")
    assert body.startswith(f"Hej Åse\n\nVi ses torsdag ({tag}).")
    assert consultant["email"] in body  # signed by the consultant

    why = f"I har fået den hjælp, I bad om ({tag})."
    await n.send(
        changed(CASE_STATUS_CHANGED, **on_case, status="closed", message_to_enterprise=why)
    )
    closed = await one_mail(mail, corrected, "Jeres sag er lukket")
    assert why in text_of(closed)
    assert why in html_of(closed)

    for message in (notice, told, written, closed):
        assert message["Reply-To"] == consultant["email"], message["Subject"]
    await asyncio.sleep(0.5)  # a second copy of the redelivered answer would be here by now
    assert len(mail.to(consultant["email"], "Svar fra Jobcentret")) == 1
    assert len(mail.to(inquirer, "Nyt i jeres sag")) == 2  # declined, then accepted
    assert not mail.to(inquirer, "Jeres sag er lukket")
    by_reference = {(d["kind"], d["recipient"]) for d in await n.deliveries(reference)}
    assert {
        ("referral_notice", inquirer),
        ("referral_answered", consultant["email"]),
        ("referral_answer_notice", inquirer),
        ("referral_overdue", consultant["email"]),
        ("message_to_enterprise", corrected),
        ("case_closed", corrected),
    } <= by_reference


async def test_the_delivery_log_shows_no_codes_or_template_keys(
    notifications: Notifications,
) -> None:
    """Stores a delivery of every kind, to every role, for every event type, and reads the
    log page as the team lead in Danish and in English: each shows its label, and no
    template key, role code or CloudEvent type appears on the page."""
    n = notifications
    tag = uuid.uuid4().hex[:6]
    reference = f"H-LABEL-{tag.upper()}"
    now = datetime.now(UTC).replace(microsecond=0)
    event_types = sorted(EVENT_TYPES)
    roles = sorted(ROLES)
    docs = [
        {
            "_id": f"label-{tag}-{number}",
            "kind": kind,
            "channel": "webhook" if kind == "cloudevent" else "email",
            "recipient": f"modtager{number}@example.dk",
            "recipient_role": roles[number % len(roles)],
            "language": ("da", "en")[number % 2],
            "case_id": f"case-{tag}",
            "inquiry_id": None,
            "reference": reference,
            "search_terms": search_terms(f"case-{tag}", None, reference),
            "event_id": f"evt-{tag}-{number}",
            "event_type": event_types[number % len(event_types)],
            "consultant_id": "ane-kjaer",
            "subject": "Emne",
            "status": "sent",
            "attempts": 1,
            "cycle": 1,
            "errors": [],
            "next_attempt_at": None,
            "created_at": now,
            "created_hour": created_hour(now),
            "sent_at": now,
        }
        for number, kind in enumerate(sorted(KINDS))
    ]
    # Every event type and role at least once, whatever the number of kinds.
    assert len(docs) >= max(len(event_types), len(roles))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    try:
        await client[n.process.env["MONGODB_DATABASE"]]["deliveries"].insert_many(docs)
    finally:
        await client.close()
    lead = await signed_in(n, "teamleder")
    try:
        for lang in ("da", "en"):
            page = await lead.get("/leveringer", params={"q": reference, "lang": lang})
            assert page.status_code == 200
            text = page.text
            assert all(f"delivery-{d['_id']}" in text for d in docs)
            raw = [kind for kind in KINDS if "_" in kind or kind == "cloudevent"]
            raw += ["inquirer", "team_lead", "subscriber", "dk.indgang."]
            shown = re.sub(r'(id|action)="[^"]*"', "", text)  # ids and URLs are not text
            assert not [code for code in raw if code in shown], lang
            assert KINDS["case_assigned"][lang] in text
            assert ROLES["inquirer"][lang] in text
    finally:
        await lead.aclose()
