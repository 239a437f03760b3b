"""The consultants' console: Danish, server-rendered on Det Fælles Designsystem, usable
without JavaScript.

Every page and form needs a staff session (`indgang_runtime.auth`: OpenID
Connect in production, the local users file for `make up`): role consultant for
the consultant's own cases, team_lead for everything under /teamleder and for
moving cases. A consultant sees and changes only their own cases; the team lead
all. Forms answer with a 303 back to the page and a message (flash) saying
what happened or what was wrong.

One module per page: `cases` (my cases, a case, the team lead's lists),
`actions` (the case page's forms, one table), `team`, `providers`; `pages` is
what they share (rendering, acting, the `Page` dependency) and `errors` turns a
refusal into a page. The routers are module-level; what they need is on
`app.state` (`console`: the use cases, `console_pages`: the templates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from indgang_routing.settings import RoutingSettings
from indgang_routing.web.common import Console
from indgang_routing.web.console import actions, cases, providers, team
from indgang_routing.web.console.errors import install_error_pages
from indgang_routing.web.console.pages import Templates, danish_date, danish_time
from indgang_runtime.auth import install_auth
from indgang_runtime.pages import Translations, mount_assets, page_templates

__all__ = ["Console", "install_console"]

_HERE = Path(__file__).resolve().parents[2]


def install_console(app: FastAPI, settings: RoutingSettings, console: Console) -> None:
    mount_assets(app)
    app.mount("/assets/routing", StaticFiles(directory=_HERE / "static"), name="routing")
    templates = page_templates(_HERE / "templates", municipality_name=settings.municipality_name)
    templates.env.filters["dato"] = danish_date
    templates.env.filters["tid"] = danish_time
    translations = Translations({})

    def page_context(request: Request) -> dict[str, Any]:
        return {"accessibility_statement_url": settings.accessibility_statement_url}

    app.state.console = console
    app.state.console_pages = Templates(templates, translations, page_context)
    install_auth(app, settings, templates, translations, page_context)
    for router in (cases.router, actions.router, cases.lead, team.router, providers.router):
        app.include_router(router)
    install_error_pages(app)
