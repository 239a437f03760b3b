"""A consultant sees only the deliveries about their own cases; the team lead sees all
(issue 12, finding 6). On the real store (the log's queries and the reassignment) and
on notifications as a real process (the API with staff sessions, and the page)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from delivery_harness import Notifications, changed
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.examples import CASE_ROUTED
from indgang_notifications.adapters.deliveries import DeliveryRepository, PlannedDelivery
from indgang_notifications.adapters.delivery_log import DeliveryLog
from indgang_notifications.domain.delivery_log import created_hour, search_terms
from indgang_notifications.domain.messages import OutgoingMessage

from harness import MONGODB_URI, eventually

Db = AsyncDatabase[dict[str, Any]]


def about(case_id: str, consultant_id: str | None, recipient: str) -> PlannedDelivery:
    message = OutgoingMessage(
        f"evt-{recipient}", "introduction", "email", recipient, "inquirer", "da", case_id
    )
    content = {"subject": "Hej", "text": "Hej", "html": "<p>Hej</p>"}
    return PlannedDelivery(
        message, "dk.indgang.case-routed.v1", "756", "Hej", content, consultant_id
    )


async def test_the_log_shows_a_consultant_only_their_cases_and_follows_a_reassignment(
    fresh_db: Db,
) -> None:
    deliveries = DeliveryRepository(fresh_db)
    await deliveries.ensure_indexes()
    await deliveries.store_all(
        [
            about("case-a", "ane-kjaer", "a@example.dk"),
            about("case-b", "bjarne-holm", "b@example.dk"),
            about("case-b", "bjarne-holm", "b2@example.dk"),
        ]
    )
    log = DeliveryLog(deliveries.collection)

    async def shown(
        consultant: str | None, q: str | None = None, status: str | None = None
    ) -> set[str]:
        return {d["recipient"] for d in await log.search(q, status, consultant=consultant)}

    everyone = {"a@example.dk", "b@example.dk", "b2@example.dk"}
    assert await shown(None) == everyone
    assert await shown("ane-kjaer") == {"a@example.dk"}
    assert await shown("bjarne-holm", status="pending") == {"b@example.dk", "b2@example.dk"}
    assert await shown("ane-kjaer", q="case-b") == set()
    assert await shown("ane-kjaer", q="b@example.dk") == set()
    assert await shown("camilla-dahl") == set()

    assert await deliveries.reassign("case-b", "ane-kjaer") == 2
    assert await deliveries.reassign("case-b", "ane-kjaer") == 0
    assert await shown("ane-kjaer") == everyone
    assert await shown("bjarne-holm") == set()
    assert await shown("ane-kjaer", q="case-b") == {"b@example.dk", "b2@example.dk"}


async def signed_in(n: Notifications, user: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=n.process.url, timeout=10)
    answer = await client.post("/auth/login", data={"username": user, "password": "indgang-dev"})
    assert answer.status_code == 303, answer.text
    session = await client.get("/auth/session")
    if session.status_code == 200:  # a cookie-authenticated POST carries the CSRF token
        client.headers["X-CSRF-Token"] = session.json().get("csrf_token", "")
    client.headers["Origin"] = n.process.url
    return client


async def test_consultants_see_their_own_cases_deliveries_and_get_404_for_others(
    notifications: Notifications,
) -> None:
    """Routes a case to Ane Kjær (her introduction mail and the inquirer's); Ane sees
    them in the API and the page, Bjarne Holm gets an empty list and 404 for each (get
    and resend), the team lead sees them. Re-routed to Bjarne: now his, no longer Ane's."""
    n = notifications
    case_id = f"case-scope-{uuid.uuid4().hex[:6]}"
    first = changed(CASE_ROUTED, case_id=case_id)
    await n.send(first)

    async def planned() -> list[dict[str, Any]] | None:
        rows = await n.deliveries(case_id)
        return rows if len(rows) >= 2 else None

    rows = await eventually(planned)
    ids = {r["id"] for r in rows}
    ane = await signed_in(n, "ane-kjaer")
    bjarne = await signed_in(n, "bjarne-holm")
    lead = await signed_in(n, "teamleder")
    try:
        listed = await ane.get("/api/v1/deliveries", params={"q": case_id})
        assert {r["id"] for r in listed.json()} == ids
        assert {
            r["id"] for r in (await lead.get("/api/v1/deliveries", params={"q": case_id})).json()
        } == ids
        assert (await bjarne.get("/api/v1/deliveries", params={"q": case_id})).json() == []
        recent = (await bjarne.get("/api/v1/deliveries")).json()
        assert ids.isdisjoint(r["id"] for r in recent)
        for delivery_id in ids:
            assert (await ane.get(f"/api/v1/deliveries/{delivery_id}")).status_code == 200
            assert (await bjarne.get(f"/api/v1/deliveries/{delivery_id}")).status_code == 404
            resent = await bjarne.post(f"/api/v1/deliveries/{delivery_id}/resend")
            assert resent.status_code == 404, resent.text
        page = await bjarne.get("/leveringer", params={"q": case_id})
        assert page.status_code == 200
        assert all(f"delivery-{d}" not in page.text for d in ids)
        assert "dine egne sager" in page.text
        mine = await ane.get("/leveringer", params={"q": case_id})
        assert all(f"delivery-{d}" in mine.text for d in ids)

        bjarne_holm = {
            "id": "bjarne-holm",
            "name": "Bjarne Holm",
            "email": "bjarne.holm@kommune.example",
        }
        await n.send(
            changed(
                first,
                consultant=bjarne_holm,
                previous_consultant_id="ane-kjaer",
                routed_at=first.routed_at + timedelta(minutes=5),
            )
        )

        async def moved() -> bool:
            seen = (await bjarne.get("/api/v1/deliveries", params={"q": case_id})).json()
            return ids <= {r["id"] for r in seen}

        await eventually(moved)
        assert ids.isdisjoint(
            r["id"] for r in (await ane.get("/api/v1/deliveries", params={"q": case_id})).json()
        )
        assert (await ane.get(f"/api/v1/deliveries/{next(iter(ids))}")).status_code == 404
    finally:
        for client in (ane, bjarne, lead):
            await client.aclose()


async def test_the_pages_sign_out_form_carries_the_token_and_revokes_the_session(
    notifications: Notifications,
) -> None:
    """The delivery log's sign-out form, posted as a browser that sends no Origin would
    (the token from the page is all the CSRF check has): 303, and the old cookie no longer
    opens the log."""
    url = notifications.process.url
    async with httpx.AsyncClient(base_url=url, timeout=10) as browser:
        answer = await browser.post(
            "/auth/login", data={"username": "teamleder", "password": "indgang-dev"}
        )
        assert answer.status_code == 303, answer.text
        page = await browser.get("/leveringer")
        assert page.status_code == 200
        form = re.search(
            r'<form method="post" action="/auth/logout"[^>]*>(.*?)</form>', page.text, re.S
        )
        assert form is not None
        token = re.search(r'name="csrf" value="([^"]+)"', form.group(1))
        assert token is not None, "the sign-out form has no csrf field"
        cookie = browser.cookies["indgang_session"]

        assert (await browser.post("/auth/logout")).status_code == 403  # no token, no origin
        out = await browser.post("/auth/logout", data={"csrf": token.group(1)})
        assert out.status_code == 303, out.text
        assert (await browser.get("/auth/session")).status_code == 401
    async with httpx.AsyncClient(base_url=url, timeout=10) as thief:
        thief.cookies.set("indgang_session", cookie)
        assert (await thief.get("/auth/session")).status_code == 401
        assert (await thief.get("/api/v1/deliveries")).status_code in (401, 403)


async def test_an_anonymised_dead_delivery_shows_no_none_and_cannot_be_resent_from_the_page(
    notifications: Notifications,
) -> None:
    """A given-up delivery past its deletion deadline has no recipient or subject: the log
    shows it without "None" and offers no resend (the API would refuse it anyway)."""
    n = notifications
    case_id = f"case-anon-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    try:
        # As the deletion job leaves it (DeliveryRepository.anonymise_expired).
        await client[n.process.env["MONGODB_DATABASE"]]["deliveries"].insert_one(
            {
                "_id": f"anon-{case_id}",
                "kind": "introduction",
                "channel": "email",
                "recipient": None,
                "recipient_role": "inquirer",
                "language": "da",
                "case_id": case_id,
                "inquiry_id": None,
                "reference": "H-ANON01",
                "search_terms": search_terms(case_id, None, "H-ANON01"),
                "consultant_id": "ane-kjaer",
                "subject": None,
                "status": "dead",
                "attempts": 8,
                "cycle": 1,
                "errors": [],
                "last_error": "SMTP 550",
                "next_attempt_at": None,
                "created_at": now - timedelta(days=1100),
                "created_hour": created_hour(now - timedelta(days=1100)),
                "dead_at": now - timedelta(days=1100),
                "anonymised_at": now,
            }
        )
    finally:
        await client.close()
    lead = await signed_in(n, "teamleder")
    try:
        page = await lead.get("/leveringer", params={"q": case_id})
    finally:
        await lead.aclose()
    assert page.status_code == 200
    assert f"delivery-anon-{case_id}" in page.text
    assert "None" not in page.text
    assert "/gensend" not in page.text
