"""Use case: turn an event into its deliveries and store them, once. Nothing is sent here.

The consumer only plans: it renders every message (an event that cannot be
rendered is poison and goes to the dead-letter topic) and stores one pending
delivery per message with `$setOnInsert`, so a redelivered event adds nothing.
The sender (`handlers.sending`) does the sending.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import (
    CaseRouted,
    CaseStatus,
    CaseStatusChanged,
    Event,
    ReferralMade,
)
from indgang_notifications.adapters.case_parties import CaseParticipants
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.subscriptions import SubscriptionRepository
from indgang_notifications.adapters.templates import MessageTemplates
from indgang_notifications.domain import cloudevent
from indgang_notifications.domain.messages import (
    WEBHOOK_KIND,
    Audience,
    CaseParties,
    Department,
    OutgoingMessage,
    plan,
)
from indgang_notifications.settings import NotificationSettings

log = structlog.get_logger(__name__)


def load_departments(path: Path) -> dict[str, Department]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {
        key: Department(
            id=key, name=value["name"], email=value["email"], language=value.get("language", "da")
        )
        for key, value in data.get("departments", {}).items()
    }


class PartiesNotYetKnown(ConnectionError):
    """The case's case-routed has not been seen yet. A ConnectionError, so the consumer
    treats it as transient: retried with backoff, then the record is redelivered."""


class PartiesUnknown(LookupError):
    """Waited long enough for the case's case-routed: poison, to the dead-letter topic."""


class Planner:
    def __init__(
        self,
        settings: NotificationSettings,
        deliveries: DeliveryRepository,
        parties: CaseParticipants,
        subscriptions: SubscriptionRepository,
        templates: MessageTemplates,
        departments: dict[str, Department],
        wake_sender: Any,
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.parties = parties
        self.subscriptions = subscriptions
        self.templates = templates
        self.departments = departments
        self.wake_sender = wake_sender

    async def on_event(self, envelope: Envelope[Event]) -> None:
        event = envelope.data
        case_id: str | None = getattr(event, "case_id", None)
        parties = await self.parties.get(case_id) if case_id else None
        audience = Audience(
            self.departments, await self.subscriptions.all(), self.settings.staff_language
        )
        planned = plan(envelope, audience, parties)
        # Render everything before storing anything: one unrenderable message makes
        # the whole event poison, and a fixed template plus a replay sends the rest.
        contents = [self.content(envelope, message) for message in planned.messages]
        new = 0
        for message, (subject, content) in zip(planned.messages, contents, strict=True):
            stored = await self.deliveries.store(
                message,
                event_type=envelope.type,
                municipality_code=event.municipality_code,
                subject=subject,
                content=content,
            )
            new += stored
        # After the deliveries: a crash in between replays with the same parties.
        await self.remember(event)
        if new:
            self.wake_sender()
        log.info("deliveries_planned", planned=len(planned.messages), new=new)
        if planned.waiting_for:
            self.wait_or_give_up(event, planned.waiting_for)

    def content(
        self, envelope: Envelope[Event], message: OutgoingMessage
    ) -> tuple[str | None, dict[str, Any]]:
        if message.kind == WEBHOOK_KIND:
            return None, {"body": cloudevent.structured(envelope).decode()}
        rendered = self.templates.render(message.kind, message.language, message.context)
        return rendered.subject, {
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
        }

    async def remember(self, event: Event) -> None:
        if isinstance(event, CaseRouted):
            await self.parties.remember(
                CaseParties(event.case_id, event.consultant, event.contact), event.routed_at
            )
        elif isinstance(event, CaseStatusChanged):
            if event.status is CaseStatus.CLOSED:
                retention = timedelta(days=self.settings.case_contact_retention_days)
                await self.parties.closed(event.case_id, event.changed_at, retention)
            elif event.reopened:
                await self.parties.reopened(event.case_id)

    def wait_or_give_up(self, event: Event, waiting_for: list[str]) -> None:
        made_at = event.made_at if isinstance(event, ReferralMade) else datetime.now(UTC)
        reason = "; ".join(waiting_for)
        if datetime.now(UTC) - made_at > timedelta(minutes=self.settings.contact_wait_minutes):
            raise PartiesUnknown(f"cannot address {reason}")
        raise PartiesNotYetKnown(f"waiting for {reason}")
