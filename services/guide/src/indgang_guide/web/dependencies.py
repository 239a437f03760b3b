"""What the HTTP modules need, read from `app.state` where `create_app` put it.

The routers are module-level; a route asks for a part with one of the annotated
types below (`catalogue: CatalogueDep`, `indgang_runtime.web.from_state`), and the
role checks are the same annotated way (`user: EditorDep`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from indgang_guide.adapters.store import GuideStore
from indgang_guide.handlers.catalogue import Catalogue
from indgang_guide.handlers.editing import Editing
from indgang_guide.settings import GuideSettings
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.web import from_state

STAFF = ("consultant", "team_lead", "guide_editor")


SettingsDep = Annotated[GuideSettings, Depends(from_state("settings", GuideSettings))]
StoreDep = Annotated[GuideStore, Depends(from_state("store", GuideStore))]
CatalogueDep = Annotated[Catalogue, Depends(from_state("catalogue", Catalogue))]
EditingDep = Annotated[Editing, Depends(from_state("editing", Editing))]
StaffDep = Annotated[StaffUser, Depends(require_roles(*STAFF))]
EditorDep = Annotated[StaffUser, Depends(require_roles("guide_editor"))]
