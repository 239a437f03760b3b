"""From an HTTP POST to case-routed on Kafka and e-mails in a real SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from asyncapi_records import assert_records_match_contracts

from harness import EventLog, SmtpServer, eventually
from pytest_indgang import System

# A new organisation every run (no CVR, a fresh e-mail), so the routing policy
# decides by expertise rather than by continuity with an earlier test's case.
INQUIRY: dict[str, Any] = {
    "organisation": {"name": "Kaffe & Omsorg ApS", "stage": "start_up"},
    "contact": {
        "name": "Åse Ødegård",
        "email": f"aase.e2e.{uuid.uuid4().hex[:8]}@kaffeogomsorg.example",
        "phone": "+45 20 30 40 50",
        "preferred_language": "da",
    },
    "needs": ["hiring_vulnerable_unemployed", "rsv_registration"],
    "description": "Vi driver en café og vil ansætte to personer i løntilskud. Æøå!",
    "privacy_notice_accepted": True,
}


async def test_inquiry_is_routed_referred_and_mailed(system: System, smtp: SmtpServer) -> None:
    async with (
        EventLog(system.bootstrap, system.topic("indgang.case-routed.v1")) as routed,
        EventLog(system.bootstrap, system.topic("indgang.referral-made.v1")) as referrals,
        httpx.AsyncClient(timeout=10) as http,
    ):
        response = await http.post(f"{system.url('intake')}/api/v1/inquiries", json=INQUIRY)
        assert response.status_code == 202, response.text
        accepted = response.json()
        inquiry_id = accepted["inquiry_id"]
        assert accepted["reference"].startswith("H-")

        # An independent consumer sees case-routed with one consultant and a reason.
        event = await routed.wait_for(lambda e: e.data.inquiry_id == inquiry_id)
        assert event.type == "dk.indgang.case-routed.v1"
        assert event.data.consultant.id == "ane-kjaer"  # covers both needs in the team file
        assert event.data.reason.value == "expertise"
        case_id = event.data.case_id

        # Routing's case API is for staff: sign in as the case's consultant.
        signed_in = await http.post(
            f"{system.url('routing')}/auth/login",
            data={"username": "ane-kjaer", "password": "indgang-dev"},
        )
        assert signed_in.status_code == 303
        # A program calling the API with the session cookie sends its CSRF token.
        session = (await http.get(f"{system.url('routing')}/auth/session")).json()
        http.headers["X-CSRF-Token"] = session["csrf_token"]
        case = (await http.get(f"{system.url('routing')}/api/v1/cases/{case_id}")).json()
        assert case["consultant"]["id"] == "ane-kjaer"
        assert case["organisation"]["name"] == "Kaffe & Omsorg ApS"

        referral = await http.post(
            f"{system.url('routing')}/api/v1/cases/{case_id}/referrals",
            json={
                "department": "job_centre",
                "purpose": "Afklaring af løntilskud til to ledige.",
                "needs": ["hiring_vulnerable_unemployed"],
                "response_due": "2026-12-14",
                "consent_to_share_contact": True,
            },
        )
        assert referral.status_code == 201, referral.text
        referral_id = referral.json()["referral_id"]
        made = await referrals.wait_for(lambda e: e.data.referral_id == referral_id)
        assert made.data.contact.email == INQUIRY["contact"]["email"]
        assert made.data.consultant.id == "ane-kjaer"
        # Every record this flow published matches asyncapi.json and the JSON Schemas (the
        # topics are shared with the session's other tests, some of which publish poison on
        # purpose: only this case's records, keyed by its id, are checked).
        ours = [r for r in [*routed.records, *referrals.records] if r.key == case_id.encode()]
        checked = assert_records_match_contracts(ours, prefix=system.topic(""))
        assert checked >= 2

        # Each party gets its mail, exactly once.
        await eventually(lambda: _found(smtp, INQUIRY["contact"]["email"], accepted["reference"]))
        await eventually(lambda: _found(smtp, "ane.kjaer@kommune.example", accepted["reference"]))
        await eventually(lambda: _found(smtp, "jobcenter@kommune.example", accepted["reference"]))
        await asyncio.sleep(2)  # time for any duplicate to arrive
        # Exactly once: the receipt and the consultant's notice each arrive once, and
        # no message (by its stable Message-ID) arrives twice to anyone.
        assert len(smtp.to(INQUIRY["contact"]["email"], "modtaget")) == 1
        assert len(smtp.to("ane.kjaer@kommune.example", accepted["reference"])) == 1
        assert len(smtp.to("jobcenter@kommune.example", accepted["reference"])) == 1
        ids = [str(m["Message-ID"]) for m in smtp.received if accepted["reference"] in str(m)]
        assert len(ids) == len(set(ids)), "a message was sent twice"

        body = smtp.to(INQUIRY["contact"]["email"], "modtaget")[0]
        text = body.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "Åse Ødegård" in text
        assert accepted["reference"] in text


async def _found(smtp: SmtpServer, address: str, reference: str) -> list[Any]:
    return smtp.to(address, reference)
