"""The staff pages: search the guide, read an entry, its history and an old version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from indgang_contracts.events import Need, OrganisationStage
from indgang_guide.adapters.store import GuideStore, StoredEntry
from indgang_guide.domain.entries import EntryKind, SectionId
from indgang_guide.domain.search import Filters
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.web.dependencies import CatalogueDep, StaffDep, StoreDep
from indgang_guide.web.pages.rendering import not_found
from indgang_runtime.auth import StaffUser
from indgang_runtime.web import render

router = APIRouter(include_in_schema=False)


def _choice(value: str | None, allowed: type[Any]) -> str | None:
    """A filter value from a query string, or None when empty or not a known code."""
    try:
        return allowed(value).value if value else None
    except ValueError:
        return None


@router.get("/guide")
async def search_page(
    request: Request,
    catalogue: CatalogueDep,
    user: StaffDep,
    q: str = "",
    section: str | None = None,
    need: str | None = None,
    stage: str | None = None,
    kind: str | None = None,
) -> Response:
    chosen = {
        "section": _choice(section, SectionId),
        "need": _choice(need, Need),
        "stage": _choice(stage, OrganisationStage),
        "kind": _choice(kind, EntryKind),
    }
    hits = catalogue.search(q[:200], Filters(**chosen), limit=50)
    return render(request, "guide/search.html", {"q": q[:200], "chosen": chosen, "hits": hits})


def _readable(catalogue: Catalogue, entry_id: str, user: StaffUser) -> StoredEntry:
    """A published entry, or a draft for editors; otherwise not found."""
    stored = catalogue.get(entry_id)
    if stored is None or (stored.entry.status != "published" and not user.has_any("guide_editor")):
        raise not_found()
    return stored


async def _with_history(
    catalogue: Catalogue, store: GuideStore, entry_id: str, user: StaffUser
) -> StoredEntry | None:
    """The readable entry with its history, from the store."""
    _readable(catalogue, entry_id, user)
    return await store.get(entry_id)


@router.get("/guide/entries/{entry_id}")
async def entry_page(
    request: Request, entry_id: str, catalogue: CatalogueDep, user: StaffDep
) -> Response:
    stored = _readable(catalogue, entry_id, user)
    return render(request, "guide/entry.html", {"stored": stored, "entry": stored.entry})


@router.get("/guide/entries/{entry_id}/versions")
async def history_page(
    request: Request, entry_id: str, catalogue: CatalogueDep, store: StoreDep, user: StaffDep
) -> Response:
    stored = await _with_history(catalogue, store, entry_id, user)
    assert stored is not None
    return render(request, "guide/history.html", {"stored": stored})


@router.get("/guide/entries/{entry_id}/versions/{number}")
async def version_page(
    request: Request,
    entry_id: str,
    number: int,
    catalogue: CatalogueDep,
    store: StoreDep,
    user: StaffDep,
) -> Response:
    stored = await _with_history(catalogue, store, entry_id, user)
    version = stored.at_version(number) if stored else None
    if stored is None or version is None:
        raise not_found()
    return render(
        request,
        "guide/version.html",
        {"stored": stored, "version": version, "entry": version.content},
    )
