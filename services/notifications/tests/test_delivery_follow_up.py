"""Notifications as a real process on the real Kafka and store with a real SMTP server:
a follow-up on an open case (issue 13, point 4) and replies reaching the consultant
(point 5).

Sends case-routed for a new case, then case-routed for a follow-up (`follow_up`, the
case's reference in `case_reference`). Receives: the introduction (Reply-To the
consultant), "Ny sag til dig" once, then "Ny besked på din sag" for the consultant and
"har fået jeres besked" for the inquirer under the case's reference, Reply-To the
consultant; no second "Ny sag til dig"; the delivery log finds all four mails by the
case's reference.
"""

from __future__ import annotations

import asyncio
import uuid

from delivery_harness import Notifications, changed, contact, one_mail

from indgang_contracts.examples import CASE_ROUTED


async def test_a_follow_up_is_a_new_message_and_replies_go_to_the_consultant(
    notifications: Notifications,
) -> None:
    n, mail = notifications, notifications.mail
    tag = uuid.uuid4().hex[:6]
    inquirer = f"follow-{tag}@example.dk"
    consultant = {**CASE_ROUTED.model_dump()["consultant"], "email": f"ane-{tag}@kommune.example"}
    case_reference, later = f"H-{tag.upper()}", f"H-{tag.upper()}-2"
    first = changed(
        CASE_ROUTED,
        case_id=f"case-{tag}",
        inquiry_id=f"inq-{tag}",
        reference=case_reference,
        consultant=consultant,
        contact=contact(inquirer, "da"),
    )
    await n.send(first)
    intro = await one_mail(mail, inquirer, "Jeres kontakt")
    assert intro["Reply-To"] == consultant["email"]
    await one_mail(mail, consultant["email"], "Ny sag til dig")
    await n.send(
        changed(
            first,
            inquiry_id=f"inq-{tag}-2",
            reference=later,
            reason="continuity",
            follow_up=True,
            case_reference=case_reference,
        )
    )
    staff = await one_mail(mail, consultant["email"], "Ny besked på din sag")
    assert case_reference in str(staff["Subject"])
    person = await one_mail(mail, inquirer, "har fået jeres besked")
    assert case_reference in str(person["Subject"])
    assert person["Reply-To"] == consultant["email"]
    await asyncio.sleep(0.5)
    assert len(mail.to(consultant["email"], "Ny sag til dig")) == 1
    # The delivery log finds every mail of the case by the case's reference, the
    # follow-up's too, and the follow-up's mails by the new inquiry's reference.
    by_case = {d["kind"] for d in await n.deliveries(case_reference)}
    assert by_case == {"introduction", "case_assigned", "case_follow_up", "follow_up_received"}
    by_later = {d["kind"] for d in await n.deliveries(later)}
    assert by_later == {"case_follow_up", "follow_up_received"}
