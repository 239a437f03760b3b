"""Reporting's Kafka wiring: it only consumes (one consumer group per topic, its own:
`indgang-reporting.<topic>`), and publishes nothing. Every subscriber hands what one
poll returned to the projector, which stores it with idempotent merges; an event it
cannot apply is dead-lettered with the reason."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from indgang_contracts.events import (
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatusChanged,
    Event,
    FirstContactOverdue,
    InquiryReceived,
    NotificationDelivered,
    NotificationFailed,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
    RsvReadinessChanged,
)
from indgang_reporting.handlers.projector import Projector
from indgang_reporting.settings import ReportingSettings
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.wiring import subscribe

# What the read model is made of (and what a rebuild reads again from the start).
CONSUMED: dict[type[Event], str] = {
    InquiryReceived: "Inquiries by door, need and stage; follow-ups.",
    CaseRouted: "A case opened (first contact deadline), its consultant; the inquiry's case.",
    CaseStatusChanged: "First contact, closings and reopenings.",
    FirstContactOverdue: "When a case went past its first-contact deadline.",
    ReferralMade: "Referrals per department and provider.",
    ReferralUpdated: "Answers: accepted, declined (reason), completed (hires by instrument).",
    ReferralOverdue: "Referrals not answered by their deadline.",
    NotificationDelivered: "Messages delivered.",
    NotificationFailed: "Messages given up.",
    CaseOutcomeRecorded: "Social value recorded by the consultant (a correction replaces it).",
    RsvReadinessChanged: "A case's RSV readiness checklist (the latest state).",
}


def build_router(
    settings: ReportingSettings, projector: Projector, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()
    for model, description in CONSUMED.items():
        subscribe(
            router,
            settings,
            consumer,
            model,
            projector.on_events,
            description=description,
            batch=True,
        )
    return router
