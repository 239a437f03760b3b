"""Deliveries keep recipient, subject and body only as long as the privacy notice says
(issue 12, finding 7): 365 days after their case closed, at most three years after they
were made. The clock is moved by passing `now`; the store is the real one. What the
statistics need stays: ids, kind, channel, role, status, attempts, times."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from delivery_harness import Notifications, changed
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.examples import CASE_ROUTED, CASE_STATUS_CHANGED
from indgang_notifications.adapters.deliveries import (
    Claim,
    DeliveryRepository,
    PlannedDelivery,
    public,
)
from indgang_notifications.domain.messages import OutgoingMessage

from harness import MONGODB_URI, eventually

Db = AsyncDatabase[dict[str, Any]]
DAY = timedelta(days=1)


def mail(case_id: str, recipient: str) -> PlannedDelivery:
    message = OutgoingMessage(
        str(uuid.uuid4()), "introduction", "email", recipient, "inquirer", "da", case_id, "inq-1"
    )
    content = {"subject": "Velkommen, Ida", "text": "Hej Ida", "html": "<p>Hej Ida</p>"}
    return PlannedDelivery(
        message, "dk.indgang.case-routed.v1", "756", "Velkommen, Ida", content, "ane-kjaer"
    )


async def test_a_closed_cases_deliveries_are_anonymised_365_days_after_it_closed(
    fresh_db: Db,
) -> None:
    deliveries = DeliveryRepository(fresh_db)
    await deliveries.ensure_indexes()
    until = datetime.now(UTC) + timedelta(minutes=5)
    sent, dead, other = await deliveries.store_all(
        [
            mail("case-1", "ida@example.dk"),
            mail("case-1", "bo@example.dk"),
            mail("case-2", "eva@example.dk"),
        ],
        Claim("sender", until, 3),
    )
    assert await deliveries.sent(sent, [])
    assert await deliveries.sent(other, [])
    # Given up: its body stays until the deadline (it can be resent until then).
    assert await deliveries.dead(dead, "recipient refused (SMTP 550)", _outcome())
    closed_at = datetime.now(UTC)
    await deliveries.case_closed("case-1", closed_at, closed_at)

    assert await deliveries.anonymise_expired(closed_at + 364 * DAY) == 0
    kept = await deliveries.get(dead["_id"])
    assert kept is not None
    assert kept["recipient"] == "bo@example.dk"
    assert kept["content"]["text"] == "Hej Ida"

    assert await deliveries.anonymise_expired(closed_at + 366 * DAY) == 2
    for before in (sent, dead):
        after = await deliveries.get(before["_id"])
        assert after is not None
        assert after["recipient"] is None
        assert after["subject"] is None
        assert "content" not in after
        assert after["key"] is None
        assert after["errors"] == []
        for personal in ("ida@example.dk", "bo@example.dk", "Ida"):
            assert personal not in str(after)
        # What the statistics count stays.
        for field in ("_id", "kind", "channel", "recipient_role", "case_id", "attempts", "cycle"):
            assert after[field] == before[field], field
        assert after["status"] in ("sent", "dead")
        assert after["anonymised_at"] is not None
        assert public(after)["anonymised_at"] is not None
    assert (await deliveries.get(dead["_id"]) or {})["last_error"] == "recipient refused (SMTP 550)"
    assert await deliveries.resend(dead["_id"]) is None  # nothing left to send

    # The open case's delivery keeps everything until its three years are up.
    still = await deliveries.get(other["_id"])
    assert still is not None
    assert still["recipient"] == "eva@example.dk"
    assert await deliveries.anonymise_expired(closed_at + 3 * 365 * DAY + DAY) == 1
    gone = await deliveries.get(other["_id"])
    assert gone is not None
    assert gone["recipient"] is None


async def test_a_reopened_case_gets_the_longest_deadline_back(fresh_db: Db) -> None:
    deliveries = DeliveryRepository(fresh_db)
    await deliveries.ensure_indexes()
    (doc,) = await deliveries.store_all([mail("case-3", "ole@example.dk")])
    now = datetime.now(UTC)
    await deliveries.case_closed("case-3", now, now)
    await deliveries.case_reopened("case-3", now)
    assert await deliveries.anonymise_expired(now + 400 * DAY) == 0
    kept = await deliveries.get(doc["_id"])
    assert kept is not None
    assert kept["recipient"] == "ole@example.dk"


async def test_closing_a_case_brings_its_deliveries_deadline_forward(
    notifications: Notifications,
) -> None:
    """Routes a case (its mails are planned), then closes it, as routing publishes it,
    two years ago: each of its deliveries is due for anonymisation on closing + 365 days
    (filed under today, the day the purge looks at next)."""
    n = notifications
    case_id = f"case-retention-{uuid.uuid4().hex[:6]}"
    await n.send(changed(CASE_ROUTED, case_id=case_id))

    async def planned() -> list[dict[str, Any]] | None:
        rows = await n.deliveries(case_id)
        return rows if len(rows) >= 2 else None

    rows = await eventually(planned)
    closed_at = datetime.now(UTC).replace(microsecond=0) - 2 * 365 * DAY
    await n.send(
        changed(
            CASE_STATUS_CHANGED,
            case_id=case_id,
            status="closed",
            previous_status="in_progress",
            changed_at=closed_at,
        )
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
    try:
        store = client[f"t_{n.run_id}_notifications"]["deliveries"]

        async def deadlines() -> set[datetime] | None:
            found = {
                doc["anonymise_after"]
                async for doc in store.find({"_id": {"$in": [r["id"] for r in rows]}})
            }
            return found if found == {closed_at + 365 * DAY} else None

        await eventually(deadlines)
        today = datetime.now(UTC).date().isoformat()
        async for doc in store.find({"_id": {"$in": [r["id"] for r in rows]}}):
            assert doc["anonymise_on"] == today
    finally:
        await client.close()


def _outcome() -> Any:
    from indgang_contracts.envelope import encode
    from indgang_contracts.examples import INQUIRY_RECEIVED

    return encode(INQUIRY_RECEIVED, source="/test/notifications")
