"""Notifications' Kafka subscribers: one per public event, one KafkaRouter."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from indgang_contracts.events import CaseRouted, Event, InquiryReceived, ReferralMade
from indgang_contracts.topics import topic_for
from indgang_notifications.handlers.notify import Notifier
from indgang_notifications.settings import NotificationSettings
from indgang_runtime.messaging import EventConsumer, subscriber_options


def build_router(
    settings: NotificationSettings, notifier: Notifier, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()
    options = subscriber_options(settings)

    async def handle(message: KafkaMessage, model: type[Event]) -> None:
        # Rendering problems are poison (dead-lettered by the consumer with the
        # reason); SMTP outages are transient (retried, then redelivered).
        await consumer.handle(message, model, notifier.deliver)

    @router.subscriber(
        settings.topic(topic_for(InquiryReceived)),
        title="notifications/on_inquiry_received",
        description="Sends the receipt to the inquirer.",
        **options,
    )
    async def on_inquiry_received(message: KafkaMessage) -> None:
        await handle(message, InquiryReceived)

    @router.subscriber(
        settings.topic(topic_for(CaseRouted)),
        title="notifications/on_case_routed",
        description="Tells the consultant about the new case.",
        **options,
    )
    async def on_case_routed(message: KafkaMessage) -> None:
        await handle(message, CaseRouted)

    @router.subscriber(
        settings.topic(topic_for(ReferralMade)),
        title="notifications/on_referral_made",
        description="Sends the referral to the department's mailbox.",
        **options,
    )
    async def on_referral_made(message: KafkaMessage) -> None:
        await handle(message, ReferralMade)

    return router
