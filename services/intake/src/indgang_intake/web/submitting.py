"""Storing a submission from the web: the form (once per form token) and the API share it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Protocol

from indgang_intake.adapters.idempotency import IdempotencyStore
from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import Door, InquirySubmission
from indgang_intake.handlers.idempotent import IdempotencyInProgress, fingerprint, submit_once
from indgang_intake.handlers.submit import Receipt, submit_inquiry
from indgang_intake.settings import IntakeSettings


class Submit(Protocol):
    """Stores the submission; a retry passes the id and reference the first attempt chose."""

    def __call__(
        self, inquiry_id: str | None = None, reference: str | None = None
    ) -> Awaitable[Receipt]: ...


def submitter(
    submission: InquirySubmission,
    door: Door,
    repository: InquiryRepository,
    settings: IntakeSettings,
) -> Submit:
    async def submit(inquiry_id: str | None = None, reference: str | None = None) -> Receipt:
        return await submit_inquiry(
            submission,
            door=door,
            repository=repository,
            settings=settings,
            inquiry_id=inquiry_id,
            reference=reference,
        )

    return submit


async def store_form(
    token: str | None,
    submission: InquirySubmission,
    door: Door,
    *,
    repository: InquiryRepository,
    idempotency: IdempotencyStore,
    settings: IntakeSettings,
) -> Receipt:
    """Store a form's inquiry: the same form sent twice (double click, reload) gives one
    inquiry and one receipt. Raises IdempotencyInProgress if the first is still running."""
    submit = submitter(submission, door, repository, settings)
    if token is None:
        return await submit()
    print_ = fingerprint(
        {
            "channel": door.channel.value,
            "forwarded_by": door.forwarded_by.value if door.forwarded_by else None,
            "received_by": door.received_by,
            "data": submission.model_dump(mode="json"),
        }
    )
    for _ in range(20):
        try:
            outcome = await submit_once(
                idempotency,
                repository,
                client="form",
                key=f"{token}:{print_}",
                body_fingerprint=print_,
                submit=submit,
            )
        except IdempotencyInProgress:
            await asyncio.sleep(0.25)
            continue
        return outcome.receipt
    raise IdempotencyInProgress
