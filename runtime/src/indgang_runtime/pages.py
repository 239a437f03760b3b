"""Server-rendered pages shared by the services: Det Fælles Designsystem, Danish first.

Pages work without JavaScript; DKFDS' script only enhances them. Templates are
Jinja2 with autoescaping on, so text from users is always shown as text.
Each service keeps its own page templates and translations; this module gives
them one base layout, the assets and the language choice; `indgang_runtime.web`
installs all of it in a service (`install_pages`) and shows a page (`render`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from indgang_runtime.local_time import danish_time

Language = Literal["da", "en"]
LANGUAGES: tuple[Language, ...] = ("da", "en")
_HERE = Path(__file__).parent


def dkfds_dir() -> Path:
    """Where `npm ci` put Det Fælles Designsystem (node_modules/dkfds/dist)."""
    if configured := os.environ.get("DKFDS_DIR"):
        return Path(configured)
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "node_modules" / "dkfds" / "dist"
        if candidate.is_dir():
            return candidate
    raise RuntimeError("node_modules/dkfds is missing: run `make sync` (npm ci)")


def mount_assets(app: FastAPI) -> None:
    app.mount("/assets/dkfds", StaticFiles(directory=dkfds_dir()), name="dkfds")
    app.mount("/assets/indgang", StaticFiles(directory=_HERE / "static"), name="indgang")


def language(request: Request) -> Language:
    """`?lang=en` switches and is remembered in a cookie; Danish is the default."""
    for value in (request.query_params.get("lang"), request.cookies.get("lang")):
        if value in LANGUAGES:
            return value
    return "da"


BASE_TEXTS: dict[str, dict[str, str]] = {
    "site.name": {"da": "Én indgang for socialøkonomi", "en": "One entrance for social economy"},
    "site.skip": {"da": "Gå til indhold", "en": "Skip to content"},
    "site.language": {"da": "Sprog", "en": "Language"},
    "site.accessibility": {"da": "Tilgængelighedserklæring", "en": "Accessibility statement"},
    "auth.title": {"da": "Log ind", "en": "Log in"},
    "auth.user": {"da": "Brugernavn", "en": "User name"},
    "auth.password": {"da": "Adgangskode", "en": "Password"},
    "auth.submit": {"da": "Log ind", "en": "Log in"},
    "auth.failed": {
        "da": "Brugernavn eller adgangskode er forkert.",
        "en": "The user name or password is wrong.",
    },
    "auth.logout": {"da": "Log ud", "en": "Log out"},
}


class Translations:
    """Texts per key and language; a missing English text falls back to Danish.

    The service's texts are added to the shared ones (layout, login)."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = {**BASE_TEXTS, **texts}

    def gettext(self, lang: Language) -> Callable[[str], str]:
        def t(key: str) -> str:
            entry = self._texts.get(key)
            if entry is None:
                return key
            return entry.get(lang) or entry.get("da") or key

        return t


def page_templates(directory: Path, **globals_: Any) -> Jinja2Templates:
    """The service's templates first, then the shared layout (`indgang/base.html`)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(directory), FileSystemLoader(_HERE / "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.globals.update(globals_)
    # Times on pages are Danish local time (issue 13, point 11).
    env.filters["local_time"] = danish_time
    return Jinja2Templates(env=env)


def remember_language(response: Any, request: Request) -> Any:
    """Keep an explicit `?lang=` choice for the next pages."""
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="lax")
    return response
