"""The sender in this process on the real store and a real SMTP server (aiosmtpd): two
sender instances share the work without sending anything twice, and a handed-over
delivery whose claim has used up half its lease is renewed before it is sent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from indgang_notifications.adapters.deliveries import Claim, DeliveryRepository, PlannedDelivery
from indgang_notifications.adapters.smtp import SmtpSender
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.messages import OutgoingMessage
from indgang_notifications.handlers.sending import Sender
from indgang_notifications.settings import NotificationSettings

from harness import SmtpServer, eventually

Db = AsyncDatabase[dict[str, Any]]


def mail_to(address: str) -> PlannedDelivery:
    message = OutgoingMessage(
        f"evt-{address}", "receipt", "email", address, "inquirer", "da", None, f"inq-{address}"
    )
    content = {"subject": f"Kvittering {address}", "text": "Hej", "html": "<p>Hej</p>"}
    return PlannedDelivery(message, "dk.indgang.inquiry-received.v1", "756", "Kvittering", content)


def sender(db: Db, smtp: SmtpServer, publish: Any = None, **settings: Any) -> Sender:
    s = NotificationSettings(
        smtp_port=smtp.port,
        sender_poll_seconds=0.1,
        sender_concurrency=4,
        delivery_lease_seconds=30,
        **settings,
    )
    return Sender(
        s,
        DeliveryRepository(db),
        SubscriptionRepository(db),
        SmtpSender(s),
        WebhookSender(5, True, "test"),
        publish=publish,
    )


@asynccontextmanager
async def running(*senders: Sender) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def all_sent(db: Db, count: int) -> list[dict[str, Any]] | None:
    sent = await db["deliveries"].find({"status": "sent"}).to_list(None)
    return sent if len(sent) >= count else None


async def test_two_senders_on_one_store_send_each_delivery_once(
    fresh_db: Db, smtp: SmtpServer
) -> None:
    """Stores 40 deliveries: 15 handed to sender A as the planner does (claimed when
    stored), 25 unclaimed (as when A's queue is full). Runs senders A and B on the same
    store. Receives 40 mails, each Message-ID once; every delivery is sent after one
    attempt."""
    tag = uuid.uuid4().hex[:6]
    addresses = [f"two-senders-{tag}-{n}@example.dk" for n in range(40)]
    repository = DeliveryRepository(fresh_db)
    await repository.ensure_indexes()
    a, b = sender(fresh_db, smtp), sender(fresh_db, smtp)
    async with running(a, b):
        claim = a.claim_for(15)
        assert claim is not None
        new = await repository.store_all([mail_to(x) for x in addresses[:15]], claim)
        a.take(new)
        await repository.store_all([mail_to(x) for x in addresses[15:]])
        a.kick()
        b.kick()
        sent = await eventually(lambda: all_sent(fresh_db, len(addresses)), timeout=60)
        await asyncio.sleep(1)  # room for a duplicate, if there were one
    received = [m for x in addresses for m in smtp.to(x)]
    assert sorted(str(m["To"]) for m in received) == sorted(addresses)
    assert len({m["Message-ID"] for m in received}) == len(addresses)
    assert {d["attempts"] for d in sent} == {1}


async def test_a_handed_over_delivery_near_the_end_of_its_claim_is_renewed_first(
    fresh_db: Db, smtp: SmtpServer
) -> None:
    """Hands sender A a delivery whose claim (lease 30 s) ends in 2 s. Receives the mail
    once; the delivery is sent after one attempt, its claim having been extended (not
    taken over)."""
    address = f"renewed-{uuid.uuid4().hex[:6]}@example.dk"
    repository = DeliveryRepository(fresh_db)
    a = sender(fresh_db, smtp)
    claim = Claim("sender-a:old", datetime.now(UTC) + timedelta(seconds=2), count=1)
    new = await repository.store_all([mail_to(address)], claim)
    renewals: list[datetime] = []
    renew = repository.renew

    async def spy(doc: dict[str, Any], lease_seconds: float) -> dict[str, Any] | None:
        renewed = await renew(doc, lease_seconds)
        renewals.append(renewed["claim_until"] if renewed else datetime.min)
        return renewed

    a.deliveries.renew = spy  # type: ignore[method-assign]
    async with running(a):
        a.take(new)
        (sent,) = await eventually(lambda: all_sent(fresh_db, 1), timeout=30)
    assert len(smtp.to(address)) == 1
    assert sent["attempts"] == 1
    assert len(renewals) == 1
    assert renewals[0] > claim.until + timedelta(seconds=20)


@pytest.mark.parametrize("broker_answers", [True, False])
async def test_the_outcome_is_published_at_once_or_kept_in_the_outbox(
    fresh_db: Db, smtp: SmtpServer, broker_answers: bool
) -> None:
    """A sent mail's `notification-delivered` goes straight to the broker, and the delivery
    is marked sent with nothing in its outbox; when the broker does not acknowledge, the
    delivery is marked sent with the event in its outbox, for the relay."""
    published: list[Any] = []

    async def publish(record: Any) -> None:
        if not broker_answers:
            raise ConnectionError("broker down")
        published.append(record)

    tag = uuid.uuid4().hex[:6]
    address = f"outcome-{tag}@example.dk"
    repository = DeliveryRepository(fresh_db)
    await repository.outbox.ensure_indexes()
    await repository.store_all([mail_to(address)])
    a = sender(fresh_db, smtp, publish=publish)
    async with running(a):
        [doc] = await eventually(lambda: all_sent(fresh_db, 1), timeout=30)
    assert len(smtp.to(address)) == 1
    if broker_answers:
        [record] = published
        assert record.headers["ce_type"].endswith("notification-delivered.v1")
        assert doc.get("outbox_pending", 0) == 0
        assert not doc.get("outbox_due")
    else:
        assert published == []
        assert doc["outbox_pending"] == 1
        assert doc["outbox_due"] is True
        assert doc["outbox"][-1]["topic"].endswith("notification-delivered.v1")
