"""The public pages "Hvad kan kommunen hjælpe med?": published external entries only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from indgang_guide.web.dependencies import CatalogueDep, SettingsDep
from indgang_guide.web.pages.rendering import not_found, redirect
from indgang_runtime.auth import current_user
from indgang_runtime.web import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    return redirect("/guide" if current_user(request) else "/hjaelp")


@router.get("/hjaelp")
async def public_help(request: Request, catalogue: CatalogueDep, settings: SettingsDep) -> Response:
    external = [e for e in catalogue.published() if e.audience == "external"]
    grouped = [
        (
            section,
            sorted((e for e in external if e.section is section.id), key=lambda e: e.title),
        )
        for section in catalogue.sections
    ]
    return render(
        request,
        "guide/help.html",
        {"grouped": grouped, "form_url": settings.intake_form_url, "unit": settings.unit},
    )


# The municipality's own public page for an external entry: mails that share guide
# entries link here (issue 13, point 7). Internal entries and drafts are 404.
@router.get("/hjaelp/{entry_id}")
async def public_entry(
    request: Request, entry_id: str, catalogue: CatalogueDep, settings: SettingsDep
) -> Response:
    stored = catalogue.get(entry_id)
    if stored is None or stored.entry.status != "published" or stored.entry.audience != "external":
        raise not_found()
    return render(
        request,
        "guide/help_entry.html",
        {"entry": stored.entry, "form_url": settings.intake_form_url, "unit": settings.unit},
    )
