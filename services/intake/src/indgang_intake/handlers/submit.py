"""Use case: receive an inquiry through any door."""

from __future__ import annotations

from indgang_contracts.envelope import encode
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Inquiry, InquirySubmission
from indgang_intake.settings import IntakeSettings
from indgang_runtime.messaging import retry_transient
from indgang_runtime.outbox import OutboxRelay


async def submit_inquiry(
    submission: InquirySubmission,
    *,
    repository: InquiryRepository,
    relay: OutboxRelay,
    settings: IntakeSettings,
) -> Inquiry:
    inquiry = Inquiry.receive(
        submission,
        municipality_code=settings.municipality_code,
        privacy_notice_version=settings.privacy_notice_version,
    )
    record = encode(inquiry.received_event(), source=settings.event_source)
    # Stored (with its event) before we answer; Kafka need not be up.
    await retry_transient(lambda: repository.add(inquiry, [record]), attempts=3)
    relay.kick()
    return inquiry
