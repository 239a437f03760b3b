"""Routing's HTTP API: read a case, refer it to a department."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from indgang_contracts.events import Department, Need, ReferralTarget
from indgang_routing.domain.case import ReferralRequest
from indgang_routing.handlers.cases import CaseNotFound, CaseRouting


class ReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    department: Department = Field(description="Who is asked to help.")
    provider_id: str | None = Field(default=None, description="For outside providers.")
    purpose: str = Field(min_length=1, max_length=2000, description="What and why.")
    needs: list[Need] = Field(default_factory=list, description="Needs this referral covers.")
    response_due: date | None = Field(default=None, description="Answer wanted by.")
    consent_to_share_contact: bool = Field(
        description="The inquirer agreed that their contact details may be shared."
    )


class ReferralCreated(BaseModel):
    referral_id: str
    case_id: str


def _public(case: dict[str, Any]) -> dict[str, Any]:
    case = dict(case)
    case["id"] = case.pop("_id")
    for key in ("outbox_pending", "outbox_lease_until"):
        case.pop(key, None)
    return case


def api_router(routing: CaseRouting) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["cases"])

    @router.get("/cases/{case_id}", summary="A case with its owner, referrals and timeline")
    async def get_case(case_id: str) -> dict[str, Any]:
        case = await routing.cases.get(case_id)
        if case is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
        return _public(case)

    @router.get("/cases", summary="Cases, optionally of one inquiry or organisation")
    async def list_cases(
        inquiry_id: str | None = None, organisation_key: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if inquiry_id:
            query["inquiry_ids"] = inquiry_id
        if organisation_key:
            query["organisation_key"] = organisation_key
        cursor = (
            routing.cases.collection.find(query, {"outbox": 0})
            .sort("created_at", -1)
            .limit(max(1, min(limit, 200)))
        )
        return [_public(doc) async for doc in cursor]

    @router.post(
        "/cases/{case_id}/referrals",
        status_code=status.HTTP_201_CREATED,
        response_model=ReferralCreated,
        summary="Refer the case to a department or outside provider",
        description="Stores the referral and publishes referral-made. The consultant stays the "
        "owner. Contact details go with the referral only with the inquirer's consent.",
    )
    async def post_referral(case_id: str, body: ReferralIn) -> ReferralCreated:
        request = ReferralRequest(
            target=ReferralTarget(department=body.department, provider_id=body.provider_id),
            purpose=body.purpose,
            needs=body.needs,
            response_due=body.response_due,
            consent_to_share_contact=body.consent_to_share_contact,
        )
        try:
            referral_id = await routing.make_referral(case_id, request)
        except CaseNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from None
        return ReferralCreated(referral_id=referral_id, case_id=case_id)

    return router
