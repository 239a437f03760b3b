"""Notifications recovering from failures, as a real process on the real Kafka and store:
an SMTP outage, a webhook receiver answering 500, a delivery given up and resent, and
the process killed in the middle of a batch. Nothing is lost and nothing doubled.

What each test sends and receives is in its docstring.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import uuid
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from delivery_harness import (
    Notifications,
    WebhookReceiver,
    changed,
    contact,
    notifications_env,
    one_mail,
    topic_for_name,
    write_config,
)

from indgang_contracts.examples import INQUIRY_RECEIVED, REFERRAL_MADE

from harness import KAFKA_BOOTSTRAP, EventLog, ServiceProcess, SmtpServer, eventually, free_port
from pytest_indgang import drop_run


async def test_mail_waits_out_an_smtp_outage_and_arrives_once(
    infra: None, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Stops the SMTP server, sends two inquiry-received events to a notifications process
    of its own; sees each delivery fail and be retried (attempts, last error, next attempt
    in the log); starts the SMTP server again on the same port. Receives each receipt
    exactly once.

    The process allows 50 attempts (the shared one allows 5, for the dead-delivery test):
    with 5, a delivery could go dead before the outage is seen, and whether both are seen
    retrying would depend on how far apart the two events are consumed."""
    run_id = uuid.uuid4().hex[:8]
    mail = SmtpServer()
    mail.start()
    env = {
        **notifications_env(run_id, mail.port, write_config(tmp_path, receiver)),
        "MAX_ATTEMPTS": "50",
    }
    process = ServiceProcess("notifications", env)
    process.start()
    try:
        await process.wait_ready()
        n = Notifications(run_id, process, mail, receiver)
        inquirers = [f"outage-{i}-{run_id}@example.dk" for i in range(2)]
        mail.stop()
        try:
            for address in inquirers:
                await n.send(
                    changed(
                        INQUIRY_RECEIVED,
                        inquiry_id=f"inq-{address}",
                        contact=contact(address, "da"),
                    )
                )
            seen: dict[str, dict[str, Any]] = {}

            async def retrying() -> bool:
                for address in inquirers:
                    for row in await n.deliveries(address):
                        if row["status"] == "pending" and row["attempts"] >= 2:
                            seen[address] = row
                return len(seen) == len(inquirers)

            try:
                await eventually(retrying, timeout=30, interval=0.2)
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}; seen retrying: {sorted(seen)}\n{process.log_tail()}"
                ) from exc
            assert all(row["last_error"] for row in seen.values())
            assert all(row["next_attempt_at"] for row in seen.values())
        finally:
            mail.start()
        for address in inquirers:
            await one_mail(mail, address, "Vi har modtaget")
        await asyncio.sleep(2)
        assert [len(mail.to(a)) for a in inquirers] == [1, 1]
        for address in inquirers:
            (row,) = await n.deliveries(address)
            assert row["status"] == "sent"
            assert row["attempts"] >= 2
            assert len(row["errors"]) == row["attempts"] - 1
    finally:
        process.stop()
        mail.stop()
        await drop_run(run_id)


async def test_webhook_500_then_200_is_one_successful_delivery(
    notifications: Notifications,
) -> None:
    """The job centre's receiver answers 500 once, then 200. Sends one referral-made to
    the job centre. Receives two signed POSTs of the same CloudEvent, one accepted; the
    delivery is sent after 2 attempts and notification-delivered says attempts=2."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [500]
    referral = changed(REFERRAL_MADE, referral_id=f"ref-{uuid.uuid4().hex[:6]}")
    async with EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as log:
        record = await n.send(referral)
        event_id = record.headers["ce_id"]
        outcome = await log.wait_for(
            lambda e: e.data.event_id == event_id and e.data.channel == "webhook"
        )
    assert outcome.data.attempts == 2
    posts = n.receiver.for_event(event_id)
    assert [p.status for p in posts] == [500, 200]
    assert all(p.valid for p in posts)
    assert posts[0].body == posts[1].body  # the same CloudEvent, re-signed
    (delivery,) = [
        d
        for d in await n.deliveries(referral.case_id)
        if d["channel"] == "webhook" and d["event_id"] == event_id
    ]
    assert delivery["status"] == "sent"
    assert delivery["attempts"] == 2


async def test_dead_delivery_is_published_and_can_be_resent(notifications: Notifications) -> None:
    """The receiver answers 500 five times (MAX_ATTEMPTS=5). Sends one referral-made.
    Receives five failed POSTs, then notification-failed with the error; the log shows
    the delivery dead. Resending it through the API (admin key) makes a new cycle that
    succeeds: one accepted POST and notification-delivered."""
    n = notifications
    n.receiver.planned["/jobcenter"] = [500] * 5
    referral = changed(REFERRAL_MADE, referral_id=f"ref-{uuid.uuid4().hex[:6]}")
    async with (
        EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-failed"))) as failed,
        EventLog(KAFKA_BOOTSTRAP, n.topic(topic_for_name("notification-delivered"))) as delivered,
    ):
        record = await n.send(referral)
        event_id = record.headers["ce_id"]
        dead = await failed.wait_for(lambda e: e.data.event_id == event_id)
        assert dead.data.attempts == 5
        assert dead.data.error == "HTTP 500 from receiver"
        (row,) = [
            d
            for d in await n.deliveries(referral.case_id)
            if d["event_id"] == event_id and d["channel"] == "webhook"
        ]
        assert row["status"] == "dead"
        assert len(row["errors"]) == 5
        assert not n.receiver.accepted(event_id)

        async with n.api() as api:
            assert (await api.post(f"/api/v1/deliveries/{row['id']}/resend")).status_code == 202
            again = await api.post(f"/api/v1/deliveries/{row['id']}/resend")
            assert again.status_code in (202, 409)  # 409 once it is no longer dead
            assert (await api.post("/api/v1/deliveries/nope/resend")).status_code == 404
        await delivered.wait_for(lambda e: e.data.event_id == event_id)
    await asyncio.sleep(1)
    assert len(n.receiver.accepted(event_id)) == 1
    (row,) = [d for d in await n.deliveries(referral.case_id) if d["id"] == row["id"]]
    assert row["status"] == "sent"
    assert row["cycle"] == 2


class GatedSmtp:
    """An SMTP server that takes `open_for` messages, then holds the next one until
    released (so the test can kill the sender while it is in the middle of a send)."""

    def __init__(self, open_for: int) -> None:
        self.port = free_port()
        self.received: list[Message] = []
        self.holding = threading.Event()
        self.released = threading.Event()
        self._open_for = open_for
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            gate = len(self.received) >= self._open_for and not self.released.is_set()
        if gate:
            self.holding.set()
            # Released from the test thread; cancelled when the client dies.
            while not self.released.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        message = message_from_bytes(envelope.original_content, policy=default_policy)
        with self._lock:
            self.received.append(message)
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


async def test_killed_mid_batch_and_restarted_loses_and_doubles_nothing(
    infra: None, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    """Sends 8 inquiry-received events to a notifications process (one sender worker)
    whose SMTP server accepts 3 mails and holds the 4th; SIGKILLs the process while it
    waits for that 4th; restarts it. Receives all 8 receipts, each Message-ID once."""
    run_id = uuid.uuid4().hex[:8]
    smtp = GatedSmtp(open_for=3)
    smtp.start()
    env = {
        **notifications_env(run_id, smtp.port, write_config(tmp_path, receiver)),
        "SENDER_CONCURRENCY": "1",
        "DELIVERY_LEASE_SECONDS": "2",
    }
    first = ServiceProcess("notifications", env)
    first.start()
    second: ServiceProcess | None = None
    try:
        await first.wait_ready()
        n = Notifications(run_id, first, SmtpServer(), receiver)
        inquirers = [f"batch-{i}-{run_id}@example.dk" for i in range(8)]
        for address in inquirers:
            await n.send(
                changed(
                    INQUIRY_RECEIVED, inquiry_id=f"inq-{address}", contact=contact(address, "da")
                )
            )
        await eventually(lambda: _is_set(smtp.holding))
        first.stop(signal.SIGKILL)
        assert len(smtp.received) == 3
        smtp.released.set()

        second = ServiceProcess("notifications", env)
        second.start()
        await second.wait_ready()

        async def all_arrived() -> bool:
            return len(smtp.received) >= len(inquirers)

        await eventually(all_arrived, timeout=60)
        await asyncio.sleep(3)  # room for a duplicate, if there were one
        message_ids = [m["Message-ID"] for m in smtp.received]
        assert len(message_ids) == len(inquirers)
        assert len(set(message_ids)) == len(inquirers)
        assert sorted(str(m["To"]) for m in smtp.received) == sorted(inquirers)
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop()
        smtp.stop()
        await drop_run(run_id)


async def _is_set(event: threading.Event) -> bool:
    return event.is_set()
