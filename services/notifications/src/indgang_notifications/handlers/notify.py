"""Use case: turn an event into its messages and deliver each exactly once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import structlog

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import Event
from indgang_notifications.adapters.deliveries import DeliveryRepository
from indgang_notifications.adapters.smtp import SendFailed, SmtpSender
from indgang_notifications.adapters.templates import MessageTemplates, Rendered
from indgang_notifications.domain.messages import Department, OutgoingMessage, messages_for

log = structlog.get_logger(__name__)


def load_departments(path: Path) -> dict[str, Department]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    return {
        key: Department(id=key, name=value["name"], email=value["email"])
        for key, value in data.get("departments", {}).items()
    }


class Notifier:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        templates: MessageTemplates,
        sender: SmtpSender,
        departments: dict[str, Department],
    ) -> None:
        self.deliveries = deliveries
        self.templates = templates
        self.sender = sender
        self.departments = departments

    def plan(self, envelope: Envelope[Event]) -> list[tuple[OutgoingMessage, Rendered]]:
        """Messages with their rendering; raises (→ dead letter) if one cannot be rendered."""
        planned: list[tuple[OutgoingMessage, Rendered]] = []
        for message in messages_for(envelope, self.departments):
            rendered = self.templates.render(message.kind, message.language, message.context)
            planned.append((message, rendered))
        return planned

    async def deliver(self, envelope: Envelope[Event]) -> None:
        for message, rendered in self.plan(envelope):
            record = await self.deliveries.claim(message)
            if record["status"] == "sent":
                log.info("delivery_already_sent", delivery=record["_id"][:60], kind=message.kind)
                continue
            email = self.sender.build(message.recipient, message.message_id, rendered)
            try:
                await self.sender.send(email)
            except SendFailed as exc:
                await self.deliveries.attempt_failed(message.key, str(exc))
                raise
            await self.deliveries.sent(message.key)
            log.info("delivery_sent", kind=message.kind, event_id=message.event_id)
