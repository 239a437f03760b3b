"""Use case: receive an inquiry through any door."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from prometheus_client import Counter

from indgang_contracts.envelope import encode
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Door, Inquiry, InquirySubmission
from indgang_intake.settings import IntakeSettings
from indgang_runtime.messaging import retry_transient

log = structlog.get_logger(__name__)

RECEIVED = Counter(
    "indgang_intake_inquiries_received_total",
    "Inquiries stored, by door",
    ["channel", "forwarded_by", "follow_up"],
)


@dataclass(frozen=True)
class Receipt:
    """What the inquirer (or the client system) is told."""

    inquiry_id: str
    reference: str
    follow_up: bool

    def as_json(self) -> dict[str, object]:
        return {
            "inquiry_id": self.inquiry_id,
            "reference": self.reference,
            "status": "received",
            "follow_up": self.follow_up,
        }


async def submit_inquiry(
    submission: InquirySubmission,
    *,
    door: Door,
    repository: InquiryRepository,
    settings: IntakeSettings,
    inquiry_id: str | None = None,
    reference: str | None = None,
) -> Receipt:
    """Store the inquiry with its inquiry-received event; answer only once it is stored.

    A repeat contact (the organisation has an earlier inquiry on record) is
    accepted and marked `follow_up_of` that inquiry, so routing keeps it with
    the organisation's consultant. A retry with the same inquiry id that finds
    it stored answers with what was stored.
    """
    probe = Inquiry.receive(
        submission,
        door=door,
        municipality_code=settings.municipality_code,
        privacy_notice_version=settings.privacy_notice_version,
        inquiry_id=inquiry_id,
        reference=reference,
    )
    earlier = await retry_transient(
        lambda: repository.latest_for_organisation(
            probe.organisation_key, now=probe.received_at, exclude_id=probe.id
        ),
        attempts=3,
    )
    inquiry = Inquiry(
        id=probe.id,
        reference=probe.reference,
        received_at=probe.received_at,
        submission=submission,
        door=door,
        municipality_code=probe.municipality_code,
        privacy_notice_version=probe.privacy_notice_version,
        follow_up_of=earlier,
    )
    record = encode(inquiry.received_event(), source=settings.event_source)
    # Stored (with its event) before we answer; Kafka need not be up.
    stored = await retry_transient(lambda: repository.add(inquiry, [record]), attempts=3)
    follow_up = stored.follow_up_of is not None
    RECEIVED.labels(
        door.channel.value,
        door.forwarded_by.value if door.forwarded_by else "",
        str(follow_up).lower(),
    ).inc()
    log.info(
        "inquiry_received",
        inquiry_id=stored.id,
        reference=stored.reference,
        channel=door.channel.value,
        follow_up=follow_up,
    )
    return Receipt(stored.id, stored.reference, follow_up)
