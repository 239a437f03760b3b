"""What staff and integrators manage, on notifications as a real process on the real Kafka
and store: webhook subscriptions through the admin API (the key, the secrets never
shown), and the delivery log page in Chromium (sign-in, search, resend, axe).

What each test sends and receives is in its docstring.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from delivery_harness import Notifications, accepted_by, changed
from playwright.async_api import Page

from indgang_contracts.examples import CASE_STATUS_CHANGED, REFERRAL_MADE

from harness import eventually
from pytest_indgang import axe_violations


async def test_subscriptions_api_needs_the_admin_key_and_never_shows_secrets(
    notifications: Notifications,
) -> None:
    """Creates a webhook subscription to case-status-changed through the API, replaces it
    without a secret (the secret is kept), sends one case-status-changed; the receiver
    gets it signed with the original secret. Without the key: 401/403; invalid input:
    422 with the field and without the secret; an URL of the metadata service or the
    internal network: 422 on the url (issue 12, finding 3); deleted: 404."""
    n = notifications
    secret = "status-secret-0123456789"
    n.receiver.secrets["/status"] = secret
    body = {
        "name": "Sagsoverblik",
        "event_types": ["case-status-changed"],
        "channel": "webhook",
        "url": f"{n.receiver.url}/status",
        "secret": secret,
    }
    async with httpx.AsyncClient(base_url=n.process.url) as anonymous:
        assert (await anonymous.get("/api/v1/subscriptions")).status_code == 401
        wrong = await anonymous.get("/api/v1/subscriptions", headers={"X-Admin-Key": "nope"})
        assert wrong.status_code == 403
        assert (await anonymous.get("/api/v1/deliveries")).status_code == 401
    async with n.api() as api:
        bad = await api.put(
            "/api/v1/subscriptions/status", json={**body, "url": "ftp://x", "email": 7}
        )
        assert bad.status_code == 422
        assert {tuple(e["loc"]) for e in bad.json()["detail"]} >= {("body", "email")}
        # A whole-body error (the url) does not echo the body, secret and all.
        no_url = await api.put("/api/v1/subscriptions/status", json={**body, "url": "ftp://x"})
        assert no_url.status_code == 422
        assert [e["loc"] for e in no_url.json()["detail"]] == [["body"]]
        assert secret not in no_url.text
        for inside in ("http://169.254.169.254/latest/meta-data", "http://10.0.0.7/hooks"):
            refused = await api.put("/api/v1/subscriptions/status", json={**body, "url": inside})
            assert refused.status_code == 422, refused.text
            assert [(e["loc"], e["msg"]) for e in refused.json()["detail"]] == [
                (["body", "url"], "address not allowed")
            ]
            assert secret not in refused.text
        created = await api.put("/api/v1/subscriptions/status", json=body)
        assert created.status_code == 201, created.text
        assert secret not in created.text
        assert created.json()["has_secret"] is True
        without_secret = {k: v for k, v in body.items() if k != "secret"}
        replaced = await api.put("/api/v1/subscriptions/status", json=without_secret)
        assert replaced.status_code == 200
        listed = await api.get("/api/v1/subscriptions")
        assert secret not in listed.text
        assert {s["id"] for s in listed.json()} >= {"jobcenter-system", "status"}

        record = await n.send(changed(CASE_STATUS_CHANGED, case_id=f"case-{uuid.uuid4().hex[:6]}"))
        (post,) = await eventually(lambda: accepted_by(n.receiver, record.headers["ce_id"]))
        assert post.valid
        assert post.event["data"]["status"] == "in_progress"

        assert (await api.delete("/api/v1/subscriptions/status")).status_code == 204
        assert (await api.get("/api/v1/subscriptions/status")).status_code == 404


async def test_delivery_log_page_finds_and_resends_a_dead_delivery(
    notifications: Notifications, page: Page
) -> None:
    """The job centre's receiver answers 410 Gone (permanent) once. Sends one referral-made.
    In Chromium: the log asks for sign-in; the team lead signs in, searches the case,
    sees the webhook delivery given up with 'HTTP 410', presses 'Send igen', and after a
    reload sees it sent (one accepted POST). The page has no serious axe violations, in
    Danish and in English."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [410]
    case_id = f"case-page-{uuid.uuid4().hex[:6]}"
    record = await n.send(changed(REFERRAL_MADE, case_id=case_id, referral_id=f"ref-{case_id}"))
    event_id = record.headers["ce_id"]

    async def dead_row() -> list[dict[str, Any]]:
        rows = await n.deliveries(case_id)
        return [r for r in rows if r["channel"] == "webhook" and r["status"] == "dead"]

    (row,) = await eventually(dead_row)

    await page.goto(f"{n.process.url}/leveringer?q={case_id}")
    assert "/auth/login" in page.url
    await page.fill("#username", "teamleder")
    await page.fill("#password", "indgang-dev")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#deliveries")
    assert await page.locator("html").get_attribute("lang") == "da"
    dead = page.locator(f"#delivery-{row['id']}")
    assert "Opgivet" in await dead.inner_text()
    assert "HTTP 410" in await dead.inner_text()
    assert await axe_violations(page) == []

    await dead.get_by_role("button", name="Send igen").click()
    await page.wait_for_selector("#notice")
    assert "sendes igen" in await page.locator("#notice").inner_text()
    await eventually(lambda: accepted_by(n.receiver, event_id))

    async def shown_sent() -> bool:
        await page.goto(f"{n.process.url}/leveringer?q={case_id}&lang=en")
        return "Sent" in await page.locator(f"#delivery-{row['id']}").inner_text()

    await eventually(shown_sent)
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.locator("h1").inner_text() == "Delivery log"
    assert await axe_violations(page) == []
    assert len(n.receiver.accepted(event_id)) == 1
