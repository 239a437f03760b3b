"""The sender: claims due deliveries with a lease, sends them, records the outcome.

Runs as background workers beside the consumer. A due delivery is claimed with a
lease (a uniquely keyed claim document, see `DeliveryRepository.claim`); the
attempt is counted at claim time. Success marks it sent and appends `notification-delivered` to its
outbox; a failure schedules the next attempt with exponential backoff and
jitter, or after the last attempt (or a permanent refusal) marks it dead and
appends `notification-failed`. A process killed mid-send leaves the lease to
run out; then another worker sends it again, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import DeliveryChannel, NotificationDelivered, NotificationFailed
from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.smtp import SmtpSender
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.retry import RetryPolicy
from indgang_notifications.settings import NotificationSettings
from indgang_runtime.outbox import OutboxRelay

log = structlog.get_logger(__name__)
Document = dict[str, Any]


class Sender:
    def __init__(
        self,
        settings: NotificationSettings,
        deliveries: DeliveryRepository,
        subscriptions: SubscriptionRepository,
        smtp: SmtpSender,
        webhooks: WebhookSender,
        relay: OutboxRelay,
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.subscriptions = subscriptions
        self.smtp = smtp
        self.webhooks = webhooks
        self.relay = relay
        self.policy = RetryPolicy(
            settings.retry_base_seconds, settings.retry_max_seconds, settings.max_attempts
        )
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """New deliveries were stored: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        workers = [
            asyncio.create_task(self._work(n), name=f"sender-{n}")
            for n in range(self.settings.sender_concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, number: int) -> None:
        backoff = self.settings.sender_poll_seconds
        while True:
            try:
                sent = await self.send_due()
                backoff = self.settings.sender_poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is down: wait, then try again
                log.warning("sender_failed", worker=number, error=type(exc).__name__)
                backoff = min(backoff * 2, 30.0)
                await asyncio.sleep(backoff)
                continue
            if not sent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=self.settings.sender_poll_seconds
                    )

    async def send_due(self) -> int:
        """Send deliveries until none is due; returns how many were attempted."""
        count = 0
        while True:
            candidates = await self.deliveries.due()
            # Workers start at different places so they rarely race for the same one.
            random.shuffle(candidates)
            claimed = 0
            for candidate in candidates:
                doc = await self.deliveries.claim(candidate, self.settings.delivery_lease_seconds)
                if doc is not None:
                    await self.attempt(doc)
                    claimed += 1
            count += claimed
            if not claimed:
                return count

    async def attempt(self, doc: Document) -> None:
        try:
            await self._send(doc)
        except SendFailed as exc:
            if exc.permanent or self.policy.gives_up_after(doc["attempts"]):
                await self.deliveries.dead(doc, exc.error, self._failed(doc, exc.error))
                log.warning(
                    "delivery_dead", delivery=doc["_id"], kind=doc["kind"], attempts=doc["attempts"]
                )
            else:
                delay = self.policy.delay(doc["attempts"])
                await self.deliveries.retry_later(doc, exc.error, delay)
                log.info(
                    "delivery_retry",
                    delivery=doc["_id"],
                    attempts=doc["attempts"],
                    in_seconds=round(delay, 2),
                )
        else:
            await self.deliveries.sent(doc, self._delivered(doc))
            log.info("delivery_sent", delivery=doc["_id"], kind=doc["kind"], channel=doc["channel"])
        self.relay.kick(doc["_id"])  # this delivery's outcome, by _id

    async def _send(self, doc: Document) -> None:
        content = doc.get("content") or {}
        if doc["channel"] == "email":
            message = self.smtp.build(
                doc["recipient"],
                doc["message_id"],
                content["subject"],
                content["text"],
                content["html"],
                doc["language"],
            )
            await self.smtp.send(message)
            return
        subscription = await self.subscriptions.get(doc["recipient"])
        if subscription is None or not subscription.active:
            raise SendFailed("the subscription was removed or deactivated", permanent=True)
        url, secret = subscription.url or "", subscription.secret or ""
        await self.webhooks.post(url, secret, content["body"].encode(), doc["_id"])

    def _outcome_fields(self, doc: Document) -> dict[str, Any]:
        return {
            "municipality_code": doc["municipality_code"],
            "delivery_id": doc["_id"],
            "event_id": doc["event_id"],
            "event_type": doc["event_type"],
            "message_kind": doc["kind"],
            "channel": DeliveryChannel(doc["channel"]),
            "recipient_role": doc["recipient_role"],
            "case_id": doc.get("case_id"),
            "inquiry_id": doc.get("inquiry_id"),
            "attempts": doc["attempts"],
        }

    def _delivered(self, doc: Document) -> Record:
        event = NotificationDelivered(**self._outcome_fields(doc), delivered_at=datetime.now(UTC))
        return self._encode(event, doc, "delivered")

    def _failed(self, doc: Document, error: str) -> Record:
        event = NotificationFailed(
            **self._outcome_fields(doc), error=error[:2000], failed_at=datetime.now(UTC)
        )
        return self._encode(event, doc, "failed")

    def _encode(
        self, event: NotificationDelivered | NotificationFailed, doc: Document, outcome: str
    ) -> Record:
        # One outcome per delivery cycle: a stable id lets consumers de-duplicate.
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc['_id']}/{doc['cycle']}/{outcome}"))
        return encode(event, source=self.settings.event_source, event_id=event_id)
