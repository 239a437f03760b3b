"""A delivery whose message cannot even be made is given up at once (issue 12, finding 8):
marked dead on its first attempt with the reason, `notification-failed` in its outbox,
instead of escaping the sender's worker and being retried each time its claim ran out.
On the real store with a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import uuid
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
from indgang_runtime import outbox

from harness import SmtpServer

Db = AsyncDatabase[dict[str, Any]]


def delivery(language: str, content: dict[str, Any]) -> PlannedDelivery:
    tag = uuid.uuid4().hex[:8]
    message = OutgoingMessage(
        f"evt-{tag}", "receipt", "email", f"{tag}@example.dk", "inquirer", language, "c", "i"
    )
    return PlannedDelivery(message, "dk.indgang.inquiry-received.v1", "756", "Kvittering", content)


@pytest.mark.parametrize(
    ("language", "content", "why"),
    [
        # The email package refuses a header that would smuggle in another.
        (
            "da\nBcc: evil@example.com",
            {"subject": "Kvittering", "text": "Hej", "html": "<p>Hej</p>"},
            "HeaderParseError",
        ),
        # A stored body without what a mail needs.
        ("da", {"text": "Hej"}, "KeyError"),
    ],
)
async def test_a_message_that_cannot_be_made_is_dead_at_once(
    fresh_db: Db, smtp: SmtpServer, language: str, content: dict[str, Any], why: str
) -> None:
    settings = NotificationSettings(smtp_port=smtp.port, max_attempts=8)
    deliveries = DeliveryRepository(fresh_db)
    sender = Sender(
        settings,
        deliveries,
        SubscriptionRepository(fresh_db),
        SmtpSender(settings),
        WebhookSender(5, True, "test"),
    )
    claim = Claim("test-sender", datetime.now(UTC) + timedelta(seconds=60), 1)
    (doc,) = await deliveries.store_all([delivery(language, content)], claim)
    mail = SmtpSender(settings).connection()
    try:
        await sender.attempt(doc, mail)
    finally:
        await mail.close()

    dead = await deliveries.get(doc["_id"])
    assert dead is not None
    assert dead["status"] == "dead"
    assert dead["attempts"] == 1
    assert dead["last_error"] == f"the message could not be made or sent ({why})"
    assert dead["claim"] == ""
    assert dead[outbox.DUE] is True  # notification-failed, for the relay
    assert "notification-failed" in str(dead[outbox.OUTBOX])
