"""Routing's Kafka subscribers (one KafkaRouter for the service)."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from indgang_contracts.events import (
    CaseRouted,
    CaseStatusChanged,
    FirstContactOverdue,
    GuideEntriesShared,
    InquiryReceived,
    ReferralMade,
    ReferralUpdated,
)
from indgang_contracts.topics import topic_for
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.referrals import Referrals
from indgang_routing.settings import RoutingSettings
from indgang_runtime.messaging import EventConsumer, subscriber_options


def build_router(
    settings: RoutingSettings, routing: CaseRouting, referrals: Referrals, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        settings.topic(topic_for(InquiryReceived)),
        title="routing/on_inquiry_received",
        description="Puts the inquiry on its organisation's open case, or opens a case and "
        "assigns its one consultant. Takes what one poll returned, in order.",
        **subscriber_options(settings, batch=True),
    )
    async def on_inquiry_received(message: KafkaMessage) -> None:
        await consumer.handle_batch(
            message,
            InquiryReceived,
            lambda envelopes: routing.route_inquiries([e.data for e in envelopes]),
        )

    @router.subscriber(
        settings.topic(topic_for(ReferralUpdated)),
        title="routing/on_referral_updated",
        description="Applies a department's answer to a referral (idempotent on the event id; "
        "routing's own answers come back here too). Unknown case or referral: dead letter.",
        **subscriber_options(settings),
    )
    async def on_referral_updated(message: KafkaMessage) -> None:
        await consumer.handle(message, ReferralUpdated, referrals.apply)

    # Documented publications (the outbox relay does the publishing).
    for event in (
        CaseRouted,
        ReferralMade,
        CaseStatusChanged,
        FirstContactOverdue,
        ReferralUpdated,
        GuideEntriesShared,
    ):
        router.publisher(topic_for(event), title=f"routing/{event.EVENT_NAME}", schema=event)
    return router
