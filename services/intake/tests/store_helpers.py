"""Helpers for intake's tests on the real store, with the clock in the test's hand."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from indgang_contracts.envelope import encode
from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Inquiry, InquirySubmission
from indgang_intake.domain.retention import RetentionPolicy
from indgang_intake.handlers.retention import RetentionJob

MONGODB_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = RetentionPolicy.of(days_after_close=365, days_max=3 * 365, idempotency_hours=24)


def submission(email: str, cvr: str | None = None, name: str = "Grøn Gård") -> InquirySubmission:
    return InquirySubmission.model_validate(
        {
            "organisation": {"name": name, "cvr": cvr, "stage": "start_up"},
            "contact": {"name": "Søren Æbelø", "email": email, "phone": "20304050"},
            "needs": ["rsv_registration"],
            "description": "Vi vil gerne registreres som RSV.",
            "privacy_notice_accepted": True,
        }
    )


async def add(
    repo: InquiryRepository,
    at: datetime,
    *,
    email: str = "soren@example.dk",
    cvr: str | None = None,
    follow_up_of: str | None = None,
    published: bool = True,
) -> Inquiry:
    inquiry = Inquiry.receive(
        submission(email, cvr),
        municipality_code="756",
        privacy_notice_version="test",
        received_at=at,
        follow_up_of=follow_up_of,
    )
    await repo.add(inquiry, [encode(inquiry.received_event(), source="/test")])
    if published:  # as the outbox relay does once Kafka has it
        await repo.collection.update_one({"_id": inquiry.id}, {"$set": {"outbox_pending": 0}})
    return inquiry


async def close(
    repo: InquiryRepository, inquiry: Inquiry, at: datetime, closed: bool = True
) -> int:
    return await repo.record_case_status(
        reference=inquiry.reference,
        case_id=f"case-of-{inquiry.id}",
        status="closed" if closed else "in_progress",
        closed=closed,
        at=at,
    )


def job(repo: InquiryRepository, db: AsyncDatabase[dict[str, Any]]) -> RetentionJob:
    return RetentionJob(repo, IdempotencyStore(db), interval_seconds=3600)
