"""Routing's Kafka subscribers (one KafkaRouter for the service)."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from indgang_contracts.events import CaseRouted, InquiryReceived, ReferralMade
from indgang_contracts.topics import topic_for
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.settings import RoutingSettings
from indgang_runtime.messaging import EventConsumer, subscriber_options


def build_router(
    settings: RoutingSettings, routing: CaseRouting, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        settings.topic(topic_for(InquiryReceived)),
        title="routing/on_inquiry_received",
        description="Opens a case for the inquiry and assigns its one consultant.",
        **subscriber_options(settings),
    )
    async def on_inquiry_received(message: KafkaMessage) -> None:
        await consumer.handle(message, InquiryReceived, lambda e: routing.route_inquiry(e.data))

    # Documented publications (the outbox relay does the publishing).
    router.publisher(topic_for(CaseRouted), title="routing/case-routed", schema=CaseRouted)
    router.publisher(topic_for(ReferralMade), title="routing/referral-made", schema=ReferralMade)
    return router
