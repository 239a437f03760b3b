"""The team lead's team pages: workloads, adding and editing members, absences, moving a
member's open cases, removing a member."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from indgang_contracts.events import Need
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import NotFound
from indgang_routing.domain.team import Consultant
from indgang_routing.web import forms, views
from indgang_routing.web.common import staff, team_lead
from indgang_routing.web.console.cases import open_cases
from indgang_routing.web.console.pages import Page, lead_page

router = APIRouter(
    prefix="/teamleder",
    include_in_schema=False,
    dependencies=[Depends(staff), Depends(team_lead)],
)
TEAM = "/teamleder/team"


def member_url(consultant_id: str) -> str:
    return f"{TEAM}/{consultant_id}"


@router.get("/team")
async def team_page(page: Page = Depends(lead_page)) -> Response:
    cases = await open_cases(page)
    return page.render(
        "console/team.html",
        nav="team",
        team=page.team,
        workloads=views.workloads(page.team, cases, page.today()),
        totals=views.referral_totals(cases),  # of open cases: closed ones are history
        open_total=len(cases),
    )


def consultant_form(page: Page, member: Consultant | None) -> Response:
    return page.render(
        "console/consultant.html",
        nav="team",
        team=page.team,
        member=member,
        new=member is None,
        needs=list(Need),
        today=page.today(),
    )


@router.get("/team/ny")
async def new_consultant(page: Page = Depends(lead_page)) -> Response:
    return consultant_form(page, None)


@router.post("/team")
async def create_consultant(
    consultant_id: str = Form(""),
    form: forms.ConsultantForm = Depends(),
    page: Page = Depends(lead_page),
) -> Response:
    async def action(actor: Actor) -> None:
        member = form.consultant(consultant_id, page.ctx.settings.municipality_code)
        await page.use.team_admin.save(member, new=True)

    return await page.act(TEAM, action, f"{form.name} er tilføjet.")


@router.get("/team/{consultant_id}")
async def edit_consultant(consultant_id: str, page: Page = Depends(lead_page)) -> Response:
    member = page.team.get(consultant_id)
    if member is None:
        return page.error(NotFound(f"Konsulenten {consultant_id!r} er ikke på holdet."))
    return consultant_form(page, member)


@router.post("/team/{consultant_id}")
async def save_consultant(
    consultant_id: str,
    form: forms.ConsultantForm = Depends(),
    page: Page = Depends(lead_page),
) -> Response:
    async def action(actor: Actor) -> None:
        member = form.consultant(consultant_id, page.ctx.settings.municipality_code)
        await page.use.team_admin.save(member, new=False)

    return await page.act(member_url(consultant_id), action, "Ændringerne er gemt.")


@router.post("/team/{consultant_id}/fravaer")
async def add_absence(
    consultant_id: str,
    form: forms.AbsenceForm = Depends(),
    page: Page = Depends(lead_page),
) -> Response:
    return await page.act(
        member_url(consultant_id),
        lambda actor: page.use.team_admin.add_absence(consultant_id, *form.dates()),
        "Fraværet er registreret.",
    )


@router.post("/team/{consultant_id}/fravaer/slet")
async def remove_absence(
    consultant_id: str,
    form: forms.AbsenceForm = Depends(),
    page: Page = Depends(lead_page),
) -> Response:
    return await page.act(
        member_url(consultant_id),
        lambda actor: page.use.team_admin.remove_absence(consultant_id, *form.dates()),
        "Fraværet er slettet.",
    )


@router.post("/team/{consultant_id}/omfordel")
async def move_all(
    consultant_id: str, to: str = Form(""), page: Page = Depends(lead_page)
) -> Response:
    return await page.act(
        TEAM,
        lambda actor: page.use.team_admin.reassign_all(consultant_id, to or None, actor),
        lambda moved: f"{moved} åbne sager er flyttet.",
    )


@router.post("/team/{consultant_id}/fjern")
async def remove_consultant(
    consultant_id: str, to: str = Form(""), page: Page = Depends(lead_page)
) -> Response:
    return await page.act(
        TEAM,
        lambda actor: page.use.team_admin.remove(consultant_id, to or None, actor),
        lambda moved: f"Konsulenten er fjernet fra holdet; {moved} åbne sager er flyttet.",
    )
