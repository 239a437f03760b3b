"""What the HTTP modules need, read from `app.state` where `create_app` put it.

The routers are module-level; a route asks for a part with one of the annotated
types below (`catalogue: CatalogueDep`), and the role checks are the same
annotated way (`user: EditorDep`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from indgang_guide.adapters.store import GuideStore
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import Editing
from indgang_guide.settings import GuideSettings
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.pages import Translations

STAFF = ("consultant", "team_lead", "guide_editor")


@dataclass(frozen=True)
class GuideWeb:
    """The guide's parts the pages and the API use; `create_app` sets it as `app.state.guide`."""

    settings: GuideSettings
    store: GuideStore
    catalogue: Catalogue
    editing: Editing
    templates: Jinja2Templates
    translations: Translations
    page_context: Callable[[Request], dict[str, Any]]  # what every page shows (the layout's)


def guide_web(request: Request) -> GuideWeb:
    web: GuideWeb = request.app.state.guide
    return web


# Coroutines, so that reading app.state takes no trip to a worker thread.
async def _settings(request: Request) -> GuideSettings:
    return guide_web(request).settings


async def _store(request: Request) -> GuideStore:
    return guide_web(request).store


async def _catalogue(request: Request) -> Catalogue:
    return guide_web(request).catalogue


async def _editing(request: Request) -> Editing:
    return guide_web(request).editing


SettingsDep = Annotated[GuideSettings, Depends(_settings)]
StoreDep = Annotated[GuideStore, Depends(_store)]
CatalogueDep = Annotated[Catalogue, Depends(_catalogue)]
EditingDep = Annotated[Editing, Depends(_editing)]
StaffDep = Annotated[StaffUser, Depends(require_roles(*STAFF))]
EditorDep = Annotated[StaffUser, Depends(require_roles("guide_editor"))]
