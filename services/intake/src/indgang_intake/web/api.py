"""Intake's JSON API for the web form, staff and department systems."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from indgang_intake.adapters.inquiries import InquiryRepository
from indgang_intake.domain.inquiry import InquirySubmission
from indgang_intake.handlers.submit import submit_inquiry
from indgang_intake.settings import IntakeSettings
from indgang_runtime.outbox import OutboxRelay


class InquiryAccepted(BaseModel):
    inquiry_id: str = Field(description="The inquiry's id.")
    reference: str = Field(description="Reference to quote when contacting the municipality.")
    status: str = Field(default="received")


def api_router(
    *, repository: InquiryRepository, relay: OutboxRelay, settings: IntakeSettings
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["inquiries"])

    @router.post(
        "/inquiries",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=InquiryAccepted,
        summary="Submit an inquiry",
        description="Stores the inquiry and publishes inquiry-received through the outbox. "
        "Invalid input gets 422 with an error per field; nothing is stored.",
    )
    async def post_inquiry(submission: InquirySubmission) -> InquiryAccepted:
        inquiry = await submit_inquiry(
            submission, repository=repository, relay=relay, settings=settings
        )
        return InquiryAccepted(inquiry_id=inquiry.id, reference=inquiry.reference)

    @router.get("/inquiries/{inquiry_id}/status", summary="Whether an inquiry was received")
    async def inquiry_status(inquiry_id: str) -> dict[str, str]:
        found = await repository.get(inquiry_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such inquiry")
        return {"inquiry_id": inquiry_id, "reference": found["reference"], "status": "received"}

    return router
