"""Intake's Kafka wiring: it publishes inquiry-received (through its outbox) and
subscribes to case status, for the deletion deadlines."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaRouter

from indgang_contracts.envelope import Envelope
from indgang_contracts.events import CaseStatus, CaseStatusChanged, InquiryReceived
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.settings import IntakeSettings
from indgang_runtime.messaging import EventConsumer
from indgang_runtime.wiring import declare_publishers, subscribe


async def record_case_status(
    repository: InquiryRepository, envelope: Envelope[CaseStatusChanged]
) -> int:
    """Remember when the inquiry's case was closed (or reopened).

    Matched by the inquiry's reference, which the case carries; an event for a
    reference intake does not know (another deployment's) changes nothing.
    """
    event = envelope.data
    return await repository.record_case_status(
        reference=event.reference,
        case_id=event.case_id,
        status=event.status.value,
        closed=event.status is CaseStatus.CLOSED,
        at=event.changed_at,
    )


async def record_case_statuses(
    repository: InquiryRepository, envelopes: Sequence[Envelope[CaseStatusChanged]]
) -> None:
    """What one poll brought, one event after the other: a case's changes arrive in
    order on its partition and each may depend on the one before (close, reopen)."""
    for envelope in envelopes:
        await record_case_status(repository, envelope)


def build_router(
    settings: IntakeSettings, repository: InquiryRepository, consumer: EventConsumer
) -> KafkaRouter:
    router = KafkaRouter()
    declare_publishers(router, settings, [InquiryReceived])

    async def record(envelopes: Sequence[Envelope[CaseStatusChanged]]) -> None:
        await record_case_statuses(repository, envelopes)

    subscribe(
        router,
        settings,
        consumer,
        CaseStatusChanged,
        record,
        description="Records when an inquiry's case is closed or reopened, so that its "
        "contact data is anonymised when the deletion deadline after closing passes.",
        batch=True,
    )
    return router
