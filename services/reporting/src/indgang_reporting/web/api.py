"""The reports as JSON for the municipality's BI tools: one endpoint per report, each
with its schema in the OpenAPI document (`/docs`, `/openapi.json`). The same figures as
the pages, for the same query (from, to, per, consultant, door, department)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends

from indgang_reporting.domain import figures as f
from indgang_reporting.domain.figures import Selection
from indgang_reporting.handlers.reports import report
from indgang_reporting.web.access import reader
from indgang_reporting.web.selection import api_selection
from indgang_reporting.web.state import Store

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(reader)])
Chosen = Annotated[Selection, Depends(api_selection)]
_AUTH = " Signed-in team lead or management (session cookie), or the BI key in `X-Reports-Key`."


async def _report(store: Any, name: str, chosen: Selection) -> Any:
    return await report(store, name, chosen)


@router.get(
    "/inquiries",
    summary="Inquiries per period, by door, need, stage and consultant; follow-ups",
    description="An inquiry counts in the period it was received (Danish date)." + _AUTH,
)
async def inquiries(store: Store, chosen: Chosen) -> f.InquiriesReport:
    return cast("f.InquiriesReport", await _report(store, "inquiries", chosen))


@router.get(
    "/first-contact",
    summary="Time to first contact against the deadline; cases overdue now",
    description="A case counts in the period it was opened. Median; 90th percentile by "
    "nearest rank; on time = contacted on or before the deadline day." + _AUTH,
)
async def first_contact(store: Store, chosen: Chosen) -> f.FirstContactReport:
    return cast("f.FirstContactReport", await _report(store, "first-contact", chosen))


@router.get(
    "/referrals",
    summary="Referrals per department and provider: answered, accepted, declined, completed",
    description="A referral counts in the period it was made." + _AUTH,
)
async def referrals(store: Store, chosen: Chosen) -> f.ReferralsReport:
    return cast("f.ReferralsReport", await _report(store, "referrals", chosen))


@router.get(
    "/closed",
    summary="Cases closed and reopened, with the social value recorded up to the closing",
    description="A closing counts in the period it happened; a case once per period. Its "
    "social value: the consultant's recordings on the case (latest version, not withdrawn) "
    "whose day is on or before its last closing in the period." + _AUTH,
)
async def closed(store: Store, chosen: Chosen) -> f.ClosedReport:
    return cast("f.ClosedReport", await _report(store, "closed", chosen))


@router.get(
    "/social-value",
    summary="Social value: recorded by the consultants, and through completed referrals",
    description="`recorded_*`: what the consultants recorded on the cases "
    "(case-outcome-recorded; the latest version of each recording, withdrawn ones count "
    "nothing), in the period of the day it belongs to: people employed by instrument, RSV "
    "registrations helped, supplier agreements, social clauses. `periods`, `by_target`, "
    "`by_consultant`: the outcomes of completed referrals, in the period they were "
    "completed. The two are not added up: the same person can be in both." + _AUTH,
)
async def social_value(store: Store, chosen: Chosen) -> f.SocialValueReport:
    return cast("f.SocialValueReport", await _report(store, "social-value", chosen))


@router.get(
    "/rsv-readiness",
    summary="RSV readiness: cases ready and registered; each criterion met, not yet, unknown",
    description="Each case once, with its latest checklist, in the period of the "
    "checklist's latest change. Ready: all five criteria of lov nr. 711/2014 § 5 met." + _AUTH,
)
async def rsv_readiness(store: Store, chosen: Chosen) -> f.RsvReadinessReport:
    return cast("f.RsvReadinessReport", await _report(store, "rsv-readiness", chosen))


@router.get(
    "/messages",
    summary="Messages delivered and given up",
    description="A delivery counts in the period of its last outcome." + _AUTH,
)
async def messages(store: Store, chosen: Chosen) -> f.MessagesReport:
    return cast("f.MessagesReport", await _report(store, "messages", chosen))
