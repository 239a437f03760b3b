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
`app.state` (`console`: the use cases, `pages`: the templates, `indgang_runtime.web`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from indgang_routing.settings import RoutingSettings
from indgang_routing.web.common import Console
from indgang_routing.web.console import actions, cases, providers, team
from indgang_routing.web.console.errors import install_error_pages
from indgang_routing.web.console.pages import danish_date, danish_time, local_iso_day
from indgang_runtime.pages import Translations
from indgang_runtime.phone import danish_phone
from indgang_runtime.web import install_pages

__all__ = ["Console", "install_console"]

_HERE = Path(__file__).resolve().parents[2]


def install_console(app: FastAPI, settings: RoutingSettings, console: Console) -> None:
    app.state.console = console
    install_pages(
        app,
        settings,
        _HERE / "templates",
        Translations({}),
        filters={
            "dato": danish_date,
            "tid": danish_time,
            "dag": local_iso_day,
            "telefon": danish_phone,
        },
        staff=True,
        choose_language=False,  # the console is in Danish
    )
    app.mount("/assets/routing", StaticFiles(directory=_HERE / "static"), name="routing")
    for router in (cases.router, actions.router, cases.lead, team.router, providers.router):
        app.include_router(router)
    install_error_pages(app)
