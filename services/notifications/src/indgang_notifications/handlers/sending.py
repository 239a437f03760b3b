"""The sender: claims due deliveries, sends them, records the outcome.

Runs as `SENDER_CONCURRENCY` background workers beside the consumer, each with
its own SMTP connection. One worker at a time looks for work (the pending
deliveries, one indexed query) and shares what it found; each worker then
claims a delivery with one compare-and-set that also counts the attempt
(`DeliveryRepository.claim`), sends it, and records the outcome in one write:
sent with `notification-delivered` in its outbox; or, on failure, the next
attempt after exponential backoff with jitter; or, after the last attempt (or a
permanent refusal), dead with `notification-failed`. A process killed mid-send
leaves its claim to expire; then any sender takes it over and sends again, with
the same Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

import structlog

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import DeliveryChannel, NotificationDelivered, NotificationFailed
from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.smtp import SmtpConnection, SmtpSender
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.retry import RetryPolicy
from indgang_notifications.settings import NotificationSettings

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
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.subscriptions = subscriptions
        self.smtp = smtp
        self.webhooks = webhooks
        self.policy = RetryPolicy(
            settings.retry_base_seconds, settings.retry_max_seconds, settings.max_attempts
        )
        self._instance = uuid.uuid4().hex[:12]
        self._wake = asyncio.Event()
        # Found due but not yet claimed, and what this process is working on.
        self._candidates: deque[Document] = deque()
        self._in_hand: set[str] = set()
        self._looking = asyncio.Lock()

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
            await self.webhooks.close()

    async def _work(self, number: int) -> None:
        mail = self.smtp.connection()
        backoff = self.settings.sender_poll_seconds
        try:
            while True:
                try:
                    doc = await self._next()
                    if doc is None:
                        continue
                    try:
                        await self.attempt(doc, mail)
                    finally:
                        self._in_hand.discard(doc["_id"])
                    backoff = self.settings.sender_poll_seconds
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store is down: wait, then try again
                    log.warning("sender_failed", worker=number, error=type(exc).__name__)
                    backoff = min(backoff * 2, 30.0)
                    await asyncio.sleep(backoff)
        finally:
            await mail.close()

    async def _next(self) -> Document | None:
        """A claimed delivery; None after waiting for work to appear."""
        while self._candidates:
            candidate = self._candidates.popleft()
            try:
                doc = await self.deliveries.claim(
                    candidate, self._claim_token(), self.settings.delivery_lease_seconds
                )
            except BaseException:
                self._in_hand.discard(candidate["_id"])
                raise
            if doc is not None:
                return doc
            self._in_hand.discard(candidate["_id"])  # another sender got there first
        async with self._looking:
            if self._candidates:  # another worker found some while this one waited
                return None
            # Cleared before looking, so a wake that arrives meanwhile is not lost.
            self._wake.clear()
            now = datetime.now(UTC)
            ready, later = await self.deliveries.due(
                now, limit=4 * self.settings.sender_concurrency
            )
            fresh = [d for d in ready if d["_id"] not in self._in_hand]
            if fresh:
                self._in_hand.update(d["_id"] for d in fresh)
                self._candidates.extend(fresh)
                return None
            wait = self.settings.sender_poll_seconds
            if later is not None:
                wait = min(wait, max(0.0, (later - now).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            return None

    def _claim_token(self) -> str:
        return f"{self._instance}:{uuid.uuid4().hex[:12]}"

    async def attempt(self, doc: Document, mail: SmtpConnection) -> None:
        try:
            await self._send(doc, mail)
        except SendFailed as exc:
            if exc.permanent or self.policy.gives_up_after(doc["attempts"]):
                recorded = await self.deliveries.dead(doc, exc.error, self._failed(doc, exc.error))
                log.warning(
                    "delivery_dead", delivery=doc["_id"], kind=doc["kind"], attempts=doc["attempts"]
                )
            else:
                delay = self.policy.delay(doc["attempts"])
                recorded = await self.deliveries.retry_later(doc, exc.error, delay)
                log.info(
                    "delivery_retry",
                    delivery=doc["_id"],
                    attempts=doc["attempts"],
                    in_seconds=round(delay, 2),
                )
        else:
            recorded = await self.deliveries.sent(doc, self._delivered(doc))
            log.info("delivery_sent", delivery=doc["_id"], kind=doc["kind"], channel=doc["channel"])
        if not recorded:
            # The claim expired and another sender took the delivery over; it records.
            log.warning("delivery_claim_lost", delivery=doc["_id"])

    async def _send(self, doc: Document, mail: SmtpConnection) -> None:
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
            await mail.send(message)
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
