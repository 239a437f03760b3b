"""The case pages: my cases, one case, and the team lead's lists of open cases and
problems. What a case page's forms do is in `web/console/actions.py`."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from indgang_contracts.events import CaseStatus, ContactChannel, Department, InquiryChannel, Need
from indgang_routing.adapters.cases import OPEN, newest_first
from indgang_routing.domain.calendar import add_working_days, this_and_last_month
from indgang_routing.domain.case import Case, contact_of
from indgang_routing.domain.errors import RoutingError
from indgang_routing.domain.referrals import late_referrals
from indgang_routing.domain.search import CaseFilters, deadline, search_page, search_term
from indgang_routing.domain.social_value import (
    CRITERIA,
    EMPLOYED,
    STATUS_NAMES,
    WON,
    blank_readiness,
    is_ready,
    met_count,
    outcome_summary,
    totals,
)
from indgang_routing.web import views
from indgang_routing.web.common import staff, team_lead
from indgang_routing.web.console.pages import Page, lead_page, staff_page
from indgang_runtime.auth import StaffUser

REFERRAL_DAYS = 10  # default answer deadline, in working days
RECENTLY_CLOSED = 10  # closed this month or last, newest first

router = APIRouter(include_in_schema=False, dependencies=[Depends(staff)])
lead = APIRouter(
    prefix="/teamleder",
    include_in_schema=False,
    dependencies=[Depends(staff), Depends(team_lead)],
)


@router.get("/")
async def home(user: StaffUser = Depends(staff)) -> Response:
    return RedirectResponse("/sager", status_code=303)


@router.get("/sager")
async def my_cases(page: Page = Depends(staff_page)) -> Response:
    cases, today, consultant_id = page.ctx.cases, page.today(), page.actor.consultant_id
    mine: list[Case] = []
    closed: list[Case] = []
    if consultant_id:
        mine = await cases.open_cases(consultant_id)
        recent = await cases.closed_in(consultant_id, this_and_last_month(today))
        closed = newest_first(recent, "closed_at")[:RECENTLY_CLOSED]
    return page.render(
        "console/my_cases.html",
        nav="mine",
        cases=views.by_urgency(mine, today),
        closed=closed,
    )


@router.get("/sager/soeg")
async def search_cases(
    q: str = "",
    status: str = "",
    behov: str = "",
    kanal: str = "",
    konsulent: str = "",
    overskredet: bool = False,
    afventer: bool = False,
    forsinket: bool = False,
    side: int = 1,
    page: Page = Depends(staff_page),
) -> Response:
    """Find any case: one term through the index, the rest filtered here (`domain/search.py`).
    A team lead searches every case, a consultant only their own."""
    actor, today = page.actor, page.today()
    scope = None if actor.team_lead else (actor.consultant_id or "")
    term = search_term(q)
    if term is not None:
        candidates = await page.ctx.cases.with_term(term, scope)
    elif scope == "":
        candidates = []
    else:
        candidates = await page.ctx.cases.open_cases(scope)
    filters = CaseFilters(
        status=status or None,
        consultant_id=(konsulent or None) if actor.team_lead else None,
        need=behov or None,
        door=kanal or None,
        overdue=overskredet,
        waiting_for_department=afventer,
        late_answer=forsinket,
    )
    found = search_page(candidates, filters, today, page=side)
    chosen = {
        "q": q,
        "status": status,
        "behov": behov,
        "kanal": kanal,
        "konsulent": konsulent,
        "overskredet": "1" if overskredet else "",
        "afventer": "1" if afventer else "",
        "forsinket": "1" if forsinket else "",
    }
    return page.render(
        "console/search.html",
        nav="search",
        found=found,
        chosen=chosen,
        query=urlencode({k: v for k, v in chosen.items() if v}),
        team=page.team,
        deadline=deadline,
        statuses=list(CaseStatus),
        needs=list(Need),
        doors=list(InquiryChannel),
    )


@router.get("/sager/{case_id}")
async def case_page(case_id: str, page: Page = Depends(staff_page)) -> Response:
    ctx, actor = page.ctx, page.actor
    try:
        case = await ctx.case(case_id)
        actor.check_may_work_on(case)
    except RoutingError as exc:
        return page.error(exc)
    today = page.today()
    recommendations = await page.use.casework.guide.recommendations(case_id)
    return page.render(
        "console/case.html",
        nav="mine" if actor.owns(case) else "all",
        case=case,
        team=page.team,
        owner_on_team=page.team.get(case["consultant"]["id"]) is not None,
        providers=list((await ctx.providers.all()).values()),
        actions={a.value for a in views.allowed_actions(case)},
        is_open=case["status"] in OPEN,
        recommendations=recommendations,
        default_due=add_working_days(today, REFERRAL_DAYS).isoformat(),
        needs=list(Need),
        departments=list(Department),
        channels=list(ContactChannel),
        notes=list(reversed(case.get("notes", []))),
        late_ids={r["id"] for r in late_referrals(case, today)},
        can_write=contact_of(case) is not None,
        timeline=list(reversed(case.get("timeline", []))),
        # Social value (issue 14): the recordings, newest day first, and the RSV checklist.
        outcomes=sorted(
            case.get("outcomes") or [], key=lambda r: (r["occurred_on"], r["recorded_at"])
        )[::-1],
        outcome_totals=totals(case.get("outcomes") or []),
        outcome_summary=outcome_summary,
        employed=EMPLOYED,
        won=WON,
        new_outcome_id=str(uuid.uuid4()),  # a form sent twice records once
        criteria=CRITERIA,
        rsv_statuses=STATUS_NAMES,
        rsv={**blank_readiness(), **(case.get("rsv") or {})},
        rsv_met=met_count(case.get("rsv")),
        rsv_ready=is_ready((case.get("rsv") or blank_readiness())["criteria"]),
    )


# --- the team lead's lists ---------------------------------------------------------------


async def open_cases(page: Page, consultant_id: str | None = None) -> list[Case]:
    """Open cases, newest first (lists sort them by urgency)."""
    return newest_first(await page.ctx.cases.open_cases(consultant_id or None))


@lead.get("/sager")
async def all_cases(konsulent: str = "", page: Page = Depends(lead_page)) -> Response:
    return page.render(
        "console/all_cases.html",
        nav="all",
        cases=views.by_urgency(await open_cases(page, konsulent), page.today()),
        team=page.team,
        chosen=konsulent,
    )


@lead.get("/problemer")
async def problem_cases(page: Page = Depends(lead_page)) -> Response:
    return page.render(
        "console/problems.html",
        nav="problems",
        problems=views.problems(page.team, await open_cases(page), page.today()),
    )
