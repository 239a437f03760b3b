"""Use case: turn events into their deliveries and store them, once. Nothing is sent here.

The consumer only plans, for what one poll returned at a time: it renders every
message (an event that cannot be rendered is poison and goes to the dead-letter
topic) and stores one pending delivery per message with `$setOnInsert`, all in
one bulk write, so a redelivered event adds nothing. The new deliveries are
stored claimed by this process's sender (as many as its queue has room for)
and handed to it; the sender (`handlers.sending`) does the sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import (
    CaseContactChanged,
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    Event,
    ReferralMade,
    ReferralUpdated,
)
from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import Claim, DeliveryRepository, PlannedDelivery
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.domain import cloudevent
from indgang_notifications.domain.messages import (
    WEBHOOK_KIND,
    Audience,
    CaseParties,
    Department,
    OutgoingMessage,
    consultant_of,
    plan,
)
from indgang_notifications.settings import NotificationSettings

log = structlog.get_logger(__name__)


class PartiesNotYetKnown(ConnectionError):
    """The case's case-routed has not been seen yet. A ConnectionError, so the consumer
    treats it as transient: retried with backoff, then the record is redelivered."""


class PartiesUnknown(LookupError):
    """Waited long enough for the case's case-routed: poison, to the dead-letter topic."""


class Handover(Protocol):
    """The sender in this process, which takes new deliveries straight from the planner."""

    def claim_for(self, count: int) -> Claim | None: ...

    def take(self, deliveries: Sequence[dict[str, Any]]) -> None: ...

    def kick(self) -> None: ...


class Planner:
    def __init__(
        self,
        settings: NotificationSettings,
        deliveries: DeliveryRepository,
        parties: CaseParticipants,
        subscriptions: SubscriptionRepository,
        templates: MessageTemplates,
        departments: dict[str, Department],
        sender: Handover,
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.parties = parties
        self.subscriptions = subscriptions
        self.templates = templates
        self.departments = departments
        self.sender = sender

    async def on_event(self, envelope: Envelope[Event]) -> None:
        await self.on_events([envelope])

    async def on_events(self, envelopes: Sequence[Envelope[Event]]) -> None:
        """Plan and store the deliveries of these events (in their order), then remember
        who each case is between. Raises for a referral whose inquirer is not known yet,
        after storing everything else."""
        audience = Audience(
            self.departments, await self.subscriptions.active(), self.settings.staff_language
        )
        # Each case's parties as the batch goes: a later event about the same case
        # (a second routing) must see what an earlier one in this batch changed.
        known: dict[str, CaseParties | None] = {}
        planned: list[PlannedDelivery] = []
        waiting: list[tuple[Event, list[str]]] = []
        # Cases whose consultant changed: their earlier deliveries move to the new one's log.
        reassigned: dict[str, str] = {}
        # Routings that started their case's record as its parties were read.
        started: list[CaseParties] = []
        for envelope in envelopes:
            event = envelope.data
            case_id: str | None = getattr(event, "case_id", None)
            if isinstance(event, CaseRouted) and event.case_id not in known:
                routing = _routing(event)
                known[event.case_id], new_record = await self.parties.get_or_start(routing)
                if new_record:
                    started.append(routing)
            elif case_id and case_id not in known:
                known[case_id] = await self.parties.get(case_id)
            parties = known.get(case_id) if case_id else None
            after = _latest(parties, event) if isinstance(event, CaseRouted) else parties
            consultant_id = consultant_of(event, after)
            messages = plan(envelope, audience, parties)
            # Render everything before storing anything: one unrenderable message makes
            # the event poison, and a fixed template plus a replay sends the rest.
            planned += [
                self.delivery(envelope, message, consultant_id) for message in messages.messages
            ]
            if isinstance(event, CaseRouted):
                known[event.case_id] = after
                if consultant_id and parties is not None and parties.consultant.id != consultant_id:
                    reassigned[event.case_id] = consultant_id
            if messages.waiting_for:
                waiting.append((event, messages.waiting_for))
        claim = self.sender.claim_for(len(planned))
        new = await self.deliveries.store_all(planned, claim)
        handed = [d for d in new if claim is not None and d["claim"] == claim.token]
        self.sender.take(handed)
        if len(new) > len(handed):
            self.sender.kick()  # some were stored unclaimed (the queue was full): sweep
        # After the deliveries, before the parties: a crash in between replays with the
        # same parties, so the reassignment is found again.
        for case_id, consultant_id in reassigned.items():
            await self.deliveries.reassign(case_id, consultant_id)
        # After the deliveries: a crash in between replays with the same parties.
        await self.remember([e.data for e in envelopes], started)
        log.info("deliveries_planned", events=len(envelopes), planned=len(planned), new=len(new))
        for event, waiting_for in waiting:
            self.wait_or_give_up(event, waiting_for)

    def delivery(
        self, envelope: Envelope[Event], message: OutgoingMessage, consultant_id: str | None = None
    ) -> PlannedDelivery:
        subject, content = self.content(envelope, message)
        return PlannedDelivery(
            message, envelope.type, envelope.data.municipality_code, subject, content, consultant_id
        )

    def content(
        self, envelope: Envelope[Event], message: OutgoingMessage
    ) -> tuple[str | None, dict[str, Any]]:
        if message.kind == WEBHOOK_KIND:
            return None, {"body": cloudevent.structured(envelope).decode()}
        rendered = self.templates.render(message.kind, message.language, message.context)
        content: dict[str, Any] = {
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
        }
        if message.reply_to:
            content["reply_to"] = message.reply_to
        return rendered.subject, content

    async def remember(self, events: Sequence[Event], started: Sequence[CaseParties] = ()) -> None:
        await self.parties.remember(
            [_routing(e) for e in events if isinstance(e, CaseRouted)], started=started
        )
        # One at a time and in order: a case closed and reopened in one batch stays open.
        now = datetime.now(UTC)
        for event in events:
            if isinstance(event, CaseContactChanged):
                # Corrected by the consultant: later mails about the case go to them.
                await self.parties.contact_changed(
                    event.case_id, event.contact, event.changed_at, now
                )
                continue
            if not isinstance(event, CaseStatusChanged):
                continue
            if event.status is CaseStatus.CLOSED:
                retention = timedelta(days=self.settings.case_contact_retention_days)
                await self.parties.closed(event.case_id, event.changed_at, retention, now)
                await self.deliveries.case_closed(event.case_id, event.changed_at, now)
            elif event.reopened:
                await self.parties.reopened(event.case_id, now)
                await self.deliveries.case_reopened(event.case_id, now)

    def wait_or_give_up(self, event: Event, waiting_for: list[str]) -> None:
        if isinstance(event, ReferralMade):
            made_at = event.made_at
        elif isinstance(event, ReferralUpdated):
            made_at = event.answered_at
        else:
            made_at = datetime.now(UTC)
        reason = "; ".join(waiting_for)
        if datetime.now(UTC) - made_at > timedelta(minutes=self.settings.contact_wait_minutes):
            raise PartiesUnknown(f"cannot address {reason}")
        raise PartiesNotYetKnown(f"waiting for {reason}")


def _routing(event: CaseRouted) -> CaseParties:
    return CaseParties(event.case_id, event.consultant, event.contact, event.routed_at)


def _latest(known: CaseParties | None, routed: CaseRouted) -> CaseParties | None:
    """The parties after this routing, as `CaseParticipants.remember` will store them."""
    if known is not None and known.routed_at is not None and known.routed_at > routed.routed_at:
        return known
    contact = routed.contact or (known.contact if known is not None else None)
    return CaseParties(routed.case_id, routed.consultant, contact, routed.routed_at)
