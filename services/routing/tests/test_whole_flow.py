"""The issue's "done when", on the four services as processes (the `system` fixture):
an inquiry from the public API reaches the right consultant's console with its
reason; a referral to the job centre reaches the job centre (its referral-made
event and its mailbox, through notifications); the job centre's answer through
the department API appears on the case."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from harness import EventLog, SmtpServer, eventually
from pytest_indgang import System


async def test_inquiry_to_console_referral_and_answer(system: System, smtp: SmtpServer) -> None:
    email = f"flow.{uuid.uuid4().hex[:8]}@vaerksted.example"
    inquiry: dict[str, Any] = {
        "organisation": {"name": "Værkstedet på Hjørnet", "stage": "idea"},
        "contact": {"name": "Søren Ørum", "email": email, "preferred_language": "da"},
        "needs": ["selling_to_municipality", "funding_and_support"],
        "description": "Vi vil sælge reparationer til kommunen og søger støtte.",
        "privacy_notice_accepted": True,
    }
    routing = system.url("routing")
    async with (
        EventLog(system.bootstrap, system.topic("indgang.case-routed.v1")) as routed,
        EventLog(system.bootstrap, system.topic("indgang.referral-made.v1")) as referrals,
        httpx.AsyncClient(timeout=10) as public,
        httpx.AsyncClient(base_url=routing, timeout=10) as console,
    ):
        accepted = await public.post(f"{system.url('intake')}/api/v1/inquiries", json=inquiry)
        assert accepted.status_code == 202, accepted.text
        reference = accepted.json()["reference"]
        event = await routed.wait_for(lambda e: e.data.reference == reference)
        consultant = event.data.consultant.id
        assert consultant == "bjarne-holm"  # selling to the municipality and funding: his
        case_id = event.data.case_id

        login = await console.post(
            "/auth/login", data={"username": consultant, "password": "indgang-dev"}
        )
        assert login.status_code == 303
        # Programs calling with the session cookie send its CSRF token (issue 12).
        token = (await console.get("/auth/session")).json()["csrf_token"]
        console.headers["X-CSRF-Token"] = token
        mine = (await console.get("/sager")).text
        assert reference in mine
        page = (await console.get(f"/sager/{case_id}")).text
        assert "Ekspertise:" in page
        assert event.data.explanation in page

        referred = await console.post(
            f"/sager/{case_id}/henvisninger",
            data={
                "department": "job_centre",
                "purpose": "Kan jobcentret hjælpe med en virksomhedspraktik?",
                "needs": ["funding_and_support"],
                "response_due": (date.today() + timedelta(days=10)).isoformat(),
                "consent": "nej",
            },
        )
        assert referred.status_code == 303
        made = await referrals.wait_for(lambda e: e.data.case_id == case_id)
        assert made.data.contact is None  # no consent, no contact details

        async def mailed() -> list[Any]:
            return smtp.to("jobcenter@kommune.example", reference)

        await eventually(mailed)

        async with httpx.AsyncClient(base_url=routing, timeout=10) as job_centre:
            answer = await job_centre.post(
                f"/api/v1/referrals/{made.data.referral_id}/answer",
                headers={"X-API-Key": "dev-key-job_centre"},
                json={"status": "declined", "reason": "Ingen praktikpladser i december."},
            )
        assert answer.status_code == 200, answer.text
        page = (await console.get(f"/sager/{case_id}")).text
        assert "Jobcentret har afvist henvisningen. Begrundelse: Ingen praktikpladser" in page
