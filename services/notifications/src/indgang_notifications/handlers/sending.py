"""The sender: sends claimed deliveries and records the outcome.

Runs as `SENDER_CONCURRENCY` background workers beside the consumer, each with
its own SMTP connection. Work reaches them two ways:
- handed over by the planner in this process: deliveries stored already claimed
  by this sender, their first attempt counted in that same write (`take`), so
  the usual case costs no query and no claim of its own;
- found by a sweep, at most every `SENDER_POLL_SECONDS` (sooner when kicked):
  one indexed query for the pending deliveries, then a compare-and-set claim of
  each due one that also counts the attempt (`DeliveryRepository.claim`). This
  picks up retries, resends, deliveries stored while the queue was full and the
  claims of a crashed sender once they have expired.
Each outcome is one write: sent, its `notification-delivered` published first and
the statuses of what several workers sent meanwhile written together
(`SentRecorder`), or with the event in its outbox when the broker is away; or
the next attempt after exponential backoff with jitter; or, after the last
attempt (or a permanent refusal), dead with `notification-failed`.

A sent mail's outcome is published and recorded in the background
(`OutcomesInFlight`, at most `OUTCOMES_PER_WORKER` per worker) while its worker
sends the next mail: the broker's acknowledgement and the store's write are waits,
not work. The order within an outcome stays: the status is written only after the
event was acknowledged, or with the event in the delivery's outbox. If that write
fails (the store is away) it is logged, the worker backs off, and the delivery's
claim runs out. Failures, retries and dead deliveries are recorded by the worker
itself before its next mail (they are rare). Stopping waits for the outcomes in
flight, so what was sent is recorded.

A process killed mid-send, or before a sent mail's status is written, leaves its
claims to expire; then any sender takes them over and sends again, with the same
Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pymongo.errors import PyMongoError

from indgang_contracts.envelope import Record, encode
from indgang_contracts.events import DeliveryChannel, NotificationDelivered, NotificationFailed
from indgang_notifications.adapters.channels import SendFailed
from indgang_notifications.adapters.deliveries import Claim, DeliveryRepository
from indgang_notifications.adapters.smtp import SmtpConnection, SmtpSender
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.webhooks import WebhookSender
from indgang_notifications.domain.retry import RetryPolicy
from indgang_notifications.handlers.recording import OutcomesInFlight, SentRecorder
from indgang_notifications.settings import NotificationSettings
from indgang_runtime import telemetry

log = structlog.get_logger(__name__)
Document = dict[str, Any]

# Deliveries a worker may have waiting in this process's queue: far less than a
# lease's worth of sending, so a handed-over claim rarely needs renewing.
QUEUE_PER_WORKER = 50
# Sent mails a worker may have whose outcome is still being published and recorded;
# at the limit it waits for one before sending the next. Enough to cover the broker's
# and the store's waits at the rate one worker sends.
OUTCOMES_PER_WORKER = 8
# How long an outcome event may wait for the broker's acknowledgement before it goes to
# the delivery's outbox instead.
PUBLISH_TIMEOUT_SECONDS = 5.0
# Publishes a record and returns once the broker acknowledged it.
Publish = Callable[[Record], Awaitable[None]]
# Most due deliveries one sweep takes (its one query reads every pending one anyway).
SWEEP_LIMIT = 500


class Sender:
    def __init__(
        self,
        settings: NotificationSettings,
        deliveries: DeliveryRepository,
        subscriptions: SubscriptionRepository,
        smtp: SmtpSender,
        webhooks: WebhookSender,
        publish: Publish | None = None,
    ) -> None:
        self.settings = settings
        self.publish = publish
        self.deliveries = deliveries
        self.subscriptions = subscriptions
        self.smtp = smtp
        self.webhooks = webhooks
        self.policy = RetryPolicy(
            settings.retry_base_seconds, settings.retry_max_seconds, settings.max_attempts
        )
        self._instance = uuid.uuid4().hex[:12]
        self._recorder = SentRecorder(deliveries.sent_many)
        self._lease = settings.delivery_lease_seconds
        self._wake = asyncio.Event()
        # Claimed by this sender and waiting for a worker; seen due by a sweep but not
        # claimed yet; and every delivery this process holds in either or is sending.
        self._claimed: deque[Document] = deque()
        self._candidates: deque[Document] = deque()
        self._in_hand: set[str] = set()
        self._looking = asyncio.Lock()
        self._sweep_wanted = True
        self._next_sweep = 0.0

    def kick(self) -> None:
        """Deliveries became due that nobody holds (a resend, deliveries stored unclaimed):
        sweep now instead of at the next poll."""
        self._sweep_wanted = True
        self._wake.set()

    def claim_for(self, count: int) -> Claim | None:
        """A claim on up to `count` deliveries about to be stored, as many as the queue
        has room for (None if it is full: they are stored unclaimed and swept up)."""
        room = QUEUE_PER_WORKER * self.settings.sender_concurrency - len(self._claimed)
        if room <= 0 or count <= 0:
            return None
        until = datetime.now(UTC) + timedelta(seconds=self._lease)
        return Claim(self._claim_token(), until, min(count, room))

    def take(self, deliveries: Sequence[Document]) -> None:
        """Deliveries just stored claimed by this sender: send them."""
        for doc in deliveries:
            if doc["_id"] not in self._in_hand:
                self._in_hand.add(doc["_id"])
                self._claimed.append(doc)
        if deliveries:
            self._wake.set()

    async def run(self) -> None:
        outcomes = [
            OutcomesInFlight(OUTCOMES_PER_WORKER) for _ in range(self.settings.sender_concurrency)
        ]
        workers = [
            asyncio.create_task(self._work(n, mine), name=f"sender-{n}")
            for n, mine in enumerate(outcomes)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            # What was sent is published and recorded before the recorder closes.
            await asyncio.gather(*(mine.settle() for mine in outcomes))
            await self._recorder.close()
            await self._release_queue()
            await self.webhooks.close()

    async def _release_queue(self) -> None:
        """Stopping: give back the claims on handed-over deliveries not yet attempted, so
        another instance sends them now rather than when their lease runs out."""
        waiting, self._claimed = list(self._claimed), deque()
        try:
            released = await self.deliveries.release(waiting)
        except Exception as exc:  # the store is down: the leases will run out instead
            log.warning("sender_release_failed", error=type(exc).__name__)
            return
        if released:
            log.info("sender_released", deliveries=released)

    async def _work(self, number: int, outcomes: OutcomesInFlight) -> None:
        mail = self.smtp.connection()
        backoff = self.settings.sender_poll_seconds
        try:
            while True:
                try:
                    await outcomes.room()  # raises when an outcome could not be recorded
                    doc = await self._next()
                    if doc is None:
                        continue
                    if await self._deliver(doc, mail, outcomes):
                        backoff = self.settings.sender_poll_seconds
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the store is down: wait, then try again
                    log.warning("sender_failed", worker=number, error=type(exc).__name__)
                    backoff = min(backoff * 2, 30.0)
                    await asyncio.sleep(backoff)
        finally:
            await mail.close()

    async def _deliver(
        self, doc: Document, mail: SmtpConnection, outcomes: OutcomesInFlight
    ) -> bool:
        """Attempts `doc`; a sent one's outcome goes on in the background. True when the
        store answered, so a back-off can end."""
        outcome: Record | None = None
        try:
            with telemetry.delivering(doc["channel"], doc.get("event_id"), doc["_id"]):
                outcome = await self.attempt(doc, mail)
                if outcome is not None:
                    # Started within the delivery's span, so its publish continues the trace.
                    outcomes.start(self.finish_sent(doc, outcome))
        finally:
            if outcome is None:  # otherwise in hand until its outcome is recorded
                self._in_hand.discard(doc["_id"])
        # A sent mail ends a back-off only once outcomes are being recorded again.
        return outcome is None or outcomes.last_recorded

    async def _next(self) -> Document | None:
        """A delivery this sender holds a claim on; None after waiting for work."""
        if self._claimed:
            doc = self._claimed.popleft()
            return await self._holding(doc, lambda: self._renewed(doc))
        if self._candidates:
            seen = self._candidates.popleft()
            return await self._holding(
                seen, lambda: self.deliveries.claim(seen, self._claim_token(), self._lease)
            )
        async with self._looking:
            # Cleared before looking, so a wake that arrives meanwhile is not lost.
            self._wake.clear()
            if self._claimed or self._candidates:
                return None
            if self._sweep_wanted or time.monotonic() >= self._next_sweep:
                await self._sweep()
                if self._candidates:
                    return None
            wait = max(0.0, self._next_sweep - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            return None

    async def _holding(
        self, doc: Document, claimed: Callable[[], Awaitable[Document | None]]
    ) -> Document | None:
        """`claimed()`'s delivery, letting go of `doc` if it comes back None or fails."""
        try:
            held = await claimed()
        except BaseException:
            self._in_hand.discard(doc["_id"])
            raise
        if held is None:  # another sender has it now
            self._in_hand.discard(doc["_id"])
        return held

    async def _renewed(self, doc: Document) -> Document | None:
        # A claim that has used up half its lease waiting is extended before sending,
        # so it cannot expire mid-send and be taken over.
        left = (doc["claim_until"] - datetime.now(UTC)).total_seconds()
        if left > self._lease / 2:
            return doc
        return await self.deliveries.renew(doc, self._lease)

    async def _sweep(self) -> None:
        self._sweep_wanted = False
        self._next_sweep = time.monotonic() + self.settings.sender_poll_seconds
        now = datetime.now(UTC)
        ready, later = await self.deliveries.due(now, limit=SWEEP_LIMIT)
        fresh = [d for d in ready if d["_id"] not in self._in_hand]
        self._in_hand.update(d["_id"] for d in fresh)
        self._candidates.extend(fresh)
        if later is not None:  # a retry or an expired claim due before the next poll
            soon = time.monotonic() + max(0.0, (later - now).total_seconds())
            self._next_sweep = min(self._next_sweep, soon)

    def _claim_token(self) -> str:
        return f"{self._instance}:{uuid.uuid4().hex[:12]}"

    async def attempt(self, doc: Document, mail: SmtpConnection) -> Record | None:
        """One attempt at `doc`. Sent: returns its `notification-delivered`, for
        `finish_sent`. Not sent: records the failure (to retry later, or dead) and
        returns None."""
        try:
            with telemetry.delivery_attempt(doc["channel"]):  # span and sent/failed counts
                await self._send(doc, mail)
        except SendFailed as exc:
            failure = exc
        except PyMongoError:
            raise  # the store is away: the worker waits, the claim runs out, it is retried
        except Exception as exc:
            # Anything else (the email package refuses a header, the content is not what
            # a message needs, ...) fails the same way on every attempt: given up at once
            # with the reason, instead of escaping the worker and being retried for ever.
            failure = SendFailed(
                f"the message could not be made or sent ({type(exc).__name__})", permanent=True
            )
            log.warning("delivery_unsendable", delivery=doc["_id"], error=type(exc).__name__)
        else:
            return self._delivered(doc)
        if failure.permanent or self.policy.gives_up_after(doc["attempts"]):
            error = failure.error
            telemetry.delivery_given_up(doc["channel"])
            recorded = await self.deliveries.dead(doc, error, self._failed(doc, error))
            log.warning(
                "delivery_dead", delivery=doc["_id"], kind=doc["kind"], attempts=doc["attempts"]
            )
        else:
            delay = self.policy.delay(doc["attempts"])
            telemetry.delivery_retrying(doc["channel"])
            recorded = await self.deliveries.retry_later(doc, failure.error, delay)
            log.info(
                "delivery_retry",
                delivery=doc["_id"],
                attempts=doc["attempts"],
                in_seconds=round(delay, 2),
            )
        self._claim_lost(recorded, doc)
        return None

    async def finish_sent(self, doc: Document, outcome: Record) -> None:
        """A sent delivery's outcome: publish it, then record the delivery sent.
        Published: only the status is written, together with other workers'. Not (the
        broker is away): the event goes to the delivery's outbox in the same write, and
        the relay publishes it. Raises what the store raised, after logging it: the
        delivery stays claimed, its claim runs out and it is sent again."""
        try:
            if await self._publish_now(outcome):
                await self._recorder.record(doc)
            else:
                self._claim_lost(await self.deliveries.sent(doc, [outcome]), doc)
        except Exception as exc:
            log.warning("delivery_not_recorded", delivery=doc["_id"], error=type(exc).__name__)
            raise
        finally:
            self._in_hand.discard(doc["_id"])
        log.info("delivery_sent", delivery=doc["_id"], kind=doc["kind"], channel=doc["channel"])

    @staticmethod
    def _claim_lost(recorded: bool, doc: Document) -> None:
        if not recorded:
            # The claim expired and another sender took the delivery over; it records.
            log.warning("delivery_claim_lost", delivery=doc["_id"])

    async def _publish_now(self, outcome: Record) -> bool:
        """Publish `notification-delivered` at once, before the delivery is marked sent,
        so the common case costs no outbox write and no relay round; False when the broker
        did not acknowledge it in time (then the outbox takes it).

        Nothing is lost: the delivery is marked sent only after the event was
        acknowledged or stored in its outbox. A crash in between sends the mail again
        (the same Message-ID, as for a crash between sending and recording) and publishes
        the event again under the same id, which consumers de-duplicate."""
        if self.publish is None:
            return False
        try:
            await asyncio.wait_for(self.publish(outcome), timeout=PUBLISH_TIMEOUT_SECONDS)
        except Exception as exc:
            log.info("outcome_to_outbox", error=type(exc).__name__)
            return False
        return True

    async def _send(self, doc: Document, mail: SmtpConnection) -> None:
        content = doc.get("content") or {}
        if doc["channel"] == "email":
            message = self.smtp.compose(
                doc["recipient"],
                doc["message_id"],
                content["subject"],
                content["text"],
                content["html"],
                doc["language"],
                reply_to=content.get("reply_to"),
            )
            await mail.send(self.smtp.mail(message))
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
