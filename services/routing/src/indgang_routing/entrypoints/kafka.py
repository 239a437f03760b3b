"""Routing's Kafka wiring (one KafkaRouter for the service): what it publishes
(through its outbox) and its subscribers."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaRouter

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import (
    CaseContactChanged,
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatusChanged,
    FirstContactOverdue,
    GuideEntriesShared,
    InquiryReceived,
    MessageToEnterprise,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
    RsvReadinessChanged,
)
from indgang_routing.handlers.cases import CaseRouting
from indgang_routing.handlers.referrals import Referrals
from indgang_routing.settings import RoutingSettings
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.wiring import declare_publishers, subscribe


def build_router(
    settings: RoutingSettings, routing: CaseRouting, referrals: Referrals, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()
    declare_publishers(
        router,
        settings,
        [
            CaseRouted,
            ReferralMade,
            CaseStatusChanged,
            FirstContactOverdue,
            ReferralUpdated,
            GuideEntriesShared,
            ReferralOverdue,
            MessageToEnterprise,
            CaseContactChanged,
            CaseOutcomeRecorded,
            RsvReadinessChanged,
        ],
    )

    async def route(envelopes: Sequence[Envelope[InquiryReceived]]) -> None:
        await routing.route_inquiries([e.data for e in envelopes])

    subscribe(
        router,
        settings,
        consumer,
        InquiryReceived,
        route,
        description="Puts the inquiry on its organisation's open case, or opens a case and "
        "assigns its one consultant. Takes what one poll returned, in order.",
        batch=True,
    )
    subscribe(
        router,
        settings,
        consumer,
        ReferralUpdated,
        referrals.apply,
        description="Applies a department's answer to a referral (idempotent on the event id; "
        "routing's own answers come back here too). Unknown case or referral: dead letter.",
    )
    return router
