"""Notifications' Kafka wiring: one subscriber per public event, one KafkaRouter; it
publishes the delivery outcomes (notification-delivered, notification-failed).

Every handler only plans and stores deliveries (idempotent); rendering problems
are poison (dead-lettered by the consumer with the reason); store outages are
transient (retried, then the records are redelivered). Each subscriber takes
what one poll returned and stores its deliveries together, except referrals and
their answers: one may have to wait for its case's case-routed, and that wait
must hold up only those after it, not be repeated for a whole batch.
"""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from indgang_contracts.events import (
    CaseContactChanged,
    CaseOutcomeRecorded,
    CaseRouted,
    CaseStatusChanged,
    Event,
    FirstContactOverdue,
    GuideEntriesShared,
    GuideEntryPublished,
    InquiryReceived,
    MessageToEnterprise,
    NotificationDelivered,
    NotificationFailed,
    ReferralMade,
    ReferralOverdue,
    ReferralUpdated,
    RsvReadinessChanged,
)
from indgang_notifications.handlers.notify import Planner
from indgang_notifications.settings import NotificationSettings
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.wiring import declare_publishers, subscribe


def build_router(
    settings: NotificationSettings, planner: Planner, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()
    declare_publishers(router, settings, [NotificationDelivered, NotificationFailed])

    def on(model: type[Event], description: str, *, batch: bool = True) -> None:
        if batch:
            subscribe(
                router,
                settings,
                consumer,
                model,
                planner.on_events,
                description=description,
                batch=True,
            )
        else:
            subscribe(router, settings, consumer, model, planner.on_event, description=description)

    on(InquiryReceived, "Receipt to the inquirer; webhooks.")
    on(
        CaseRouted,
        "Introduction of the consultant to the inquirer, new case to the consultant, "
        "notice to the former consultant on reassignment; webhooks.",
    )
    on(
        ReferralMade,
        "The referral to the department's mailbox and e-mail subscribers, a notice to the "
        "inquirer; webhooks.",
        batch=False,
    )
    on(FirstContactOverdue, "Reminder to the consultant and the team lead; webhooks.")
    on(GuideEntriesShared, "The chosen guide entries to the inquirer; webhooks.")
    on(
        CaseStatusChanged,
        "On closing with a line for the enterprise, 'your case is closed, and why' to it; "
        "forgets a closed case's contact after retention; webhooks.",
    )
    on(
        ReferralUpdated,
        "The department's answer to the consultant (unless they recorded it themselves) and "
        "what happens next to the inquirer; webhooks.",
        batch=False,
    )
    on(ReferralOverdue, "Reminder to the consultant; webhooks.")
    on(MessageToEnterprise, "The consultant's message to the inquirer (Reply-To the consultant).")
    on(CaseContactChanged, "Remembers the corrected contact person for later mails.")
    on(GuideEntryPublished, "Webhooks.")
    # Offered to subscribers (e.g. the business service following RSV readiness), so read
    # here although they cause no mail; they carry no personal data.
    on(CaseOutcomeRecorded, "Webhooks.")
    on(RsvReadinessChanged, "Webhooks.")
    return router
