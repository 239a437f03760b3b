"""The team lead's list of outside providers: the list, editing one, saving, removing."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from indgang_contracts.events import Need
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import NotFound
from indgang_routing.web import forms
from indgang_routing.web.common import staff, team_lead
from indgang_routing.web.console.pages import Page, lead_page

router = APIRouter(
    prefix="/teamleder",
    include_in_schema=False,
    dependencies=[Depends(staff), Depends(team_lead)],
)
PROVIDERS = "/teamleder/udbydere"


@router.get("/udbydere")
async def providers_page(page: Page = Depends(lead_page)) -> Response:
    return page.render(
        "console/providers.html",
        nav="providers",
        providers=list((await page.ctx.providers.all()).values()),
        provider=None,
        needs=list(Need),
    )


@router.get("/udbydere/{provider_id}")
async def edit_provider(provider_id: str, page: Page = Depends(lead_page)) -> Response:
    provider = (await page.ctx.providers.all()).get(provider_id)
    if provider is None:
        return page.error(NotFound(f"Udbyderen {provider_id!r} er ikke på listen."))
    return page.render(
        "console/providers.html",
        nav="providers",
        providers=[],
        provider=provider,
        needs=list(Need),
    )


@router.post("/udbydere")
async def save_provider(
    provider_id: str = Form(""),
    name: str = Form(""),
    email: str = Form(""),
    phone: str = Form(""),
    description: str = Form(""),
    needs: list[str] = Form([]),
    page: Page = Depends(lead_page),
) -> Response:
    async def action(actor: Actor) -> None:
        provider = forms.parse_provider(
            provider_id=provider_id,
            name=name,
            email=email,
            phone=phone,
            description=description,
            needs=needs,
        )
        await page.use.team_admin.save_provider(provider)

    return await page.act(PROVIDERS, action, "Udbyderen er gemt.")


@router.post("/udbydere/{provider_id}/slet")
async def remove_provider(provider_id: str, page: Page = Depends(lead_page)) -> Response:
    return await page.act(
        PROVIDERS,
        lambda actor: page.use.team_admin.remove_provider(provider_id),
        "Udbyderen er fjernet fra listen.",
    )
