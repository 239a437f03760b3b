"""The sender in this process on the real store and a real SMTP server (aiosmtpd): two
sender instances share the work without sending anything twice; a handed-over
delivery whose claim has used up half its lease is renewed before it is sent; a
worker sends its next mail while the last one's outcome is still being published,
and a delivery is marked sent only after its event was acknowledged or kept in its
outbox; an outcome that cannot be recorded is logged and left to its claim running
out; stopping waits for the outcomes in flight."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect
from structlog.testing import capture_logs

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


def sender(
    db: Db,
    smtp: SmtpServer,
    publish: Any = None,
    deliveries: DeliveryRepository | None = None,
    **settings: Any,
) -> Sender:
    defaults = {"sender_poll_seconds": 0.1, "sender_concurrency": 4, "delivery_lease_seconds": 30}
    s = NotificationSettings(smtp_port=smtp.port, **{**defaults, **settings})
    return Sender(
        s,
        deliveries or DeliveryRepository(db),
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


class HeldPublish:
    """A broker whose acknowledgements wait until released (or then fail)."""

    def __init__(self, fails: bool = False) -> None:
        self.called: list[Any] = []
        self.acknowledged: list[Any] = []
        self.release = asyncio.Event()
        self.fails = fails

    async def __call__(self, record: Any) -> None:
        self.called.append(record)
        await self.release.wait()
        if self.fails:
            raise ConnectionError("broker down")
        self.acknowledged.append(record)


async def hand_over(a: Sender, repository: DeliveryRepository, addresses: list[str]) -> None:
    """Stores deliveries to `addresses` claimed by `a`, as the planner does, and hands
    them to it."""
    claim = a.claim_for(len(addresses))
    assert claim is not None
    a.take(await repository.store_all([mail_to(x) for x in addresses], claim))


async def statuses(db: Db) -> list[str]:
    return sorted(d["status"] for d in await db["deliveries"].find({}).to_list(None))


@pytest.mark.parametrize("broker_answers", [True, False])
async def test_a_worker_sends_the_next_mail_while_the_last_outcome_is_published(
    fresh_db: Db, smtp: SmtpServer, broker_answers: bool
) -> None:
    """One worker, two handed-over mails, a broker that holds its acknowledgements: both
    mails are received while the first outcome's publish still waits, and neither
    delivery is marked sent yet. Once the broker answers, both are marked sent, with
    nothing in their outbox; when it fails instead, with the event in their outbox."""
    tag = uuid.uuid4().hex[:6]
    addresses = [f"next-{tag}-{n}@example.dk" for n in range(2)]
    repository = DeliveryRepository(fresh_db)
    await repository.outbox.ensure_indexes()
    broker = HeldPublish(fails=not broker_answers)
    a = sender(fresh_db, smtp, publish=broker, sender_concurrency=1)
    async with running(a):
        await hand_over(a, repository, addresses)

        async def both_received() -> bool:
            return all(smtp.to(x) for x in addresses) and len(broker.called) == 2

        await eventually(both_received, timeout=30)
        assert broker.acknowledged == []
        assert await statuses(fresh_db) == ["pending", "pending"]
        broker.release.set()
        sent = await eventually(lambda: all_sent(fresh_db, 2), timeout=30)
    assert [len(smtp.to(x)) for x in addresses] == [1, 1]
    for doc in sent:
        if broker_answers:
            assert doc.get("outbox_pending", 0) == 0
        else:
            assert doc["outbox_pending"] == 1
            assert doc["outbox"][-1]["topic"].endswith("notification-delivered.v1")
    assert len(broker.acknowledged) == (2 if broker_answers else 0)


class StoreAwayForSent(DeliveryRepository):
    """The store goes away just when sent deliveries are recorded."""

    async def sent_many(self, docs: Any) -> int:
        raise AutoReconnect("store away")


async def test_an_outcome_that_cannot_be_recorded_is_logged_and_its_claim_left_to_expire(
    fresh_db: Db, smtp: SmtpServer
) -> None:
    """The mail is sent and its event acknowledged, but writing its status fails: that is
    logged (with the delivery), the worker backs off, and the delivery stays pending
    under its claim (so it is sent again once the claim runs out), not marked sent."""
    address = f"unrecorded-{uuid.uuid4().hex[:6]}@example.dk"
    repository = StoreAwayForSent(fresh_db)
    broker = HeldPublish()
    broker.release.set()
    a = sender(fresh_db, smtp, publish=broker, deliveries=repository, sender_concurrency=1)
    with capture_logs() as logs:
        async with running(a):
            await hand_over(a, repository, [address])

            async def backed_off() -> bool:
                return any(e["event"] == "sender_failed" for e in logs)

            await eventually(backed_off, timeout=30)
    [doc] = await fresh_db["deliveries"].find({}).to_list(None)
    assert len(smtp.to(address)) == 1
    assert len(broker.acknowledged) == 1
    assert doc["status"] == "pending"
    assert doc["claim"]  # held until it runs out, then taken over and sent again
    assert doc["attempts"] == 1
    [unrecorded] = [e for e in logs if e["event"] == "delivery_not_recorded"]
    assert unrecorded["delivery"] == doc["_id"]
    assert unrecorded["error"] == "AutoReconnect"
    assert not any(e["event"] == "delivery_sent" for e in logs)


async def test_stopping_waits_for_the_outcomes_in_flight(fresh_db: Db, smtp: SmtpServer) -> None:
    """Stopping while a sent mail's publish waits for the broker: the sender does not stop
    until that outcome is published and recorded, so the delivery is marked sent."""
    address = f"stopping-{uuid.uuid4().hex[:6]}@example.dk"
    repository = DeliveryRepository(fresh_db)
    broker = HeldPublish()
    a = sender(fresh_db, smtp, publish=broker)
    run = asyncio.create_task(a.run())
    try:
        await hand_over(a, repository, [address])

        async def publishing() -> bool:
            return len(broker.called) == 1

        await eventually(publishing, timeout=30)
        run.cancel()
        await asyncio.sleep(0.3)
        assert not run.done()  # waiting for the broker's acknowledgement
        broker.release.set()
        await asyncio.wait_for(asyncio.gather(run, return_exceptions=True), timeout=30)
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
    [doc] = await fresh_db["deliveries"].find({}).to_list(None)
    assert doc["status"] == "sent"
    assert broker.acknowledged == broker.called
